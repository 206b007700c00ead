// The page around every view: skip link, header with the navigation, main, live region.
import { Fragment, h } from 'preact';
import { location } from './navigation';
import { currentUser, signOut } from './session';
import { statusMessage } from './status';
import { Routed } from './router';

interface NavItem {
  href: string;
  label: string;
  /** Other paths (and the paths below them) that belong to this area. */
  also?: string[];
}

/** The areas of the body's work, in the order a delegate meets them. */
const AREAS: NavItem[] = [
  { href: '/', label: 'Today' },
  { href: '/bodies', label: 'Bodies' },
  { href: '/meetings', label: 'Meetings' },
  { href: '/drafts', label: 'Drafts' },
  { href: '/decisions', label: 'Decisions' },
  { href: '/recommendations', label: 'Recommendations', also: ['/stocktaking', '/review-visits'] },
  { href: '/account', label: 'Account' },
];

/** Secretariat administration, for administrators only. */
const ADMIN: NavItem[] = [
  { href: '/admin/organisations', label: 'Organisations' },
  { href: '/admin/users', label: 'Users' },
];

/** A participant's delegates' own page: the recommendations addressed to their organisation. */
function ourRecommendations(organisationId: number): NavItem {
  return { href: `/participants/${organisationId}/recommendations`, label: 'Our recommendations' };
}

function NavLink({ item, path, first }: { item: NavItem; path: string; first?: boolean }) {
  const under = (href: string) => path === href || (href !== '/' && path.startsWith(`${href}/`));
  const current = under(item.href) || (item.also ?? []).some(under);
  return h(
    'li',
    { class: first ? 'nav-group-start' : undefined },
    h('a', { href: item.href, class: 'nav-link', 'aria-current': current ? 'page' : undefined }, item.label),
  );
}

function Header() {
  const user = currentUser.value;
  const path = location.value.path;
  const brand = h(
    'a',
    { href: user ? '/' : '/login', class: 'brand' },
    h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, 'P'),
    'Plenum',
  );
  if (!user) return h('header', { class: 'site-header' }, h('div', { class: 'header-inner' }, brand));
  const areas =
    user.organisation.kind === 'participant'
      ? AREAS.flatMap((a) => (a.href === '/recommendations' ? [a, ourRecommendations(user.organisation.id)] : [a]))
      : AREAS;
  const items = user.is_admin ? [...areas, ...ADMIN] : areas;
  return h(
    'header',
    { class: 'site-header' },
    h(
      'div',
      { class: 'header-inner' },
      brand,
      h(
        'nav',
        { 'aria-label': 'Main' },
        h('ul', { class: 'nav-list' }, items.map((item) => h(NavLink, { key: item.href, item, path, first: item === ADMIN[0] }))),
      ),
      h(
        'div',
        { class: 'header-user' },
        h(
          'span',
          { class: 'header-user-name' },
          user.display_name,
          h('span', { class: 'header-user-org' }, ` · ${user.organisation.short_code}`),
        ),
        h('button', { type: 'button', class: 'button subtle', onClick: () => void signOut() }, 'Sign out'),
      ),
    ),
  );
}

export function App() {
  return h(
    Fragment,
    null,
    h('a', { class: 'skip-link', href: '#main' }, 'Skip to main content'),
    h(Header, null),
    h('main', { id: 'main', class: 'site-main', tabIndex: -1 }, h(Routed, null)),
    h('div', { id: 'status', class: 'visually-hidden', role: 'status', 'aria-live': 'polite', 'aria-atomic': 'true' }, statusMessage),
  );
}
