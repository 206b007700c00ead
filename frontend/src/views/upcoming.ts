// The areas Plenum does not cover yet. Each page says plainly what will appear there and what
// to use meanwhile; none shows invented data.
import { h, type ComponentChildren } from 'preact';
import { PageHeading } from '../ui/common';

function Upcoming({ title, children }: { title: string; children?: ComponentChildren }) {
  return h(
    'div',
    null,
    h(PageHeading, null, title),
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'upcoming-title' },
      h('h2', { id: 'upcoming-title' }, 'Not available yet'),
      children,
    ),
  );
}

export function DecisionsView() {
  return h(
    Upcoming,
    { title: 'Decisions' },
    h('p', null, 'Decisions adopted by the bodies, in a meeting or by written procedure, will be listed here, each with the text agreed in its drafting room.'),
    h('p', null, 'Decisions cannot be recorded in Plenum yet. Texts are already drafted together under ', h('a', { href: '/drafts' }, 'Drafts'), '.'),
  );
}

export function RecommendationsView() {
  return h(
    Upcoming,
    { title: 'Recommendations' },
    h('p', null, 'Recommendations made to participants will be listed here, with how the implementation of each is followed up over the years.'),
    h('p', null, 'Recommendations cannot be recorded in Plenum yet, so this list is empty.'),
  );
}
