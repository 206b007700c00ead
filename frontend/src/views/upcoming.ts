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

export function RecommendationsView() {
  return h(
    Upcoming,
    { title: 'Recommendations' },
    h('p', null, 'Recommendations made to participants will be listed here, with how the implementation of each is followed up over the years.'),
    h('p', null, 'Recommendations cannot be recorded in Plenum yet, so this list is empty.'),
  );
}
