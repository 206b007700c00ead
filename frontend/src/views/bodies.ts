// The bodies: the plenary with its working groups, committees and ad hoc groups nested under it,
// each with who is in office; and the form that sets up a new body.
import { h } from 'preact';
import { useMemo, useState } from 'preact/hooks';
import { api, ApiError, BODY_KINDS, ROTATION_RULES, type BodyKind, type BodySummary, type NewBody, type RotationRule } from '../api';
import { navigate } from '../navigation';
import { currentUser } from '../session';
import { announce } from '../status';
import { Badge, ErrorPanel, Loading, PageHeading } from '../ui/common';
import { Checkbox, Field, Form, useForm, type FormState, type FormValues } from '../ui/forms';
import { useResource, useUnmountSignal } from '../ui/hooks';
import { kindLabel, orgName, ruleLabel } from './body-common';

export function bodyHref(id: number): string {
  return `/bodies/${encodeURIComponent(String(id))}`;
}

/** Today as YYYY-MM-DD in the browser's time zone (only to mark ended bodies in the list). */
function localToday(): string {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

interface TreeNode {
  body: BodySummary;
  children: TreeNode[];
}

/** Parents before children, in the server's order; a body whose parent is unknown is a root. */
export function bodyTree(bodies: BodySummary[]): TreeNode[] {
  const nodes = new Map<number, TreeNode>(bodies.map((b) => [b.id, { body: b, children: [] }]));
  const roots: TreeNode[] = [];
  for (const b of bodies) {
    const node = nodes.get(b.id)!;
    const parent = b.parent_id != null ? nodes.get(b.parent_id) : undefined;
    if (parent && parent !== node) parent.children.push(node);
    else roots.push(node);
  }
  return roots;
}

function InOfficeLine({ body }: { body: BodySummary }) {
  const o = body.in_office;
  const chairs = o.chairs ?? [];
  const chairLabel = chairs.length > 1 ? 'Co-chairs' : 'Chair';
  return h(
    'dl',
    { class: 'body-office' },
    h('div', null, h('dt', null, chairLabel), h('dd', null, chairs.length ? chairs.map((t) => orgName(t.organisation)).join(' and ') : 'None')),
    h('div', null, h('dt', null, 'Vice-chair'), h('dd', null, o.vice_chair ? orgName(o.vice_chair.organisation) : 'None')),
    o.acting_chair
      ? h('div', null, h('dt', null, 'Acting chair'), h('dd', null, orgName(o.acting_chair.term.organisation)))
      : null,
  );
}

function BodyNode({ node, today }: { node: TreeNode; today: string }) {
  const b = node.body;
  const ended = b.ends_on != null && b.ends_on < today;
  return h(
    'li',
    { class: 'body-node' },
    h(
      'div',
      { class: 'body-entry' },
      h(
        'p',
        { class: 'body-entry-title' },
        h('a', { href: bodyHref(b.id) }, h('span', { class: 'body-short' }, b.short_name), ` — ${b.name}`),
        ' ',
        h('span', { class: 'badges' }, h(Badge, null, kindLabel(b.kind)), ended ? h(Badge, { tone: 'warn' }, 'Ended') : null),
      ),
      h(InOfficeLine, { body: b }),
    ),
    node.children.length
      ? h('ul', { class: 'body-tree' }, node.children.map((child) => h(BodyNode, { key: child.body.id, node: child, today })))
      : null,
  );
}

function BodyTree({ bodies }: { bodies: BodySummary[] }) {
  const roots = useMemo(() => bodyTree(bodies), [bodies]);
  const today = localToday();
  if (!bodies.length) return h('p', null, 'No bodies yet.');
  return h('ul', { class: 'body-tree body-tree-root' }, roots.map((node) => h(BodyNode, { key: node.body.id, node, today })));
}

/** A whole number from a form field, `undefined` when blank; a field error when it is not one. */
export function wholeNumber(form: FormState, values: FormValues, name: string, min = 0): number | undefined | null {
  const raw = values.get(name);
  if (!raw) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < min) {
    form.fieldError(name, `Enter a whole number${min > 0 ? ` of at least ${min}` : ''}.`);
    return null;
  }
  return Number(raw);
}

export const ROTATION_OPTIONS = ROTATION_RULES.map((r) => ({ value: r, label: ruleLabel(r) }));

