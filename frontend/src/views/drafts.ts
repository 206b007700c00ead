import { h } from 'preact';
import { api, ApiError, type BodySummary, type DraftState, type DraftSummary, type NewDraft } from '../api';
import { navigate } from '../navigation';
import { currentUser } from '../session';
import { announce } from '../status';
import { Badge, ErrorPanel, Loading, PageHeading, Time } from '../ui/common';
import { Field, Form, useForm, type FormValues } from '../ui/forms';
import { useResource, useUnmountSignal } from '../ui/hooks';
import { StageBadge } from './draft-stage';

export function DraftStateBadge({ state }: { state: DraftState }) {
  return state === 'locked' ? h(Badge, { tone: 'warn' }, 'Locked') : h(Badge, { tone: 'good' }, 'Drafting');
}

function DraftsTable({ drafts }: { drafts: DraftSummary[] }) {
  if (drafts.length === 0) return h('p', null, 'No drafts yet.');
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'data-table' },
      h('caption', { class: 'visually-hidden' }, 'Drafts'),
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          h('th', { scope: 'col' }, 'Title'),
          h('th', { scope: 'col' }, 'Reference'),
          h('th', { scope: 'col' }, 'Stage'),
          h('th', { scope: 'col' }, 'Last updated'),
        ),
      ),
      h(
        'tbody',
        null,
        drafts.map((d) =>
          h(
            'tr',
            { key: d.id },
            h('th', { scope: 'row' }, h('a', { href: `/drafts/${encodeURIComponent(String(d.id))}` }, d.title)),
            h('td', null, d.reference || '—'),
            h(
              'td',
              null,
              h('span', { class: 'badges' }, h(StageBadge, { stage: d.stage }), d.state === 'locked' ? h(Badge, { tone: 'warn' }, 'Locked') : null),
            ),
            h('td', null, h(Time, { iso: d.updated_at })),
          ),
        ),
      ),
    ),
  );
}

/** Who may start a draft: delegates of participants, and secretariat administrators. */
function mayCreate(): boolean {
  const user = currentUser.value;
  if (!user) return false;
  return user.is_admin || user.organisation.kind === 'participant';
}

function NewDraftForm({ bodies }: { bodies: BodySummary[] }) {
  const form = useForm();
  const signal = useUnmountSignal();
  const submit = async (values: FormValues) => {
    const title = values.get('title');
    if (!title) {
      form.fieldError('title', 'Enter a title.');
      form.focusFirstError();
      return;
    }
    const body: NewDraft = { title };
    const reference = values.get('reference');
    if (reference) body.reference = reference;
    const bodyId = values.get('body_id');
    if (bodyId) body.body_id = Number(bodyId);
    try {
      const created = await api.createDraft(body, signal);
      announce(`Draft ${created.title} created.`);
      navigate(`/drafts/${encodeURIComponent(String(created.id))}`);
    } catch (err) {
      if (err instanceof ApiError && err.status === 403) {
        form.formError(err.problem.detail || 'You may not start a draft.');
        form.focusFirstError();
        return;
      }
      throw err;
    }
  };
  return h(
    Form,
    { form, labelledBy: 'new-draft-title', submitLabel: 'Create draft', onSubmit: submit },
    h(Field, {
      form,
      label: 'Title',
      name: 'title',
      required: true,
      autocomplete: 'off',
      maxLength: 200,
      hint: 'For example: Administrative decision on peer review.',
    }),
    bodies.length
      ? h(Field, {
          form,
          label: 'Body',
          name: 'body_id',
          aliases: ['body_id'],
          hint: 'Its chair takes the draft towards a decision.',
          value: '',
          options: [
            { value: '', label: 'The plenary' },
            ...bodies.filter((b) => b.kind !== 'plenary').map((b) => ({ value: String(b.id), label: `${b.short_name} — ${b.name}` })),
          ],
        })
      : null,
    h(Field, {
      form,
      label: 'Reference',
      name: 'reference',
      autocomplete: 'off',
      maxLength: 200,
      hint: 'The body or meeting it belongs to, for example: Brussels Plenary 2007.',
    }),
  );
}

function newestFirst(a: DraftSummary, b: DraftSummary): number {
  return a.updated_at < b.updated_at ? 1 : a.updated_at > b.updated_at ? -1 : 0;
}

export function DraftsView() {
  const drafts = useResource(async (signal) => (await api.allDrafts(signal)).sort(newestFirst), []);
  const bodies = useResource((signal) => api.bodies(signal).catch(() => [] as BodySummary[]), []);
  const state = drafts.state;
  return h(
    'div',
    null,
    h(PageHeading, null, 'Drafts'),
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'draft-list-title' },
      h('h2', { id: 'draft-list-title' }, 'All drafts'),
      state.status === 'loading'
        ? h(Loading, null, 'Loading drafts…')
        : state.status === 'error'
          ? h(ErrorPanel, { error: state.error })
          : h(DraftsTable, { drafts: state.value }),
    ),
    mayCreate()
      ? h(
          'section',
          { class: 'panel', 'aria-labelledby': 'new-draft-title' },
          h('h2', { id: 'new-draft-title' }, 'New draft'),
          h('p', { class: 'muted' }, 'Start a text that delegations edit together in the drafting room.'),
          h(NewDraftForm, { bodies: bodies.state.status === 'ready' ? bodies.state.value : [] }),
        )
      : null,
  );
}
