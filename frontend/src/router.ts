// Route table and the render loop.
import { app, homeFor, navigate, setNavigateHandler } from './app';
import { clear, h } from './dom';
import { renderHeader } from './views/header';
import { loginView } from './views/login';
import { invitationView } from './views/invitation';
import { resetPasswordView } from './views/reset-password';
import { accountView } from './views/account';
import { organisationsView } from './views/organisations';
import { usersView } from './views/users';
import { notFoundView, forbiddenView } from './views/errors';
import { draftsView } from './views/drafts';
import { draftRoomView } from './views/draft-room';

export interface ViewContext {
  params: URLSearchParams;
  /** Named groups of a pattern route (e.g. `id` of /drafts/{id}). */
  route: Record<string, string>;
  /** Run `fn` when the user navigates away from this view (close sockets, timers…). */
  onLeave: (fn: () => void) => void;
  /** False once the user has navigated elsewhere: stop touching the DOM. */
  isCurrent: () => boolean;
}

export interface View {
  title: string;
  /** 'public' pages are for anyone; 'guest' pages redirect signed-in users home; 'user'/'admin' need sign-in. */
  access: 'public' | 'guest' | 'user' | 'admin';
  render: (main: HTMLElement, ctx: ViewContext) => void | Promise<void>;
}

const routes: Record<string, View> = {
  '/login': loginView,
  '/invitation': invitationView,
  '/reset-password': resetPasswordView,
  '/account': accountView,
  '/admin/organisations': organisationsView,
  '/admin/users': usersView,
  '/drafts': draftsView,
};

/** Routes with a path parameter, tried after the exact routes. */
const patternRoutes: { pattern: RegExp; view: View }[] = [
  { pattern: /^\/drafts\/(?<id>[^/]+)$/, view: draftRoomView },
];

function matchRoute(path: string): { view: View; route: Record<string, string> } {
  const exact = routes[path];
  if (exact) return { view: exact, route: {} };
  for (const { pattern, view } of patternRoutes) {
    const m = pattern.exec(path);
    if (m) {
      const route: Record<string, string> = {};
      for (const [k, v] of Object.entries(m.groups ?? {})) {
        try {
          route[k] = decodeURIComponent(v);
        } catch {
          route[k] = v;
        }
      }
      return { view, route };
    }
  }
  return { view: notFoundView, route: {} };
}

/** Clean-up functions of the view currently shown. */
let leaveHandlers: (() => void)[] = [];

function leaveCurrentView(): void {
  const handlers = leaveHandlers;
  leaveHandlers = [];
  for (const fn of handlers) {
    try {
      fn();
    } catch (err) {
      console.error('view clean-up failed', err);
    }
  }
}

let renderCount = 0;

function normalisePath(pathname: string): string {
  if (pathname.length > 1 && pathname.endsWith('/')) return pathname.replace(/\/+$/, '');
  return pathname;
}

export async function render(focus: boolean): Promise<void> {
  const id = ++renderCount;
  const isCurrent = () => id === renderCount;
  leaveCurrentView();
  const onLeave = (fn: () => void) => {
    // A view that finished after the user moved on cleans up at once.
    if (isCurrent()) leaveHandlers.push(fn);
    else fn();
  };
  const main = document.getElementById('main') as HTMLElement;
  const path = normalisePath(window.location.pathname);
  const params = new URLSearchParams(window.location.search);

  if (!app.known) {
    try {
      await app.refresh();
    } catch {
      app.setUser(null);
    }
    if (!isCurrent()) return;
  }
  const user = app.user;

  if (path === '/') {
    navigate(user ? homeFor(user) : '/login', { replace: true });
    return;
  }

  const { view, route } = matchRoute(path);
  if ((view.access === 'user' || view.access === 'admin') && !user) {
    const next = window.location.pathname + window.location.search;
    navigate(`/login?next=${encodeURIComponent(next)}`, { replace: true });
    return;
  }
  // Signed-in users have nothing to do on the sign-in page; invitation and
  // password-reset pages stay reachable (a link may be for another account).
  if (view.access === 'guest' && user) {
    navigate(homeFor(user), { replace: true });
    return;
  }
  const effective = view.access === 'admin' && user && !user.is_admin ? forbiddenView : view;

  renderHeader(path);
  document.title = `${effective.title} · Plenum`;
  clear(main);
  main.setAttribute('aria-busy', 'true');
  try {
    await effective.render(main, { params, route, isCurrent, onLeave });
  } catch (err) {
    if (isCurrent()) {
      clear(main);
      main.appendChild(
        h('div', { class: 'panel panel-error', role: 'alert' }, h('h1', { tabindex: '-1' }, 'Something went wrong'),
          h('p', null, err instanceof Error ? err.message : String(err))),
      );
    }
  } finally {
    if (isCurrent()) main.setAttribute('aria-busy', 'false');
  }
  if (!isCurrent()) return;
  if (focus) {
    const heading = main.querySelector<HTMLElement>('h1');
    if (heading) {
      heading.tabIndex = -1;
      heading.focus({ preventScroll: false });
    } else {
      main.focus();
    }
  }
}

export function startRouter(): void {
  setNavigateHandler((focus) => void render(focus));
  void render(false);
}
