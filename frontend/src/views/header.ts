import { api } from '../api';
import { app, navigate } from '../app';
import { announce, clear, h } from '../dom';

function navLink(href: string, label: string, currentPath: string): HTMLLIElement {
  const current = currentPath === href || currentPath.startsWith(`${href}/`);
  return h('li', null, h('a', { href, class: 'nav-link', 'aria-current': current ? 'page' : undefined }, label));
}

export async function signOut(): Promise<void> {
  try {
    await api.logout();
  } catch {
    // Whatever the server says, the UI forgets the user.
  }
  app.setUser(null);
  navigate('/login', { replace: true });
  announce('You have signed out.');
}

export function renderHeader(currentPath: string): void {
  const header = document.getElementById('site-header');
  if (!header) return;
  clear(header);
  const user = app.user;
  const brand = h('a', { href: user ? '/account' : '/login', class: 'brand' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, 'P'), 'Plenum');
  if (!user) {
    header.appendChild(h('div', { class: 'header-inner' }, brand));
    return;
  }
  const links = [navLink('/drafts', 'Drafts', currentPath), navLink('/account', 'Account', currentPath)];
  if (user.is_admin) {
    links.push(navLink('/admin/organisations', 'Organisations', currentPath));
    links.push(navLink('/admin/users', 'Users', currentPath));
  }
  header.appendChild(
    h(
      'div',
      { class: 'header-inner' },
      brand,
      h('nav', { 'aria-label': 'Main' }, h('ul', { class: 'nav-list' }, links)),
      h(
        'div',
        { class: 'header-user' },
        h('span', { class: 'header-user-name' }, user.display_name, h('span', { class: 'header-user-org' }, ` · ${user.organisation.short_code}`)),
        h('button', { type: 'button', class: 'button subtle', onclick: () => void signOut() }, 'Sign out'),
      ),
    ),
  );
}
