// One meeting: when and where, who is invited and who attends, the agenda as a numbered tree with
// the item on the floor highlighted (and its time ticking), the amendments once the agenda is
// adopted, and — for the chair — the console. Everything follows the live feed of the meeting
// (meeting-live.ts). Observers and guests get no closed-session item from the server; a closed
// item on the floor is shown to them only as "Closed session in progress".
import { h } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, type Agenda, type AgendaItem, type Id, type Meeting, type User } from '../api';
import { useMeetingFeed, type LivePhase, type MeetingFeed } from '../meeting-live';
import type { ViewProps } from '../router';
import { currentUser } from '../session';
import { announce } from '../status';
import { Badge, ErrorPanel, Loading, PageHeading, Time, errorMessage } from '../ui/common';
import { isAbort, useResource, useUnmountSignal } from '../ui/hooks';
import { bodyHref } from './bodies';
import { orgName } from './body-common';
import { stageLabel } from './draft-common';
import { NotFoundView } from './errors';
import {
  AddItemForm,
  ChairConsole,
  ChairError,
  DocumentLinks,
  EditMeetingForm,
  InviteGuestForm,
  ItemControls,
  ItemManage,
  UninviteButton,
  dragProps,
  useChair,
  type ChairCtx,
} from './meeting-chair';
import {
  Elapsed,
  ItemStateBadge,
  MeetingStateBadge,
  MeetingWhenText,
  meetingKindLabel,
  purposeLabel,
  roleLabel,
} from './meeting-common';

// ---------------------------------------------------------------------------
// The agenda

interface Node {
  item: AgendaItem;
  children: Node[];
}

/** The items (depth-first, in number order) as a tree. */
function agendaTree(items: AgendaItem[]): Node[] {
  const nodes = new Map<Id, Node>(items.map((i) => [i.id, { item: i, children: [] }]));
  const roots: Node[] = [];
  for (const i of items) {
    const node = nodes.get(i.id)!;
    const parent = i.parent_id != null ? nodes.get(i.parent_id) : undefined;
    if (parent) parent.children.push(node);
    else roots.push(node);
  }
  return roots;
}

interface AgendaProps {
  items: AgendaItem[];
  chair: ChairCtx | null;
  inSession: boolean;
}

function AgendaEntry({ node, props }: { node: Node; props: AgendaProps }) {
  const { item } = node;
  const { chair, items, inSession } = props;
  const current = item.state === 'current';
  const meta = [
    item.presenter ? `Presented by ${item.presenter}` : null,
    item.duration_minutes != null ? `${item.duration_minutes} min planned` : null,
  ].filter(Boolean);
  const head = chair ? dragProps(item, items, chair) : { class: 'agenda-item-head' };
  return h(
    'li',
    {
      id: `agenda-item-${item.id}`,
      class: `agenda-item${current ? ' is-current' : ''}${item.closed_session ? ' is-closed' : ''}${item.state === 'done' ? ' is-done' : ''}`,
      'aria-current': current ? 'true' : undefined,
    },
    h(
      'div',
      { ...head, tabIndex: -1 },
      chair ? h('span', { class: 'drag-handle', 'aria-hidden': 'true', title: 'Drag to move' }, '⠿') : null,
      h('span', { class: 'agenda-number' }, item.number),
      h('span', { class: 'agenda-title' }, item.title),
      h(
        'span',
        { class: 'badges' },
        h(Badge, null, purposeLabel(item.purpose)),
        item.state !== 'pending' ? h(ItemStateBadge, { state: item.state }) : null,
        item.closed_session ? h(Badge, { tone: 'warn' }, 'Closed session') : null,
      ),
    ),
    meta.length || (current && item.current_since)
      ? h(
          'p',
          { class: 'agenda-meta' },
          meta.join(' · '),
          current && item.current_since ? [meta.length ? ' · ' : '', 'on the floor for ', h(Elapsed, { key: 'e', since: item.current_since })] : null,
        )
      : null,
    item.description ? h('div', { class: 'agenda-description' }, item.description) : null,
    h(DocumentLinks, { item }),
    item.drafts.length
      ? h(
          'p',
          { class: 'agenda-drafts' },
          item.drafts.length > 1 ? 'Drafts: ' : 'Draft: ',
          item.drafts.map((d, i) => [
            i ? ', ' : '',
            h('a', { key: d.id, href: `/drafts/${encodeURIComponent(String(d.id))}` }, d.title),
            d.stage && d.stage !== 'drafting' ? ` (${stageLabel(d.stage).toLowerCase()})` : '',
          ]),
        )
      : null,
    chair ? h(ItemControls, { item, items, ctx: chair, inSession }) : null,
    chair ? h(ItemManage, { item, items, ctx: chair }) : null,
    node.children.length ? h(AgendaList, { nodes: node.children, props }) : null,
  );
}

