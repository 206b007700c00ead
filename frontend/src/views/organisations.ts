import {
  api,
  ORGANISATION_KINDS,
  ORGANISATION_STATUSES,
  type Organisation,
  type OrganisationKind,
  type OrganisationStatus,
  type NewOrganisation,
} from '../api';
import { announce, badge, capitalise, clear, errorPanel, field, FormController, h, timeElement, uid } from '../dom';
import type { View } from '../router';

function statusTone(status: OrganisationStatus): 'good' | 'warn' | 'bad' {
  return status === 'active' ? 'good' : status === 'suspended' ? 'warn' : 'bad';
}

export function parseCountries(input: string): string[] {
  return input
    .split(',')
    .map((c) => c.trim())
    .filter((c) => c.length > 0);
}

function statusControl(org: Organisation, onChanged: (org: Organisation) => void): HTMLElement {
  const id = uid('status');
  const select = h(
    'select',
    { id, name: 'status' },
    ORGANISATION_STATUSES.map((s) => h('option', { value: s, selected: s === org.status }, capitalise(s))),
  );
  select.value = org.status;
  const apply = h('button', { type: 'submit', class: 'button small' }, 'Change');
  apply.setAttribute('aria-label', `Change status of ${org.name}`);
  const form = h(
    'form',
    {
      class: 'inline-form',
      onsubmit: async (event: Event) => {
        event.preventDefault();
        const status = select.value as OrganisationStatus;
        if (status === org.status) {
          announce(`${org.name} is already ${status}.`);
          return;
        }
        apply.disabled = true;
        try {
          const updated = await api.updateOrganisation(org.id, { status });
          announce(`${updated.name} is now ${updated.status}.`);
          onChanged(updated);
        } catch (err) {
          select.value = org.status;
          announce(`Could not change the status of ${org.name}: ${err instanceof Error ? err.message : 'error'}`);
        } finally {
          apply.disabled = false;
        }
      },
    },
    h('label', { for: id, class: 'visually-hidden' }, `Status of ${org.name}`),
    select,
    apply,
  );
  return form;
}

function organisationsTable(orgs: Organisation[], onChanged: (org: Organisation) => void): HTMLElement {
  if (orgs.length === 0) return h('p', null, 'No organisations yet.');
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'data-table' },
      h('caption', { class: 'visually-hidden' }, 'Organisations'),
      h('thead', null, h('tr', null,
        h('th', { scope: 'col' }, 'Name'),
        h('th', { scope: 'col' }, 'Code'),
        h('th', { scope: 'col' }, 'Kind'),
        h('th', { scope: 'col' }, 'Status'),
        h('th', { scope: 'col' }, 'Admitted on'),
        h('th', { scope: 'col' }, 'Countries'),
        h('th', { scope: 'col' }, 'Change status'),
      )),
      h('tbody', null, orgs.map((org) =>
        h('tr', null,
          h('th', { scope: 'row' }, org.name),
          h('td', null, h('code', null, org.short_code)),
          h('td', null, capitalise(org.kind)),
          h('td', null, badge(capitalise(org.status), statusTone(org.status))),
          h('td', null, timeElement(org.admitted_on, true)),
          h('td', null, org.countries.length ? org.countries.join(', ') : '—'),
          h('td', null, statusControl(org, onChanged)),
        ),
      )),
    ),
  );
}

export const organisationsView: View = {
  title: 'Organisations',
  access: 'admin',
  async render(main, { isCurrent }) {
    const listHolder = h('div', null, h('p', { class: 'muted' }, 'Loading organisations…'));
    let orgs: Organisation[] = [];

    const draw = () => {
      clear(listHolder);
      listHolder.append(organisationsTable(orgs, (updated) => {
        orgs = orgs.map((o) => (o.id === updated.id ? updated : o));
        draw();
      }));
    };
    const reload = async () => {
      try {
        orgs = await api.allOrganisations();
        if (!isCurrent()) return;
        draw();
      } catch (err) {
        if (!isCurrent()) return;
        clear(listHolder);
        listHolder.append(errorPanel(err));
      }
    };

    const form = new FormController({ 'aria-labelledby': 'new-org-title' })
      .add(
        field({
          label: 'Kind',
          name: 'kind',
          required: true,
          options: ORGANISATION_KINDS.map((k) => ({ value: k, label: capitalise(k) })),
          value: 'participant',
        }),
        field({ label: 'Name', name: 'name', required: true, autocomplete: 'off', hint: 'For example: Botswana, or European Union.' }),
        field({
          label: 'Short code',
          name: 'short_code',
          required: true,
          autocomplete: 'off',
          maxlength: 16,
          hint: 'A short unique code, for example BW or EU.',
        }),
        field({ label: 'Admission date', name: 'admitted_on', type: 'date' }),
        field({
          label: 'Countries',
          name: 'countries',
          autocomplete: 'off',
          hint: 'Comma-separated, for example: Botswana, Namibia.',
        }),
      )
      .submit('Create organisation');

    form.onSubmit(async () => {
      const body: NewOrganisation = {
        kind: form.value('kind') as OrganisationKind,
        name: form.value('name'),
        short_code: form.value('short_code'),
      };
      let invalid = false;
      if (!body.name) {
        form.fieldError('name', 'Enter a name.');
        invalid = true;
      }
      if (!body.short_code) {
        form.fieldError('short_code', 'Enter a short code.');
        invalid = true;
      }
      if (invalid) {
        form.focusFirstError();
        return;
      }
      const admitted = form.value('admitted_on');
      if (admitted) body.admitted_on = admitted;
      const countries = parseCountries(form.value('countries'));
      if (countries.length) body.countries = countries;
      const created = await api.createOrganisation(body);
      announce(`Organisation ${created.name} created.`);
      form.form.reset();
      (form.get('kind').control as HTMLSelectElement).value = 'participant';
      await reload();
    });

    main.append(
      h('h1', null, 'Organisations'),
      h('section', { class: 'panel', 'aria-labelledby': 'org-list-title' }, h('h2', { id: 'org-list-title' }, 'All organisations'), listHolder),
      h('section', { class: 'panel', 'aria-labelledby': 'new-org-title' }, h('h2', { id: 'new-org-title' }, 'New organisation'), form.form),
    );
    await reload();
  },
};
