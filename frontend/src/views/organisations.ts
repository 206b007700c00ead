import { h } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import {
  api,
  ORGANISATION_KINDS,
  ORGANISATION_STATUSES,
  type NewOrganisation,
  type Organisation,
  type OrganisationKind,
  type OrganisationStatus,
} from '../api';
import { announce } from '../status';
import { Badge, ErrorPanel, Loading, PageHeading, Time, type Tone } from '../ui/common';
import { capitalise } from '../ui/format';
import { Field, Form, useForm, type FormValues } from '../ui/forms';
import { isAbort, useResource, useUnmountSignal } from '../ui/hooks';

function statusTone(status: OrganisationStatus): Tone {
  return status === 'active' ? 'good' : status === 'suspended' ? 'warn' : 'bad';
}

export function parseCountries(input: string): string[] {
  return input
    .split(',')
    .map((c) => c.trim())
    .filter((c) => c.length > 0);
}

/** Change one organisation's status in place; the row (and the focus in it) stays. */
function StatusControl({ org, onChanged }: { org: Organisation; onChanged: (org: Organisation) => void }) {
  const signal = useUnmountSignal();
  const [choice, setChoice] = useState<OrganisationStatus>(org.status);
  const [busy, setBusy] = useState(false);
  useEffect(() => setChoice(org.status), [org.status]);
  const id = `status-${org.id}`;

  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    if (busy) return;
    if (choice === org.status) {
      announce(`${org.name} is already ${choice}.`);
      return;
    }
    setBusy(true);
    try {
      const updated = await api.updateOrganisation(org.id, { status: choice }, signal);
      announce(`${updated.name} is now ${updated.status}.`);
      onChanged(updated);
    } catch (err) {
      if (isAbort(err)) return;
      setChoice(org.status);
      announce(`Could not change the status of ${org.name}: ${err instanceof Error ? err.message : 'error'}`);
    } finally {
      if (!signal.aborted) setBusy(false);
    }
  };

  return h(
    'form',
    { class: 'inline-form', onSubmit: submit },
    h('label', { for: id, class: 'visually-hidden' }, `Status of ${org.name}`),
    h(
      'select',
      {
        id,
        name: 'status',
        value: choice,
        onChange: (e: Event) => setChoice((e.currentTarget as HTMLSelectElement).value as OrganisationStatus),
      },
      ORGANISATION_STATUSES.map((s) => h('option', { key: s, value: s }, capitalise(s))),
    ),
    // aria-disabled rather than disabled: a disabled button would drop the keyboard focus.
    h(
      'button',
      { type: 'submit', class: 'button small', 'aria-disabled': busy ? 'true' : undefined, 'aria-label': `Change status of ${org.name}` },
      'Change',
    ),
  );
}

function OrganisationsTable({ orgs, onChanged }: { orgs: Organisation[]; onChanged: (org: Organisation) => void }) {
  if (orgs.length === 0) return h('p', null, 'No organisations yet.');
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'data-table' },
      h('caption', { class: 'visually-hidden' }, 'Organisations'),
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          h('th', { scope: 'col' }, 'Name'),
          h('th', { scope: 'col' }, 'Code'),
          h('th', { scope: 'col' }, 'Kind'),
          h('th', { scope: 'col' }, 'Status'),
          h('th', { scope: 'col' }, 'Admitted on'),
          h('th', { scope: 'col' }, 'Countries'),
          h('th', { scope: 'col' }, 'Change status'),
        ),
      ),
      h(
        'tbody',
        null,
        orgs.map((org) =>
          h(
            'tr',
            { key: org.id },
            h('th', { scope: 'row' }, org.name),
            h('td', null, h('code', null, org.short_code)),
            h('td', null, capitalise(org.kind)),
            h('td', null, h(Badge, { tone: statusTone(org.status) }, capitalise(org.status))),
            h('td', null, h(Time, { iso: org.admitted_on, dateOnly: true })),
            h('td', null, org.countries.length ? org.countries.join(', ') : '—'),
            h('td', null, h(StatusControl, { org, onChanged })),
          ),
        ),
      ),
    ),
  );
}

function NewOrganisationForm({ onCreated }: { onCreated: () => void }) {
  const form = useForm();
  const signal = useUnmountSignal();
  const submit = async (values: FormValues) => {
    const body: NewOrganisation = {
      kind: values.get('kind') as OrganisationKind,
      name: values.get('name'),
      short_code: values.get('short_code'),
    };
    if (!body.name) form.fieldError('name', 'Enter a name.');
    if (!body.short_code) form.fieldError('short_code', 'Enter a short code.');
    if (!body.name || !body.short_code) {
      form.focusFirstError();
      return;
    }
    const admitted = values.get('admitted_on');
    if (admitted) body.admitted_on = admitted;
    const countries = parseCountries(values.get('countries'));
    if (countries.length) body.countries = countries;
    const created = await api.createOrganisation(body, signal);
    announce(`Organisation ${created.name} created.`);
    form.reset();
    onCreated();
  };
  return h(
    Form,
    { form, labelledBy: 'new-org-title', submitLabel: 'Create organisation', onSubmit: submit },
    h(Field, {
      form,
      label: 'Kind',
      name: 'kind',
      required: true,
      // The first option is the default.
      options: ORGANISATION_KINDS.map((k) => ({ value: k, label: capitalise(k) })),
    }),
    h(Field, { form, label: 'Name', name: 'name', required: true, autocomplete: 'off', hint: 'For example: Botswana, or European Union.' }),
    h(Field, {
      form,
      label: 'Short code',
      name: 'short_code',
      required: true,
      autocomplete: 'off',
      maxLength: 16,
      hint: 'A short unique code, for example BW or EU.',
    }),
    h(Field, { form, label: 'Admission date', name: 'admitted_on', type: 'date' }),
    h(Field, { form, label: 'Countries', name: 'countries', autocomplete: 'off', hint: 'Comma-separated, for example: Botswana, Namibia.' }),
  );
}

export function OrganisationsView() {
  const orgs = useResource((signal) => api.allOrganisations(signal), []);
  const onChanged = (updated: Organisation) => orgs.update((all) => all.map((o) => (o.id === updated.id ? updated : o)));
  const state = orgs.state;
  return h(
    'div',
    null,
    h(PageHeading, null, 'Organisations'),
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'org-list-title' },
      h('h2', { id: 'org-list-title' }, 'All organisations'),
      state.status === 'loading'
        ? h(Loading, null, 'Loading organisations…')
        : state.status === 'error'
          ? h(ErrorPanel, { error: state.error })
          : h(OrganisationsTable, { orgs: state.value, onChanged }),
    ),
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'new-org-title' },
      h('h2', { id: 'new-org-title' }, 'New organisation'),
      h(NewOrganisationForm, { onCreated: orgs.reload }),
    ),
  );
}
