// The forms of a body's page, for those who manage it (body.can_manage): its members, its
// chairmanship terms, and the body itself. The server's 422 field errors appear beside the fields.
import { h } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import {
  api,
  OFFICES,
  type BodySummary,
  type BodyUpdate,
  type Id,
  type NewTerm,
  type Office,
  type Organisation,
  type OrganisationRef,
  type PlenumBody,
  type RotationRule,
  type Term,
  type TermUpdate,
} from '../api';
import { announce } from '../status';
import { ErrorPanel, Loading } from '../ui/common';
import { formatDate } from '../ui/format';
import { Checkbox, Field, Form, useForm, type FormState } from '../ui/forms';
import { useResource, useUnmountSignal } from '../ui/hooks';
import { ROTATION_OPTIONS, wholeNumber } from './bodies';
import { officeLabel, orgName } from './body-common';

function byName(a: { name: string }, b: { name: string }): number {
  return a.name.localeCompare(b.name);
}

function useOrganisations() {
  return useResource((signal) => api.allOrganisations(signal), []);
}

/** The organisations a term may go to: the body's members, or every organisation while it has none. */
function termCandidates(body: PlenumBody, all: Organisation[] | null, also?: OrganisationRef): OrganisationRef[] {
  const list: OrganisationRef[] = body.members?.length ? body.members.map((m) => m.organisation) : (all ?? []);
  const out = [...list];
  if (also && !out.some((o) => o.id === also.id)) out.push(also);
  return out.sort(byName);
}

/** The delegates of one organisation, to name the person who holds a term (optional). */
function PersonField({ form, orgId, value }: { form: FormState; orgId: string; value?: string }) {
  const users = useResource((signal) => (orgId ? api.allUsers(Number(orgId), signal) : Promise.resolve([])), [orgId]);
  const state = users.state;
  const people = state.status === 'ready' ? state.value.filter((u) => !u.disabled || String(u.id) === value) : [];
  const hint = !orgId
    ? 'Choose the organisation first.'
    : state.status === 'loading'
      ? 'Loading the delegates…'
      : state.status === 'error'
        ? 'The delegates could not be listed; the term can be saved without a name.'
        : 'A delegate of the organisation, if one is named.';
  return h(Field, {
    key: `${orgId}-${state.status}`,
    form,
    label: 'Person',
    name: 'person_user_id',
    value,
    hint,
    options: [{ value: '', label: 'No one named' }, ...people.map((u) => ({ value: String(u.id), label: u.display_name }))],
  });
}

// ---------------------------------------------------------------------------
// Members

export function MemberForm({
  body,
  initialOrg,
  focusOnMount,
  onSaved,
}: {
  body: PlenumBody;
  initialOrg: Id | null;
  focusOnMount: boolean;
  onSaved: () => void;
}) {
  const form = useForm();
  const signal = useUnmountSignal();
  const orgs = useOrganisations();
  const initial = initialOrg === null ? '' : String(initialOrg);
  const [orgId, setOrgId] = useState(initial);
  const member = body.members.find((m) => String(m.organisation.id) === orgId);
  const ready = orgs.state.status === 'ready';

  useEffect(() => {
    if (focusOnMount && ready) form.element?.querySelector<HTMLElement>('[name="organisation_id"]')?.focus();
  }, [ready]);

  if (orgs.state.status === 'loading') return h(Loading, null, 'Loading organisations…');
  if (orgs.state.status === 'error') return h(ErrorPanel, { error: orgs.state.error });
  const all = [...orgs.state.value].sort(byName);
  const memberIds = new Set(body.members.map((m) => m.organisation.id));

  return h(
    Form,
    {
      form,
      labelledBy: 'member-form-title',
      submitLabel: member ? 'Save membership' : 'Add member',
      onSubmit: async (values) => {
        const id = values.get('organisation_id');
        if (!id) {
          form.fieldError('organisation_id', 'Choose an organisation.');
          form.focusFirstError();
          return;
        }
        const since = values.get('since');
        const until = values.get('until');
        const saved = await api.putMember(
          body.id,
          Number(id),
          { since: since || undefined, until: until || null, provisional: values.checked('provisional') },
          signal,
        );
        announce(memberIds.has(Number(id)) ? `Membership of ${saved.organisation.name} changed.` : `${saved.organisation.name} is now a member.`);
        form.reset();
        setOrgId(initial);
        onSaved();
      },
    },
    h(Field, {
      form,
      label: 'Organisation',
      name: 'organisation_id',
      required: true,
      value: initial,
      onValue: setOrgId,
      options: [
        { value: '', label: 'Choose an organisation…' },
        ...all.map((o) => ({ value: String(o.id), label: `${orgName(o)}${memberIds.has(o.id) ? ' — member' : ''}` })),
      ],
    }),
    // Keyed by the organisation: choosing a member shows its dates.
    h(Field, { key: `since-${orgId}`, form, label: 'Member since', name: 'since', type: 'date', value: member?.since, hint: 'Default: today.' }),
    h(Field, { key: `until-${orgId}`, form, label: 'Member until', name: 'until', type: 'date', value: member?.until ?? undefined }),
    h(Checkbox, {
      key: `prov-${orgId}`,
      form,
      label: 'Provisional member',
      name: 'provisional',
      checked: member?.provisional ?? false,
    }),
  );
}

