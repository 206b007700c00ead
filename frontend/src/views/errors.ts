import { app } from '../app';
import { h } from '../dom';
import type { View } from '../router';

export const notFoundView: View = {
  title: 'Page not found',
  access: 'public',
  render(main) {
    main.append(
      h(
        'section',
        { class: 'panel narrow' },
        h('h1', null, 'Page not found'),
        h('p', null, 'There is no page at this address. It may have moved, or the link may be mistyped.'),
        h('p', null, h('a', { href: app.user ? '/account' : '/login' }, app.user ? 'Go to your account' : 'Go to sign in')),
      ),
    );
  },
};

export const forbiddenView: View = {
  title: 'Not allowed',
  access: 'user',
  render(main) {
    main.append(
      h(
        'section',
        { class: 'panel narrow' },
        h('h1', null, 'Not allowed'),
        h('p', null, 'This page is for secretariat administrators.'),
        h('p', null, h('a', { href: '/account' }, 'Go to your account')),
      ),
    );
  },
};