function AgendaList({ nodes, props }: { nodes: Node[]; props: AgendaProps }) {
  return h(
    'ol',
    { class: 'agenda-list' },
    nodes.map((n) => h(AgendaEntry, { key: n.item.id, node: n, props })),
  );
}

function AgendaSection({ meeting, agenda, chair }: { meeting: Meeting; agenda: Agenda | null; chair: ChairCtx | null }) {
  const items = agenda?.items ?? [];
  const tree = agendaTree(items);
  const adopted = meeting.agenda_state === 'adopted';
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'agenda-title' },
    h('h2', { id: 'agenda-title', tabIndex: -1 }, 'Agenda'),
    h(
      'p',
      { class: 'agenda-status' },
      adopted ? h(Badge, { tone: 'good' }, 'Adopted') : h(Badge, null, 'Proposed'),
      adopted && meeting.agenda_adopted_at ? h('span', { class: 'muted' }, ' on ', h(Time, { iso: meeting.agenda_adopted_at })) : null,
    ),
    agenda === null
      ? h(Loading, null, 'Loading the agenda…')
      : items.length
        ? h(AgendaList, { nodes: tree, props: { items, chair, inSession: meeting.state === 'in_session' } })
        : h('p', { class: 'muted' }, 'No items on the agenda yet.'),
    chair ? h(ChairError, { ctx: chair, where: 'agenda' }) : null,
  );
}

function AmendmentsSection({ agenda }: { agenda: Agenda }) {
  const list = agenda.amendments ?? [];
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'amendments-title' },
    h('h2', { id: 'amendments-title' }, 'Agenda as amended'),
    list.length
      ? h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            { class: 'data-table' },
            h('caption', { class: 'visually-hidden' }, 'Amendments to the agenda since its adoption, earliest first'),
            h(
              'thead',
              null,
              h('tr', null, h('th', { scope: 'col' }, 'When'), h('th', { scope: 'col' }, 'Item'), h('th', { scope: 'col' }, 'Change'), h('th', { scope: 'col' }, 'By')),
            ),
            h(
              'tbody',
              null,
              list.map((a, i) =>
                h(
                  'tr',
                  { key: i },
                  h('td', null, h(Time, { iso: a.at })),
                  h('td', null, [a.number, a.title].filter(Boolean).join(' ') || '—'),
                  h('td', null, a.detail || a.action),
                  h('td', null, a.by),
                ),
              ),
            ),
          ),
        )
      : h('p', { class: 'muted' }, 'The agenda has not been amended since it was adopted.'),
  );
}

// ---------------------------------------------------------------------------
// The item on the floor

function FloorSection({ meeting, agenda, feed }: { meeting: Meeting; agenda: Agenda | null; feed: MeetingFeed }) {
  const current = meeting.current_item;
  const item = current?.item_id != null ? agenda?.items.find((i) => i.id === current.item_id) : undefined;
  let body;
  if (!current) {
    body = h('p', { class: 'floor-none' }, meeting.state === 'in_session' ? 'No item is on the floor.' : 'The meeting is not in session.');
  } else if (current.item_id == null || current.title == null) {
    body = h(
      'div',
      { class: 'floor-item floor-closed' },
      h('p', { class: 'floor-title' }, 'Closed session in progress'),
      h('p', { class: 'floor-meta' }, 'For ', h(Elapsed, { since: current.since })),
    );
  } else {
    body = h(
      'div',
      { class: 'floor-item' },
      h(
        'p',
        { class: 'floor-title' },
        current.number ? h('span', { class: 'agenda-number' }, current.number) : null,
        h('span', null, current.title),
        current.closed_session ? [' ', h(Badge, { key: 'c', tone: 'warn' }, 'Closed session')] : null,
      ),
      h(
        'p',
        { class: 'floor-meta' },
        'For ',
        h(Elapsed, { since: current.since }),
        item?.duration_minutes != null ? ` of ${item.duration_minutes} min planned` : null,
        item ? ` · ${purposeLabel(item.purpose)}` : null,
        item?.presenter ? ` · presented by ${item.presenter}` : null,
      ),
    );
  }
  return h(
    'section',
    { class: `panel floor${current ? ' floor-active' : ''}`, 'aria-labelledby': 'floor-title' },
    h('h2', { id: 'floor-title' }, 'On the floor'),
    body,
    // Announces the change of item politely; the text stays put between changes.
    h('p', { class: 'visually-hidden', role: 'status', 'aria-live': 'polite', 'aria-atomic': 'true' }, feed.announcement.value),
  );
}

