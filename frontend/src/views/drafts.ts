import { h } from 'preact';
import { useState } from 'preact/hooks';
import { api, ApiError, type Agenda, type BodySummary, type DraftState, type DraftSummary, type Meeting, type MeetingSummary, type NewDraft } from '../api';
import { navigate } from '../navigation';
import { currentUser } from '../session';
import { announce } from '../status';
import { Badge, ErrorPanel, Loading, PageHeading, Time } from '../ui/common';
import { Field, Form, useForm, type FormState, type FormValues } from '../ui/forms';
import { useResource, useUnmountSignal, type Resource } from '../ui/hooks';
import { StageBadge } from './draft-stage';
import { meetingHref } from './meeting-common';

export function DraftStateBadge({ state }: { state: DraftState }) {
  return state === 'locked' ? h(Badge, { tone: 'warn' }, 'Locked') : h(Badge, { tone: 'good' }, 'Drafting');
}

/**
 * Where a draft belongs: its meeting and agenda item ("Brussels Plenary 2007 · item 4.2"), the
 * meeting linked to its page when `link`; nothing when it belongs to no meeting.
 */
export function DraftPlace({ draft, link = false }: { draft: DraftSummary; link?: boolean }) {
  const { meeting, agenda_item: item } = draft;
  if (!meeting) return null;
  return h(
    'span',
    { class: 'draft-reference' },
    link ? h('a', { href: meetingHref(meeting.id) }, meeting.title) : meeting.title,
    item ? ` · item ${item.number}${link ? `: ${item.title}` : ''}` : null,
  );
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
          h('th', { scope: 'col' }, 'Meeting'),
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
            h('td', null, d.meeting ? h(DraftPlace, { draft: d }) : '—'),
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

/** The chosen meeting with its agenda (to offer its items), or null when none is chosen. */
interface ChosenMeeting {
  meeting: Meeting;
  agenda: Agenda;
}

function NewDraftForm({ bodies }: { bodies: BodySummary[] }) {
  const form = useForm();
  const signal = useUnmountSignal();
  // The body ('' for the plenary) and the meeting chosen so far: they decide what the next
  // select offers.
  const [bodyId, setBodyId] = useState('');
  const [meetingId, setMeetingId] = useState('');
  const body = bodyId ? Number(bodyId) : bodies.find((b) => b.kind === 'plenary')?.id;
  const meetings = useResource(
    (s) => (body === undefined ? Promise.resolve([] as MeetingSummary[]) : api.meetingsOfBody(body, s).catch(() => [] as MeetingSummary[])),
    [body],
  );
  const chosen = useResource(async (s): Promise<ChosenMeeting | null> => {
    if (!meetingId) return null;
    const [meeting, agenda] = await Promise.all([api.meeting(Number(meetingId), s), api.agenda(Number(meetingId), s)]);
    return { meeting, agenda };
  }, [meetingId]);
  const meetingList = meetings.state.status === 'ready' ? meetings.state.value : [];
  const submit = async (values: FormValues) => {
    const title = values.get('title');
    if (!title) {
      form.fieldError('title', 'Enter a title.');
      form.focusFirstError();
      return;
    }
    const draft: NewDraft = { title };
    const chosenBody = values.get('body_id');
    if (chosenBody) draft.body_id = Number(chosenBody);
    const chosenMeeting = values.get('meeting_id');
    if (chosenMeeting) draft.meeting_id = Number(chosenMeeting);
    const chosenItem = values.get('agenda_item_id');
    if (chosenItem) draft.agenda_item_id = Number(chosenItem);
    try {
      const created = await api.createDraft(draft, signal);
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
          onValue: (value) => {
            setBodyId(value);
            setMeetingId('');
          },
          options: [
            { value: '', label: 'The plenary' },
            ...bodies.filter((b) => b.kind !== 'plenary').map((b) => ({ value: String(b.id), label: `${b.short_name} — ${b.name}` })),
          ],
        })
      : null,
    h(Field, {
      // A new body offers its own meetings: the select starts again from "None".
      key: `meetings-${body ?? ''}`,
      form,
      label: 'Meeting',
      name: 'meeting_id',
      hint: meetingList.length
        ? 'The meeting of the body it is prepared for, for example: Brussels Plenary 2007.'
        : 'The body has no meetings you can see yet.',
      value: '',
      onValue: setMeetingId,
      options: [{ value: '', label: 'None' }, ...meetingList.map((m) => ({ value: String(m.id), label: m.title }))],
    }),
    meetingId ? h(AgendaItemField, { key: `items-${meetingId}`, form, chosen: chosen.state }) : null,
  );
}

/** The agenda item select for the chosen meeting; only its chair puts a draft on its agenda. */
function AgendaItemField({ form, chosen }: { form: FormState; chosen: Resource<ChosenMeeting | null> }) {
  if (chosen.status === 'loading') return h(Loading, null, 'Loading the agenda…');
  if (chosen.status === 'error' || !chosen.value) return h('p', { class: 'muted' }, 'The agenda of this meeting could not be loaded.');
  const { meeting, agenda } = chosen.value;
  if (!meeting.can_chair) {
    return h('p', { class: 'muted' }, 'The meeting’s chair (or the secretariat) puts drafts on its agenda items; the chair can add this one later.');
  }
  if (!agenda.items.length) return h('p', { class: 'muted' }, 'This meeting has no agenda items yet.');
  return h(Field, {
    form,
    label: 'Agenda item',
    name: 'agenda_item_id',
    hint: 'The item it is a draft decision under: the item then lists it.',
    value: '',
    options: [
      { value: '', label: 'None' },
      ...agenda.items.map((i) => ({ value: String(i.id), label: `${i.number} ${i.title}${i.closed_session ? ' (closed session)' : ''}` })),
    ],
  });
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