// ---------------------------------------------------------------------------
// Terms

const NEW_TERM_ORIGINS = [
  { value: 'selected', label: 'Selected' },
  { value: 'interim', label: 'Interim' },
];

export function AddTermForm({ body, onSaved }: { body: PlenumBody; onSaved: () => void }) {
  const form = useForm();
  const signal = useUnmountSignal();
  const needAll = !body.members?.length;
  const orgs = useResource((s) => (needAll ? api.allOrganisations(s) : Promise.resolve(null)), [needAll]);
  const [orgId, setOrgId] = useState('');
  const candidates = termCandidates(body, orgs.state.status === 'ready' ? orgs.state.value : null);
  return h(
    Form,
    {
      form,
      labelledBy: 'add-term-title',
      submitLabel: 'Add term',
      onSubmit: async (values) => {
        const organisation = values.get('organisation_id');
        const startsOn = values.get('starts_on');
        if (!organisation) form.fieldError('organisation_id', 'Choose an organisation.');
        if (!startsOn) form.fieldError('starts_on', 'Enter the first day of the term.');
        if (!organisation || !startsOn) {
          form.focusFirstError();
          return;
        }
        const term: NewTerm = {
          office: values.get('office') as Office,
          organisation_id: Number(organisation),
          starts_on: startsOn,
          origin: values.get('origin') as NewTerm['origin'],
        };
        const person = values.get('person_user_id');
        if (person) term.person_user_id = Number(person);
        const endsOn = values.get('ends_on');
        if (endsOn) term.ends_on = endsOn;
        const note = values.get('note');
        if (note) term.note = note;
        const created = await api.createTerm(body.id, term, signal);
        announce(
          `${officeLabel(created.office)} term of ${created.organisation.name} added, ${formatDate(created.starts_on)} to ${formatDate(created.ends_on)}.`,
        );
        form.reset();
        setOrgId('');
        onSaved();
      },
    },
    h(Field, { form, label: 'Office', name: 'office', required: true, options: OFFICES.map((o) => ({ value: o, label: officeLabel(o) })) }),
    h(Field, {
      form,
      label: 'Organisation',
      name: 'organisation_id',
      required: true,
      onValue: setOrgId,
      hint: needAll ? undefined : 'The members of this body.',
      options: [{ value: '', label: 'Choose an organisation…' }, ...candidates.map((o) => ({ value: String(o.id), label: orgName(o) }))],
    }),
    h(PersonField, { form, orgId }),
    h(Field, { form, label: 'Starts on', name: 'starts_on', type: 'date', required: true }),
    h(Field, {
      form,
      label: 'Ends on',
      name: 'ends_on',
      type: 'date',
      hint: `The last day of the term. Default: ${body.rotation.term_months} months after it starts.`,
    }),
    h(Field, { form, label: 'Origin', name: 'origin', options: NEW_TERM_ORIGINS }),
    h(Field, { form, label: 'Note', name: 'note', rows: 2, maxLength: 2000 }),
  );
}

function termLabel(t: Term): string {
  const status = t.cancelled ? ' (cancelled)' : '';
  return `${officeLabel(t.office)} · ${t.organisation.short_code} · ${formatDate(t.starts_on)} – ${formatDate(t.ends_on)}${status}`;
}

