import { h } from 'preact';
import { currentUser } from '../session';
import { PageHeading } from '../ui/common';

export function NotFoundView() {
  const user = currentUser.value;
  return h(
    'section',
    { class: 'panel narrow' },
    h(PageHeading, null, 'Page not found'),
    h('p', null, 'There is no page at this address. It may have moved, or the link may be mistyped.'),
    h('p', null, h('a', { href: user ? '/' : '/login' }, user ? 'Go to Today' : 'Go to sign in')),
  );
}

export function ForbiddenView() {
  return h(
    'section',
    { class: 'panel narrow' },
    h(PageHeading, null, 'Not allowed'),
    h('p', null, 'This page is for secretariat administrators.'),
    h('p', null, h('a', { href: '/account' }, 'Go to your account')),
  );
}
