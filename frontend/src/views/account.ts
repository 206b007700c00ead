import { h } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type Session } from '../api';
import { navigate } from '../navigation';
import { currentUser, refreshUser, setUser, signOut } from '../session';
import { announce } from '../status';
import { Badge, ErrorPanel, Loading, PageHeading, Time } from '../ui/common';
import { capitalise, formatDateTime } from '../ui/format';
import { isAbort, useResource, useUnmountSignal } from '../ui/hooks';

/** A short human description of a user agent string. */
export function describeUserAgent(ua: string | null | undefined): string {
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

function SessionRow({ session: s, onRevoked }: { session: Session; onRevoked: (s: Session) => void }) {
  const signal = useUnmountSignal();
  const [busy, setBusy] = useState(false);
  const device = describeUserAgent(s.user_agent);
  const revoke = async () => {
    setBusy(true);
    try {
      await api.revokeSession(s.id, signal);
      if (s.current) {
        setUser(null);
        navigate('/login', { replace: true });
        announce('This session was revoked. You have signed out.');
        return;
      }
      announce(`Session on ${device} revoked.`);
      onRevoked(s);
    } catch (err) {
      if (isAbort(err)) return;
      setBusy(false);
      announce(err instanceof Error ? `Could not revoke the session: ${err.message}` : 'Could not revoke the session.');
    }
  };
  return h(
    'tr',
    { class: s.current ? 'current-row' : undefined },
    h(
      'td',
      null,
      h('span', { title: s.user_agent ?? '' }, device),
      s.current ? [' ', h(Badge, { tone: 'good' }, 'This session')] : null,
      s.client_ip ? h('div', { class: 'muted small' }, s.client_ip) : null,
    ),
    h('td', null, h(Time, { iso: s.created_at })),
    h('td', null, h(Time, { iso: s.last_seen_at })),
    h('td', null, h(Time, { iso: s.expires_at })),
    h(
      'td',
      { class: 'actions' },
      h(
        'button',
        {
          type: 'button',
          class: 'button small',
          disabled: busy,
          'aria-label': `Revoke ${s.current ? 'this session' : `session on ${device} started ${formatDateTime(s.created_at)}`}`,
          onClick: () => void revoke(),
        },
        'Revoke',
      ),
    ),
  );
}

function SessionsTable({ sessions, onRevoked }: { sessions: Session[]; onRevoked: (s: Session) => void }) {
  if (sessions.length === 0) return h('p', null, 'No active sessions.');
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'data-table' },
      h('caption', { class: 'visually-hidden' }, 'Your sessions'),
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          h('th', { scope: 'col' }, 'Device'),
          h('th', { scope: 'col' }, 'Created'),
          h('th', { scope: 'col' }, 'Last seen'),
          h('th', { scope: 'col' }, 'Expires'),
          h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')),
        ),
      ),
      h('tbody', null, sessions.map((s) => h(SessionRow, { key: s.id, session: s, onRevoked }))),
    ),
  );
}

export function AccountView() {
  const user = currentUser.value;
  const signal = useUnmountSignal();
  const sessionsTitle = useRef<HTMLHeadingElement>(null);
  const sessions = useResource((signal) => api.sessions(signal), []);
  const [leaving, setLeaving] = useState(false);

  // The details come from the shared user; ask the server for the latest once.
  useEffect(() => {
    const controller = new AbortController();
    refreshUser(controller.signal).catch(() => undefined);
    return () => controller.abort();
  }, []);

  if (!user) return null;

  const onRevoked = (revoked: Session) => {
    sessions.update((page) => ({ ...page, items: page.items.filter((s) => s.id !== revoked.id) }));
    // The revoked row and its button are gone: keep the keyboard user in the section.
    sessionsTitle.current?.focus();
    sessions.reload();
  };

  const signOutEverywhere = async () => {
    setLeaving(true);
    try {
      await api.revokeAllSessions(signal);
    } catch (err) {
      if (isAbort(err)) return;
      // Otherwise sign out locally anyway.
    }
    setUser(null);
    navigate('/login', { replace: true });
    announce('You have signed out on every device.');
  };

  const state = sessions.state;
  return h(
    'div',
    null,
    h(PageHeading, null, 'My account'),
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'account-details-title' },
      h('h2', { id: 'account-details-title' }, 'Details'),
      h(
        'dl',
        { class: 'details' },
        h('div', null, h('dt', null, 'Name'), h('dd', { 'data-testid': 'account-name' }, user.display_name)),
        h('div', null, h('dt', null, 'Email'), h('dd', null, user.email)),
        h(
          'div',
          null,
          h('dt', null, 'Organisation'),
          h('dd', { 'data-testid': 'account-organisation' }, `${user.organisation.name} (${user.organisation.short_code})`),
        ),
        h('div', null, h('dt', null, 'Kind'), h('dd', null, capitalise(user.organisation.kind))),
        h('div', null, h('dt', null, 'Role'), h('dd', null, user.is_admin ? 'Administrator' : 'Delegate')),
      ),
    ),
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'sessions-title' },
      h('h2', { id: 'sessions-title', ref: sessionsTitle, tabIndex: -1 }, 'Sessions'),
      h('p', { class: 'muted' }, 'Devices where you are signed in. Revoke any you do not recognise.'),
      state.status === 'loading'
        ? h(Loading, null, 'Loading sessions…')
        : state.status === 'error'
          ? h(ErrorPanel, { error: state.error })
          : h(SessionsTable, { sessions: state.value.items, onRevoked }),
      h(
        'div',
        { class: 'button-row' },
        h('button', { type: 'button', class: 'button', onClick: () => void signOut() }, 'Sign out'),
        h('button', { type: 'button', class: 'button danger', disabled: leaving, onClick: () => void signOutEverywhere() }, 'Sign out everywhere'),
      ),
    ),
  );
}