export function ChangeTermForm({ body, terms, onSaved }: { body: PlenumBody; terms: Term[]; onSaved: () => void }) {
  const form = useForm();
  const signal = useUnmountSignal();
  const [termId, setTermId] = useState('');
  const sorted = useMemo(() => [...terms].sort((a, b) => (a.starts_on < b.starts_on ? 1 : a.starts_on > b.starts_on ? -1 : b.id - a.id)), [terms]);
  const term = sorted.find((t) => String(t.id) === termId);
  const [orgId, setOrgId] = useState('');
  // A newly chosen term starts from its own organisation.
  useEffect(() => setOrgId(term ? String(term.organisation.id) : ''), [termId]);
  const candidates = termCandidates(body, null, term?.organisation);
  const k = (name: string) => `${name}-${termId}`;

  return h(
    Form,
    {
      form,
      labelledBy: 'change-term-title',
      submitLabel: 'Change term',
      onSubmit: async (values) => {
        if (!term) {
          form.fieldError('term', 'Choose the term to change.');
          form.focusFirstError();
          return;
        }
        const reason = values.get('reason');
        if (!reason) {
          form.fieldError('reason', 'Give the reason for the change.');
          form.focusFirstError();
          return;
        }
        const patch: TermUpdate = { reason };
        const startsOn = values.get('starts_on');
        const endsOn = values.get('ends_on');
        const organisation = values.get('organisation_id');
        const person = values.get('person_user_id');
        const note = values.get('note');
        const cancelled = values.checked('cancelled');
        if (startsOn !== term.starts_on) patch.starts_on = startsOn;
        if (endsOn !== term.ends_on) patch.ends_on = endsOn;
        if (organisation && organisation !== String(term.organisation.id)) patch.organisation_id = Number(organisation);
        const personBefore = term.person ? String(term.person.id) : '';
        if (person !== personBefore || patch.organisation_id !== undefined) patch.person_user_id = person ? Number(person) : null;
        if (note !== (term.note ?? '')) patch.note = note;
        if (cancelled !== term.cancelled) patch.cancelled = cancelled;
        if (Object.keys(patch).length === 1) {
          form.formError('Nothing was changed: change a date, the organisation, the person, the note, or cancel the term.');
          form.focusFirstError();
          return;
        }
        const saved = await api.updateTerm(term.id, patch, signal);
        announce(`${officeLabel(saved.office)} term of ${saved.organisation.name} changed${saved.cancelled ? ' (cancelled)' : ''}.`);
        form.reset();
        setTermId('');
        onSaved();
      },
    },
    h(Field, {
      form,
      label: 'Term',
      name: 'term',
      required: true,
      onValue: setTermId,
      hint: 'Newest first.',
      options: [{ value: '', label: 'Choose a term…' }, ...sorted.map((t) => ({ value: String(t.id), label: termLabel(t) }))],
    }),
    h(Field, { key: k('starts'), form, label: 'Starts on', name: 'starts_on', type: 'date', value: term?.starts_on }),
    h(Field, {
      key: k('ends'),
      form,
      label: 'Ends on',
      name: 'ends_on',
      type: 'date',
      value: term?.ends_on,
      hint: 'To extend or shorten the term, change its last day.',
    }),
    h(Field, {
      key: k('org'),
      form,
      label: 'Organisation',
      name: 'organisation_id',
      value: term ? String(term.organisation.id) : '',
      onValue: setOrgId,
      options: [{ value: '', label: term ? 'Unchanged' : 'Choose a term first' }, ...candidates.map((o) => ({ value: String(o.id), label: orgName(o) }))],
    }),
    h(PersonField, {
      key: k('person'),
      form,
      orgId,
      value: term && orgId === String(term.organisation.id) && term.person ? String(term.person.id) : undefined,
    }),
    h(Field, { key: k('note'), form, label: 'Note', name: 'note', rows: 2, maxLength: 2000, value: term?.note }),
    h(Checkbox, {
      key: k('cancelled'),
      form,
      label: 'Cancelled',
      name: 'cancelled',
      checked: term?.cancelled ?? false,
      hint: 'A cancelled term stays in the record, marked as cancelled.',
    }),
    h(Field, { form, label: 'Reason for the change', name: 'reason', required: true, rows: 2, maxLength: 2000, hint: 'Kept in the audit log.' }),
  );
}

// ---------------------------------------------------------------------------
// The body itself

