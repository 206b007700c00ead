// Application state (who is signed in) and client-side navigation.
import { api, ApiError, type User } from './api';

type Listener = () => void;

class AppState {
  user: User | null = null;
  /** True once /api/me has answered at least once. */
  known = false;
  private listeners = new Set<Listener>();

  subscribe(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  setUser(user: User | null): void {
    this.user = user;
    this.known = true;
    for (const l of this.listeners) l();
  }

  async refresh(): Promise<User | null> {
    try {
      this.setUser(await api.me());
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) this.setUser(null);
      else throw err;
    }
    return this.user;
  }
}

export const app = new AppState();

// ---------------------------------------------------------------------------
// Navigation (History API)

type NavigateHandler = (focus: boolean) => void;
let onNavigate: NavigateHandler = () => undefined;

export function setNavigateHandler(handler: NavigateHandler): void {
  onNavigate = handler;
}

export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  const url = new URL(to, window.location.origin);
  const target = url.pathname + url.search + url.hash;
  if (opts.replace) window.history.replaceState(null, '', target);
  else window.history.pushState(null, '', target);
  onNavigate(true);
}

/** A same-origin path that is safe to redirect to after sign-in. */
export function safeNext(next: string | null): string | null {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return null;
  if (next.startsWith('/login') || next.startsWith('/api/')) return null;
  return next;
}

export function homeFor(user: User): string {
  return user.is_admin ? '/admin/organisations' : '/account';
}

/** Intercept clicks on same-origin links so they route client-side. */
export function installLinkInterception(): void {
  document.addEventListener('click', (event) => {
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const target = event.target as Element | null;
    const anchor = target?.closest('a');
    if (!anchor || !anchor.href) return;
    if (anchor.target && anchor.target !== '_self') return;
    if (anchor.hasAttribute('download') || anchor.getAttribute('rel')?.includes('external')) return;
    const url = new URL(anchor.href);
    if (url.origin !== window.location.origin) return;
    if (url.pathname.startsWith('/api/')) return;
    // In-page fragment (e.g. the skip link): let the browser handle it.
    if (url.pathname === window.location.pathname && url.search === window.location.search && url.hash) return;
    event.preventDefault();
    navigate(url.pathname + url.search + url.hash);
  });
  window.addEventListener('popstate', () => onNavigate(true));
}
