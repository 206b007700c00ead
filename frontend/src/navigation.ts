// Client-side navigation (History API): the current location is a signal the router renders.
import { signal } from '@preact/signals';

export interface Location {
  /** Path without a trailing slash (except `/`). */
  path: string;
  search: string;
}

function normalisePath(pathname: string): string {
  if (pathname.length > 1 && pathname.endsWith('/')) return pathname.replace(/\/+$/, '') || '/';
  return pathname;
}

function readLocation(): Location {
  return { path: normalisePath(window.location.pathname), search: window.location.search };
}

/** Where the browser is. */
export const location = signal<Location>(readLocation());

/** Set on a user-initiated navigation: the next page heading takes the focus. */
let focusRequestFor: string | null = null;

function locationKey(l: Location): string {
  return l.path + l.search;
}

/** Called once by the page heading: true when it should take the focus (after a navigation). */
export function takeFocusRequest(): boolean {
  if (focusRequestFor === null || focusRequestFor !== locationKey(location.value)) return false;
  focusRequestFor = null;
  return true;
}

function changed(focus: boolean): void {
  const next = readLocation();
  if (focus) focusRequestFor = locationKey(next);
  location.value = next;
}

export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  const url = new URL(to, window.location.origin);
  const target = url.pathname + url.search + url.hash;
  if (opts.replace) window.history.replaceState(null, '', target);
  else window.history.pushState(null, '', target);
  changed(true);
}

/** A same-origin path that is safe to redirect to after sign-in. */
export function safeNext(next: string | null): string | null {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return null;
  if (next.startsWith('/login') || next.startsWith('/api/')) return null;
  return next;
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
  window.addEventListener('popstate', () => changed(true));
}