function NewBodyForm({ bodies }: { bodies: BodySummary[] }) {
  const form = useForm();
  const signal = useUnmountSignal();
  const hasPlenary = bodies.some((b) => b.kind === 'plenary');
  const [kind, setKind] = useState<BodyKind>(hasPlenary ? 'working_group' : 'plenary');
  const plenary = bodies.find((b) => b.kind === 'plenary');

  const submit = async (values: FormValues) => {
    const name = values.get('name');
    const shortName = values.get('short_name');
    if (!name) form.fieldError('name', 'Enter a name.');
    if (!shortName) form.fieldError('short_name', 'Enter a short name.');
    const termMonths = wholeNumber(form, values, 'term_months', 1);
    const leadDays = wholeNumber(form, values, 'lead_days');
    if (!name || !shortName || termMonths === null || leadDays === null) {
      form.focusFirstError();
      return;
    }
    const body: NewBody = { name, short_name: shortName, kind: values.get('kind') as BodyKind };
    const parent = values.get('parent_id');
    body.parent_id = parent ? Number(parent) : null;
    const mandate = values.get('mandate');
    if (mandate) body.mandate = mandate;
    const createdOn = values.get('created_on');
    if (createdOn) body.created_on = createdOn;
    const endsOn = values.get('ends_on');
    if (endsOn) body.ends_on = endsOn;
    const timeZone = values.get('time_zone');
    if (timeZone) body.time_zone = timeZone;
    body.observers_may_join = values.checked('observers_may_join');
    body.observers_may_chair = values.checked('observers_may_chair');
    const source = values.get('source_body_id');
    body.rotation = {
      rule: values.get('rule') as RotationRule,
      term_months: termMonths,
      lead_days: leadDays,
      source_body_id: source ? Number(source) : undefined,
    };
    try {
      const created = await api.createBody(body, signal);
      announce(`${created.name} created.`);
      navigate(bodyHref(created.id));
    } catch (err) {
      if (err instanceof ApiError && err.status === 403) {
        form.formError(err.problem.detail || 'You may not set up this body.');
        form.focusFirstError();
        return;
      }
      throw err;
    }
  };

  const bodyOptions = bodies.map((b) => ({ value: String(b.id), label: `${b.short_name} — ${b.name}` }));
  return h(
    Form,
    { form, labelledBy: 'new-body-title', submitLabel: 'Create body', onSubmit: submit },
    h(Field, {
      form,
      label: 'Kind',
      name: 'kind',
      required: true,
      value: kind,
      onValue: (v) => setKind(v as BodyKind),
      options: BODY_KINDS.map((k) => ({ value: k, label: kindLabel(k) })),
    }),
    h(Field, { form, label: 'Name', name: 'name', required: true, autocomplete: 'off', maxLength: 200, hint: 'For example: Working Group on Monitoring.' }),
    h(Field, { form, label: 'Short name', name: 'short_name', required: true, autocomplete: 'off', maxLength: 16, hint: '2 to 16 letters, digits or hyphens, for example: WGM.' }),
    h(Field, {
      form,
      label: 'Part of',
      name: 'parent_id',
      value: kind === 'plenary' ? '' : plenary ? String(plenary.id) : '',
      hint: 'The body it reports to; a plenary is part of none.',
      options: [{ value: '', label: 'None' }, ...bodyOptions],
    }),
    h(Field, { form, label: 'Mandate', name: 'mandate', rows: 4, maxLength: 10000 }),
    h(Field, { form, label: 'Set up on', name: 'created_on', type: 'date', hint: 'Default: today.' }),
    h(Field, {
      form,
      label: 'Ends on',
      name: 'ends_on',
      type: 'date',
      required: kind === 'ad_hoc',
      hint: kind === 'ad_hoc' ? 'An ad hoc group needs an end date.' : 'Only for a body set up for a limited time.',
    }),
    h(Field, { form, label: 'Time zone', name: 'time_zone', autocomplete: 'off', value: 'UTC', hint: 'Where handovers happen at midnight, for example Europe/Brussels.' }),
    h(Checkbox, { form, label: 'Observers may join', name: 'observers_may_join', checked: true }),
    h(Checkbox, { form, label: 'Observers may chair', name: 'observers_may_chair' }),
    h(Field, { form, label: 'Rotation of the chair', name: 'rule', aliases: ['rotation.rule', 'rotation'], value: 'elected', options: ROTATION_OPTIONS }),
    h(Field, { form, label: 'Term length in months', name: 'term_months', type: 'number', aliases: ['rotation.term_months'], hint: 'From 1 to 60. Default: 12.' }),
    h(Field, {
      form,
      label: 'Warn about a missing successor, days before the handover',
      name: 'lead_days',
      type: 'number',
      aliases: ['rotation.lead_days'],
    }),
    h(Field, {
      form,
      label: 'Body whose outgoing chair takes over',
      name: 'source_body_id',
      aliases: ['rotation.source_body_id'],
      hint: 'Only for the rule “the outgoing chair of another body takes over”.',
      options: [{ value: '', label: 'None' }, ...bodyOptions],
    }),
  );
}

/** Who sees the form: secretariat administrators and the delegates of an organisation that chairs a body. */
function mayCreate(bodies: BodySummary[]): boolean {
  const user = currentUser.value;
  if (!user) return false;
  if (user.is_admin) return true;
  return bodies.some((b) => (b.in_office.chairs ?? []).some((t) => t.organisation.id === user.organisation.id));
}

export function BodiesView() {
  const bodies = useResource((signal) => api.bodies(signal), []);
  const state = bodies.state;
  return h(
    'div',
    null,
    h(PageHeading, null, 'Bodies'),
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'body-list-title' },
      h('h2', { id: 'body-list-title' }, 'All bodies'),
      state.status === 'loading'
        ? h(Loading, null, 'Loading bodies…')
        : state.status === 'error'
          ? h(ErrorPanel, { error: state.error })
          : h(BodyTree, { bodies: state.value }),
    ),
    state.status === 'ready' && mayCreate(state.value)
      ? h(
          'section',
          { class: 'panel', 'aria-labelledby': 'new-body-title' },
          h('h2', { id: 'new-body-title' }, 'New body'),
          h('p', { class: 'muted' }, 'Secretariat administrators set up any body; a chair sets up the groups of the body they chair.'),
          h(NewBodyForm, { bodies: state.value }),
        )
      : null,
  );
}
