// Peer-review visits: the list (participant, body, dates, team, state, report) and one visit's
// page with the recommendations issued from its report.
import { h } from 'preact';
import { ApiError, evidenceHref, recommendationsApi, type ReviewVisit } from '../api';
import type { ViewProps } from '../router';
import { Badge, ErrorPanel, Loading, PageHeading, Time } from '../ui/common';
import { formatDate } from '../ui/format';
import { useResource } from '../ui/hooks';
import { formatBytes } from './meeting-common';
import {
  RecommendationsNav,
  originLabel,
  recommendationHref,
  visitHref,
  visitStateLabel,
  visitStateTone,
} from './recommendation-common';

function Dates({ visit }: { visit: ReviewVisit }) {
  if (!visit.starts_on && !visit.ends_on) return h('span', { class: 'muted' }, 'Not set');
  if (visit.starts_on && visit.ends_on && visit.starts_on !== visit.ends_on) {
    return h('span', null, h(Time, { iso: visit.starts_on, dateOnly: true }), ' – ', h(Time, { iso: visit.ends_on, dateOnly: true }));
  }
  return h(Time, { iso: visit.starts_on ?? visit.ends_on, dateOnly: true });
}

function Team({ visit }: { visit: ReviewVisit }) {
  if (!visit.team.length) return h('span', { class: 'muted' }, 'Not named yet');
  const sorted = [...visit.team].sort((a, b) => (a.role === b.role ? 0 : a.role === 'leader' ? -1 : 1));
  return h(
    'ul',
    { class: 'plain-list' },
    sorted.map((m) => h('li', { key: m.organisation.id }, `${m.organisation.name} (${m.organisation.short_code})`, m.role === 'leader' ? h('span', { class: 'muted' }, ' — team leader') : null)),
  );
}

function Report({ visit }: { visit: ReviewVisit }) {
  if (!visit.report) return h('span', { class: 'muted' }, visit.report_title ? `${visit.report_title} (not yet available)` : 'Not yet available');
  return h(
    'span',
    null,
    h('a', { href: evidenceHref(visit.report.id), download: visit.report.filename }, visit.report_title || visit.report.filename),
    h('span', { class: 'muted' }, ` — ${formatBytes(visit.report.size)}`),
  );
}

export function ReviewVisitsView() {
  const visits = useResource((signal) => recommendationsApi.reviewVisits(signal), []);
  const state = visits.state;
  return h(
    'div',
    null,
    h(PageHeading, null, 'Review visits'),
    h(RecommendationsNav, null),
    h('p', { class: 'lead' }, 'Peer-review visits to participants: who visits, when, the report, and the recommendations issued from it.'),
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'visits-title' },
      h('h2', { id: 'visits-title' }, 'Visits'),
      state.status === 'loading'
        ? h(Loading, null, 'Loading the visits…')
        : state.status === 'error'
          ? h(ErrorPanel, { error: state.error })
          : state.value.length === 0
            ? h('p', null, 'No review visit yet.')
            : h(
                'div',
                { class: 'table-wrap' },
                h(
                  'table',
                  { class: 'data-table' },
                  h('caption', { class: 'visually-hidden' }, 'Review visits'),
                  h(
                    'thead',
                    null,
                    h('tr', null, ['Participant', 'Followed up by', 'Dates', 'Team', 'State', 'Report', 'Recommendations'].map((c) => h('th', { key: c, scope: 'col' }, c))),
                  ),
                  h(
                    'tbody',
                    null,
                    state.value.map((v) =>
                      h(
                        'tr',
                        { key: v.id },
                        h('th', { scope: 'row' }, h('a', { href: visitHref(v.id) }, `${v.participant.name} (${v.participant.short_code})`)),
                        h('td', null, h('abbr', { title: v.body.name }, v.body.short_name)),
                        h('td', null, h(Dates, { visit: v })),
                        h('td', null, h(Team, { visit: v })),
                        h('td', null, h(Badge, { tone: visitStateTone(v.state) }, visitStateLabel(v.state))),
                        h('td', null, h(Report, { visit: v })),
                        h('td', null, String(v.recommendations.length)),
                      ),
                    ),
                  ),
                ),
              ),
    ),
  );
}

