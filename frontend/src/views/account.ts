import { api, type Session } from '../api';
import { app, navigate } from '../app';
import { announce, badge, capitalise, clear, errorPanel, formatDateTime, h, timeElement } from '../dom';
import type { View } from '../router';
import { signOut } from './header';

/** A short human description of a user agent string. */
export function describeUserAgent(ua: string | null): string {
  if (!ua) return 'Unknown device';
  const browser =
    /Edg\//.test(ua) ? 'Edge'
    : /OPR\//.test(ua) ? 'Opera'
    : /Firefox\//.test(ua) ? 'Firefox'
    : /Chrom(e|ium)\//.test(ua) ? (/HeadlessChrome/.test(ua) ? 'Headless Chrome' : 'Chrome')
    : /Safari\//.test(ua) ? 'Safari'
    : null;
  const os =
    /Windows/.test(ua) ? 'Windows'
    : /iPhone|iPad/.test(ua) ? 'iOS'
    : /Mac OS X|Macintosh/.test(ua) ? 'macOS'
    : /Android/.test(ua) ? 'Android'
    : /Linux/.test(ua) ? 'Linux'
    : null;
  if (browser && os) return `${browser} on ${os}`;
  return browser ?? os ?? ua.slice(0, 60);
}

function sessionsTable(sessions: Session[], reload: () => Promise<void>): HTMLElement {
  if (sessions.length === 0) return h('p', null, 'No active sessions.');
  const rows = sessions.map((s) => {
    const device = describeUserAgent(s.user_agent);
    const revoke = h(
      'button',
      {
        type: 'button',
        class: 'button small',
        'aria-label': `Revoke ${s.current ? 'this session' : `session on ${device} started ${formatDateTime(s.created_at)}`}`,
        onclick: async () => {
          revoke.disabled = true;
          try {
            await api.revokeSession(s.id);
            if (s.current) {
              app.setUser(null);
              navigate('/login', { replace: true });
              announce('This session was revoked. You have signed out.');
              return;
            }
            announce(`Session on ${device} revoked.`);
            await reload();
          } catch (err) {
            revoke.disabled = false;
            announce(err instanceof Error ? `Could not revoke the session: ${err.message}` : 'Could not revoke the session.');
          }
        },
      },
      'Revoke',
    );
    return h(
      'tr',
      { class: s.current ? 'current-row' : undefined },
      h('td', null, h('span', { title: s.user_agent ?? '' }, device), s.current ? [' ', badge('This session', 'good')] : null,
        s.client_ip ? h('div', { class: 'muted small' }, s.client_ip) : null),
      h('td', null, timeElement(s.created_at)),
      h('td', null, timeElement(s.last_seen_at)),
      h('td', null, timeElement(s.expires_at)),
      h('td', { class: 'actions' }, revoke),
    );
  });
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'data-table' },
      h('caption', { class: 'visually-hidden' }, 'Your sessions'),
      h('thead', null, h('tr', null,
        h('th', { scope: 'col' }, 'Device'),
        h('th', { scope: 'col' }, 'Created'),
        h('th', { scope: 'col' }, 'Last seen'),
        h('th', { scope: 'col' }, 'Expires'),
        h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')),
      )),
      h('tbody', null, rows),
    ),
  );
}

export const accountView: View = {
  title: 'My account',
  access: 'user',
  async render(main, { isCurrent }) {
    const user = await api.me().catch(() => app.user);
    if (!isCurrent()) return;
    if (!user) {
      navigate('/login', { replace: true });
      return;
    }
    if (user !== app.user) app.setUser(user);

    const sessionsHolder = h('div', null, h('p', { class: 'muted' }, 'Loading sessions…'));
    const reload = async () => {
      try {
        const page = await api.sessions({ limit: 100 });
        if (!isCurrent()) return;
        clear(sessionsHolder);
        sessionsHolder.append(sessionsTable(page.items, reload));
      } catch (err) {
        if (!isCurrent()) return;
        clear(sessionsHolder);
        sessionsHolder.append(errorPanel(err));
      }
    };

    const everywhere = h('button', {
      type: 'button',
      class: 'button danger',
      onclick: async () => {
        everywhere.disabled = true;
        try {
          await api.revokeAllSessions();
        } catch {
          // fall through: sign out locally anyway
        }
        app.setUser(null);
        navigate('/login', { replace: true });
        announce('You have signed out on every device.');
      },
    }, 'Sign out everywhere');

    main.append(
      h('h1', null, 'My account'),
      h(
        'section',
        { class: 'panel', 'aria-labelledby': 'account-details-title' },
        h('h2', { id: 'account-details-title' }, 'Details'),
        h(
          'dl',
          { class: 'details' },
          h('div', null, h('dt', null, 'Name'), h('dd', { 'data-testid': 'account-name' }, user.display_name)),
          h('div', null, h('dt', null, 'Email'), h('dd', null, user.email)),
          h('div', null, h('dt', null, 'Organisation'), h('dd', { 'data-testid': 'account-organisation' }, `${user.organisation.name} (${user.organisation.short_code})`)),
          h('div', null, h('dt', null, 'Kind'), h('dd', null, capitalise(user.organisation.kind))),
          h('div', null, h('dt', null, 'Role'), h('dd', null, user.is_admin ? 'Administrator' : 'Delegate')),
        ),
      ),
      h(
        'section',
        { class: 'panel', 'aria-labelledby': 'sessions-title' },
        h('h2', { id: 'sessions-title' }, 'Sessions'),
        h('p', { class: 'muted' }, 'Devices where you are signed in. Revoke any you do not recognise.'),
        sessionsHolder,
        h(
          'div',
          { class: 'button-row' },
          h('button', { type: 'button', class: 'button', onclick: () => void signOut() }, 'Sign out'),
          everywhere,
        ),
      ),
    );
    await reload();
  },
};