const PHASE_TEXT: Record<LivePhase, [string, string]> = {
  connecting: ['Connecting…', 'connecting'],
  live: ['Live', 'connected'],
  reconnecting: ['Reconnecting…', 'connecting'],
  closed: ['Not live — reload the page', 'offline'],
};

function LiveIndicator({ feed }: { feed: MeetingFeed }) {
  const [text, tone] = PHASE_TEXT[feed.phase.value];
  return h('span', { class: `connection connection-${tone} live-indicator` }, h('span', { class: 'connection-dot', 'aria-hidden': 'true' }), text);
}

// ---------------------------------------------------------------------------
// Details, invitations, attendance

function DetailsSection({ meeting, chair }: { meeting: Meeting; chair: ChairCtx | null }) {
  const editable = chair && meeting.state !== 'closed' && meeting.state !== 'cancelled';
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'details-title' },
    h('h2', { id: 'details-title' }, 'When and where'),
    h(
      'dl',
      { class: 'details details-wide' },
      h('div', null, h('dt', null, 'When'), h('dd', null, h(MeetingWhenText, { meeting }))),
      h('div', null, h('dt', null, 'Venue'), h('dd', null, meeting.venue || '—')),
      h(
        'div',
        null,
        h('dt', null, 'Online'),
        h(
          'dd',
          null,
          meeting.online_url
            ? h('a', { href: meeting.online_url, rel: 'external noopener noreferrer', target: '_blank' }, meeting.online_url, h('span', { class: 'visually-hidden' }, ' (opens in a new tab)'))
            : '—',
        ),
      ),
      h(
        'div',
        null,
        h('dt', null, 'Calendar'),
        h('dd', null, h('a', { href: `/api/meetings/${meeting.id}/calendar.ics`, download: `meeting-${meeting.id}.ics` }, 'Add to your calendar (.ics)')),
      ),
      h(
        'div',
        null,
        h('dt', null, 'Report'),
        h(
          'dd',
          null,
          h('a', { href: `/api/meetings/${meeting.id}/report.html` }, 'Print version (HTML)', h('span', { class: 'visually-hidden' }, ' of the report')),
          ' · ',
          h('a', { href: `/api/meetings/${meeting.id}/report.pdf`, download: `meeting-${meeting.id}-report.pdf` }, 'PDF', h('span', { class: 'visually-hidden' }, ' of the report')),
          ' · ',
          h('a', { href: `/api/meetings/${meeting.id}/report.md`, download: `meeting-${meeting.id}-report.md` }, 'Markdown', h('span', { class: 'visually-hidden' }, ' of the report')),
        ),
      ),
    ),
    editable
      ? h(
          'details',
          { class: 'item-manage' },
          h('summary', null, 'Change the date, place or title'),
          h('div', { class: 'subsection' }, h('h3', { id: 'edit-meeting-title' }, 'Change the meeting'), h(EditMeetingForm, { meeting, ctx: chair })),
        )
      : null,
  );
}