function VisitNotFound() {
  return h(
    'section',
    { class: 'panel narrow' },
    h(PageHeading, null, 'Review visit not found'),
    h('p', null, 'There is no review visit at this address, or it is not open to you.'),
    h('p', null, h('a', { href: '/review-visits' }, 'Back to the review visits')),
  );
}

function visitTitle(v: ReviewVisit): string {
  const year = (v.starts_on ?? v.ends_on ?? v.created_at).slice(0, 4);
  return `Review visit to ${v.participant.name}, ${year}`;
}

export function ReviewVisitView({ route }: ViewProps) {
  const id = route.id ?? '';
  const valid = /^\d+$/.test(id);
  const visit = useResource((signal) => (valid ? recommendationsApi.reviewVisit(Number(id), signal) : Promise.resolve(null)), [id]);
  const state = visit.state;
  if (!valid) return h(VisitNotFound, null);
  if (state.status === 'loading') return h(Loading, null, 'Loading the visit…');
  if (state.status === 'error') {
    if (state.error instanceof ApiError && state.error.status === 404) return h(VisitNotFound, null);
    return h('div', null, h(PageHeading, null, 'Review visit'), h(ErrorPanel, { error: state.error }));
  }
  const v = state.value;
  if (!v) return h(VisitNotFound, null);
  return h(
    'div',
    null,
    h('p', { class: 'breadcrumb' }, h('a', { href: '/review-visits' }, '← All review visits')),
    h(PageHeading, null, visitTitle(v)),
    h(RecommendationsNav, null),
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'visit-facts-title' },
      h('h2', { id: 'visit-facts-title', class: 'visually-hidden' }, 'About the visit'),
      h(
        'dl',
        { class: 'details' },
        h('div', null, h('dt', null, 'Participant visited'), h('dd', null, `${v.participant.name} (${v.participant.short_code})`)),
        h('div', null, h('dt', null, 'Followed up by'), h('dd', null, h('a', { href: `/bodies/${encodeURIComponent(String(v.body.id))}` }, `${v.body.short_name} — ${v.body.name}`))),
        h('div', null, h('dt', null, 'Origin'), h('dd', null, originLabel(v.origin))),
        h('div', null, h('dt', null, 'State'), h('dd', null, h(Badge, { tone: visitStateTone(v.state) }, visitStateLabel(v.state)))),
        h('div', null, h('dt', null, 'Dates'), h('dd', null, h(Dates, { visit: v }))),
        h('div', null, h('dt', null, 'Team'), h('dd', null, h(Team, { visit: v }))),
        h('div', null, h('dt', null, 'Report'), h('dd', null, h(Report, { visit: v }))),
        v.report_adopted_on ? h('div', null, h('dt', null, 'Report adopted'), h('dd', null, formatDate(v.report_adopted_on))) : null,
        v.vocabulary ? h('div', null, h('dt', null, 'Recommendations tracked with'), h('dd', null, v.vocabulary.name)) : null,
      ),
      v.notes ? h('div', { class: 'subsection' }, h('h3', null, 'Notes'), h('p', { class: 'reason' }, v.notes)) : null,
    ),
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'visit-recs-title' },
      h('h2', { id: 'visit-recs-title' }, 'Recommendations from the report'),
      v.recommendations.length
        ? h(
            'ul',
            { class: 'plain-list' },
            v.recommendations.map((r) => h('li', { key: r.id }, h('a', { href: recommendationHref(r.id) }, r.code), ` — ${r.title}`)),
          )
        : h('p', null, 'No recommendation issued from this visit yet.'),
    ),
  );
}
