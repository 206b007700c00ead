// "Today": where a signed-in user lands. The meetings in session with the item on the floor
// (live, through the same feed as the meeting page), the upcoming meetings, the drafts open,
// and what needs attention. The lists are fetched again every little while.
import { h } from 'preact';
import { useEffect } from 'preact/hooks';
import { api, type HomeNeed, type MeetingSummary } from '../api';
import { useMeetingFeed } from '../meeting-live';
import { currentUser } from '../session';
import { ErrorPanel, Loading, PageHeading } from '../ui/common';
import { useResource } from '../ui/hooks';
import { bodyHref } from './bodies';
import { DraftStateBadge } from './drafts';
import { CurrentItemLine, MeetingStateBadge, MeetingWhenText, meetingHref, meetingKindLabel } from './meeting-common';

const REFRESH_MS = 15_000;

/** A meeting in session: its item on the floor follows the live feed. */
function InSessionMeeting({ summary }: { summary: MeetingSummary }) {
  const feed = useMeetingFeed(summary.id);
  const live = feed.meeting.value;
  const current = live ? live.current_item : summary.current_item;
  return h(
    'li',
    { class: 'home-meeting in-session' },
    h('p', { class: 'home-meeting-title' }, h('a', { href: meetingHref(summary.id) }, summary.title), h('span', { class: 'muted' }, ` · ${summary.body_short_name}`)),
    h('p', { class: 'home-floor' }, h('span', { class: 'muted' }, 'On the floor: '), h(CurrentItemLine, { current })),
    summary.venue ? h('p', { class: 'muted small' }, summary.venue) : null,
  );
}

function needHref(need: HomeNeed): string | null {
  if (need.meeting_id != null) return meetingHref(need.meeting_id);
  if (need.body_id != null) return bodyHref(need.body_id);
  return null;
}

export function HomeView() {
  const home = useResource((signal) => api.home(signal), []);
  useEffect(() => {
    const timer = window.setInterval(() => home.reload(), REFRESH_MS);
    return () => window.clearInterval(timer);
  }, []);
  const user = currentUser.value;
  const state = home.state;
  if (state.status === 'loading') return h('div', null, h(PageHeading, null, 'Today'), h(Loading, null, 'Loading…'));
  if (state.status === 'error') return h('div', null, h(PageHeading, null, 'Today'), h(ErrorPanel, { error: state.error }));
  const { in_session: inSession, upcoming, drafts, needs } = state.value;
  return h(
    'div',
    null,
    h(PageHeading, null, 'Today'),
    user ? h('p', { class: 'muted' }, `Signed in as ${user.display_name}, ${user.organisation.name}.`) : null,
    needs.length
      ? h(
          'section',
          { class: 'panel panel-warning', 'aria-labelledby': 'needs-title' },
          h('h2', { id: 'needs-title' }, h('span', { 'aria-hidden': 'true' }, '⚠ '), 'Needs attention'),
          h(
            'ul',
            { class: 'warning-list' },
            needs.map((n, i) => {
              const href = needHref(n);
              return h('li', { key: `${n.kind}-${i}` }, href ? h('a', { href, class: 'warning-link' }, n.message) : n.message);
            }),
          ),
        )
      : null,
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'home-in-session-title' },
      h('h2', { id: 'home-in-session-title' }, 'In session now'),
      inSession.length
        ? h('ul', { class: 'home-list' }, inSession.map((m) => h(InSessionMeeting, { key: m.id, summary: m })))
        : h('p', { class: 'muted' }, 'No meeting is in session.'),
    ),
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'home-upcoming-title' },
      h('h2', { id: 'home-upcoming-title' }, 'Upcoming meetings'),
      upcoming.length
        ? h(
            'ul',
            { class: 'home-list' },
            upcoming.map((m) =>
              h(
                'li',
                { key: m.id, class: 'home-meeting' },
                h('p', { class: 'home-meeting-title' }, h('a', { href: meetingHref(m.id) }, m.title), h('span', { class: 'muted' }, ` · ${m.body_short_name} · ${meetingKindLabel(m.kind)}`), ' ', h(MeetingStateBadge, { state: m.state })),
                h('p', { class: 'small' }, h(MeetingWhenText, { meeting: m, short: true }), m.venue ? ` · ${m.venue}` : ''),
              ),
            ),
          )
        : h('p', { class: 'muted' }, 'No meeting is planned.'),
      h('p', null, h('a', { href: '/meetings' }, 'All meetings')),
    ),
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'home-drafts-title' },
      h('h2', { id: 'home-drafts-title' }, 'Drafts open'),
      drafts.length
        ? h(
            'ul',
            { class: 'home-list' },
            drafts.map((d) =>
              h('li', { key: d.id, class: 'home-draft' }, h('a', { href: `/drafts/${encodeURIComponent(String(d.id))}` }, d.title), ' ', h(DraftStateBadge, { state: d.state === 'locked' ? 'locked' : 'drafting' })),
            ),
          )
        : h('p', { class: 'muted' }, 'No draft is open.'),
    ),
  );
}