function InvitationsSection({ meeting, chair }: { meeting: Meeting; chair: ChairCtx | null }) {
  const open = meeting.state !== 'closed' && meeting.state !== 'cancelled';
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'invitations-title' },
    h('h2', { id: 'invitations-title' }, 'Invited'),
    meeting.invitations.length
      ? h(
          'ul',
          { class: 'invitation-list' },
          meeting.invitations.map((i) =>
            h(
              'li',
              { key: i.organisation.id },
              h('span', null, orgName(i.organisation)),
              ' ',
              h(Badge, { tone: i.role === 'guest' ? 'warn' : 'neutral' }, roleLabel(i.role)),
              chair && i.role === 'guest' && open ? [' ', h(UninviteButton, { key: 'u', meeting, organisation: i.organisation, ctx: chair })] : null,
            ),
          ),
        )
      : h('p', { class: 'muted' }, 'No organisation is invited yet.'),
    chair ? h(ChairError, { ctx: chair, where: 'invitations' }) : null,
    chair && open
      ? h(
          'div',
          { class: 'subsection' },
          h('h3', { id: 'invite-guest-title' }, 'Invite a guest organisation'),
          h(InviteGuestForm, { meeting, ctx: chair }),
        )
      : null,
  );
}

function RegisterDelegation({ meeting, feed, user }: { meeting: Meeting; feed: MeetingFeed; user: User }) {
  const signal = useUnmountSignal();
  // Guests may not read the directory: they register themselves.
  const delegates = useResource(
    (s) => api.allUsers(user.organisation.id, s).catch((err: unknown) => {
      if (err instanceof ApiError && err.status === 403) return [user];
      throw err;
    }),
    [user.organisation.id],
  );
  const [busy, setBusy] = useState<Id | null>(null);
  const [error, setError] = useState('');
  const registered = new Set(meeting.attendance.map((a) => a.user.id));
  const toggle = async (person: User) => {
    if (busy !== null) return;
    setBusy(person.id);
    setError('');
    const on = !registered.has(person.id);
    try {
      if (on) await api.register(meeting.id, person.id, signal);
      else await api.unregister(meeting.id, person.id, signal);
      const m = feed.meeting.peek();
      if (m) {
        const attendance = on
          ? [...m.attendance.filter((a) => a.user.id !== person.id), { user: { id: person.id, display_name: person.display_name }, organisation: person.organisation, registered_at: new Date().toISOString() }]
          : m.attendance.filter((a) => a.user.id !== person.id);
        feed.meeting.value = { ...m, attendance };
      }
      announce(on ? `${person.display_name} is registered.` : `${person.display_name} is no longer registered.`);
    } catch (err) {
      if (!isAbort(err)) setError(errorMessage(err));
    } finally {
      if (!signal.aborted) setBusy(null);
    }
  };
  const state = delegates.state;
  return h(
    'div',
    { class: 'subsection' },
    h('h3', { id: 'register-title' }, `Your delegation: ${user.organisation.name}`),
    h('p', { class: 'form-alert', role: 'alert', hidden: !error }, error),
    state.status === 'loading'
      ? h(Loading, null, 'Loading your delegation…')
      : state.status === 'error'
        ? h(ErrorPanel, { error: state.error })
        : h(
            'ul',
            { class: 'delegate-list', 'aria-labelledby': 'register-title' },
            state.value
              .filter((p) => !p.disabled)
              .map((p) =>
                h(
                  'li',
                  { key: p.id },
                  h('span', null, p.display_name, registered.has(p.id) ? h('span', { class: 'muted' }, ' — registered') : null),
                  ' ',
                  h(
                    'button',
                    {
                      type: 'button',
                      class: registered.has(p.id) ? 'button small danger' : 'button small',
                      'aria-disabled': busy !== null ? 'true' : undefined,
                      'aria-label': registered.has(p.id) ? `Unregister ${p.display_name}` : `Register ${p.display_name}`,
                      onClick: () => void toggle(p),
                    },
                    registered.has(p.id) ? 'Unregister' : 'Register',
                  ),
                ),
              ),
          ),
  );
}