export function EditBodyForm({ body, bodies, onSaved }: { body: PlenumBody; bodies: BodySummary[]; onSaved: () => void }) {
  const form = useForm();
  const signal = useUnmountSignal();
  const orgs = useOrganisations();
  const known: OrganisationRef[] = useMemo(() => {
    const list: OrganisationRef[] = body.members.map((m) => m.organisation);
    if (orgs.state.status === 'ready') list.push(...orgs.state.value);
    return list;
  }, [body.members, orgs.state]);
  const codeOf = (id: number) => known.find((o) => o.id === id)?.short_code ?? String(id);
  const order = (body.rotation.order ?? []).map(codeOf).join(', ');
  const others = bodies.filter((b) => b.id !== body.id);

  return h(
    Form,
    {
      form,
      labelledBy: 'edit-body-title',
      submitLabel: 'Save changes',
      onSubmit: async (values) => {
        const name = values.get('name');
        const shortName = values.get('short_name');
        if (!name) form.fieldError('name', 'Enter a name.');
        if (!shortName) form.fieldError('short_name', 'Enter a short name.');
        const termMonths = wholeNumber(form, values, 'term_months', 1);
        const leadDays = wholeNumber(form, values, 'lead_days');
        const codes = values
          .get('order')
          .split(/[\s,;]+/)
          .filter(Boolean);
        const ids: number[] = [];
        const unknown: string[] = [];
        for (const code of codes) {
          const org = known.find((o) => o.short_code.toLowerCase() === code.toLowerCase());
          if (org) ids.push(org.id);
          else unknown.push(code);
        }
        if (unknown.length) form.fieldError('order', `No organisation has the code ${unknown.join(', ')}.`);
        if (!name || !shortName || termMonths === null || leadDays === null || unknown.length) {
          form.focusFirstError();
          return;
        }
        const source = values.get('source_body_id');
        const patch: BodyUpdate = {
          name,
          short_name: shortName,
          mandate: values.get('mandate'),
          ends_on: values.get('ends_on') || null,
          time_zone: values.get('time_zone') || undefined,
          observers_may_join: values.checked('observers_may_join'),
          observers_may_chair: values.checked('observers_may_chair'),
          rotation: {
            rule: values.get('rule') as RotationRule,
            order: ids,
            term_months: termMonths,
            lead_days: leadDays,
            source_body_id: source ? Number(source) : null,
          },
        };
        const saved = await api.updateBody(body.id, patch, signal);
        announce(`${saved.name} saved.`);
        onSaved();
      },
    },
    h(Field, { form, label: 'Name', name: 'name', required: true, autocomplete: 'off', maxLength: 200, value: body.name }),
    h(Field, { form, label: 'Short name', name: 'short_name', required: true, autocomplete: 'off', maxLength: 16, value: body.short_name }),
    h(Field, { form, label: 'Mandate', name: 'mandate', rows: 4, maxLength: 10000, value: body.mandate }),
    h(Field, { form, label: 'Ends on', name: 'ends_on', type: 'date', value: body.ends_on ?? undefined, hint: 'Leave empty for a standing body.' }),
    h(Field, { form, label: 'Time zone', name: 'time_zone', autocomplete: 'off', value: body.time_zone, hint: 'For example Europe/Brussels.' }),
    h(Checkbox, { form, label: 'Observers may join', name: 'observers_may_join', checked: body.observers_may_join }),
    h(Checkbox, { form, label: 'Observers may chair', name: 'observers_may_chair', checked: body.observers_may_chair }),
    h(Field, { form, label: 'Rotation of the chair', name: 'rule', aliases: ['rotation.rule', 'rotation'], value: body.rotation.rule, options: ROTATION_OPTIONS }),
    h(Field, {
      form,
      label: 'Term length in months',
      name: 'term_months',
      type: 'number',
      aliases: ['rotation.term_months'],
      value: String(body.rotation.term_months),
    }),
    h(Field, {
      form,
      label: 'Warn about a missing successor, days before the handover',
      name: 'lead_days',
      type: 'number',
      aliases: ['rotation.lead_days'],
      value: String(body.rotation.lead_days),
    }),
    h(Field, {
      key: `order-${order}`,
      form,
      label: 'Rotation order',
      name: 'order',
      autocomplete: 'off',
      aliases: ['rotation.order'],
      value: order,
      hint: `For a fixed rotation: the members' codes in turn, separated by commas${body.members.length ? ` (members: ${body.members.map((m) => m.organisation.short_code).join(', ')})` : ''}.`,
    }),
    h(Field, {
      form,
      label: 'Body whose outgoing chair takes over',
      name: 'source_body_id',
      aliases: ['rotation.source_body_id'],
      value: body.rotation.source_body_id != null ? String(body.rotation.source_body_id) : '',
      hint: 'Only for the rule “the outgoing chair of another body takes over”.',
      options: [{ value: '', label: 'None' }, ...others.map((b) => ({ value: String(b.id), label: `${b.short_name} — ${b.name}` }))],
    }),
  );
}