function AttendanceSection({ meeting, feed }: { meeting: Meeting; feed: MeetingFeed }) {
  const user = currentUser.value;
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'attendance-title' },
    h('h2', { id: 'attendance-title' }, 'Attendance'),
    meeting.attendance.length
      ? h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            { class: 'data-table' },
            h('caption', { class: 'visually-hidden' }, 'Registered delegates'),
            h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Delegate'), h('th', { scope: 'col' }, 'Organisation'), h('th', { scope: 'col' }, 'Registered'))),
            h(
              'tbody',
              null,
              meeting.attendance.map((a) =>
                h('tr', { key: a.user.id }, h('th', { scope: 'row' }, a.user.display_name), h('td', null, orgName(a.organisation)), h('td', null, h(Time, { iso: a.registered_at }))),
              ),
            ),
          ),
        )
      : h('p', { class: 'muted' }, 'Nobody is registered yet.'),
    meeting.can_register && user ? h(RegisterDelegation, { meeting, feed, user }) : null,
  );
}

// ---------------------------------------------------------------------------
// The page

function MeetingPage({ feed, initial }: { feed: MeetingFeed; initial: { meeting: Meeting; agenda: Agenda } }) {
  // Until the live snapshot arrives, what the server answered on load.
  useEffect(() => {
    if (feed.seq === null && feed.meeting.peek() === null) {
      feed.applyMeeting(initial.meeting);
      feed.applyAgenda(initial.agenda);
    }
  }, [feed]);
  const meeting = feed.meeting.value ?? initial.meeting;
  const agenda = feed.agenda.value ?? initial.agenda;
  const chairCtx = useChair(feed, meeting.id);
  const chair = meeting.can_chair ? chairCtx : null;

  useEffect(() => {
    document.title = `${meeting.title} · Meetings · Plenum`;
  }, [meeting.title]);

  const showFloor = meeting.state === 'in_session' || meeting.current_item != null;
  const editableAgenda = chair && meeting.state !== 'closed' && meeting.state !== 'cancelled';
  return h(
    'div',
    { class: 'meeting-page' },
    h(
      'nav',
      { 'aria-label': 'Breadcrumb' },
      h(
        'p',
        { class: 'breadcrumb' },
        h('a', { href: '/meetings' }, 'Meetings'),
        ' › ',
        h('a', { href: bodyHref(meeting.body_id) }, meeting.body_short_name),
      ),
    ),
    h(PageHeading, { class: 'body-heading' }, meeting.title),
    h(
      'p',
      { class: 'body-meta' },
      h(Badge, null, meetingKindLabel(meeting.kind)),
      h(MeetingStateBadge, { state: meeting.state }),
      h(LiveIndicator, { feed }),
    ),
    showFloor ? h(FloorSection, { meeting, agenda, feed }) : h('p', { class: 'visually-hidden', role: 'status', 'aria-live': 'polite' }, feed.announcement.value),
    chair ? h(ChairConsole, { meeting, items: agenda.items, ctx: chair }) : null,
    h(AgendaSection, { meeting, agenda, chair: editableAgenda ? chair : null }),
    meeting.agenda_state === 'adopted' ? h(AmendmentsSection, { agenda }) : null,
    editableAgenda
      ? h(
          'section',
          { class: 'panel', 'aria-labelledby': 'add-item-title' },
          h('h2', { id: 'add-item-title' }, 'Add an agenda item'),
          h(AddItemForm, { items: agenda.items, ctx: chair }),
        )
      : null,
    h(DetailsSection, { meeting, chair }),
    h(InvitationsSection, { meeting, chair }),
    h(AttendanceSection, { meeting, feed }),
  );
}

function MeetingLive({ id, initial }: { id: Id; initial: { meeting: Meeting; agenda: Agenda } }) {
  const feed = useMeetingFeed(id);
  return h(MeetingPage, { feed, initial });
}

export function MeetingView({ route }: ViewProps) {
  const id = /^\d+$/.test(route.id ?? '') ? Number(route.id) : null;
  const loaded = useResource(
    async (signal) => {
      if (id === null) throw new ApiError(404, { title: 'Not found' });
      const [meeting, agenda] = await Promise.all([api.meeting(id, signal), api.agenda(id, signal)]);
      return { meeting, agenda };
    },
    [id],
  );
  const state = loaded.state;
  if (state.status === 'loading') return h(Loading, null, 'Loading the meeting…');
  if (state.status === 'error') {
    if (state.error instanceof ApiError && state.error.status === 404) return h(NotFoundView, null);
    return h('div', null, h(PageHeading, null, 'Meeting'), h(ErrorPanel, { error: state.error }));
  }
  return h(MeetingLive, { key: id, id: id!, initial: state.value });
}

