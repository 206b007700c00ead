// Small building blocks shared by the views.
import { h, type ComponentChildren } from 'preact';
import { useLayoutEffect, useRef } from 'preact/hooks';
import { ApiError } from '../api';
import { takeFocusRequest } from '../navigation';
import { formatDate, formatDateTime } from './format';

export type Tone = 'neutral' | 'good' | 'warn' | 'bad';

/** A status badge with a text label (colour is never the only cue). */
export function Badge({ tone = 'neutral', children }: { tone?: Tone; children?: ComponentChildren }) {
  return h('span', { class: `badge badge-${tone}` }, children);
}

/** A timestamp (or date) as a `<time>` element, or a dash. */
export function Time({ iso, dateOnly = false }: { iso: string | null | undefined; dateOnly?: boolean }) {
  if (!iso) return h('span', null, '—');
  return h('time', { dateTime: iso }, dateOnly ? formatDate(iso) : formatDateTime(iso));
}

/** The page's `h1`; after a navigation it takes the focus, so screen readers start there. */
export function PageHeading({ id, class: className, children }: { id?: string; class?: string; children?: ComponentChildren }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useLayoutEffect(() => {
    if (takeFocusRequest()) ref.current?.focus({ preventScroll: false });
  }, []);
  return h('h1', { ref, id, class: className, tabIndex: -1 }, children);
}

/** What an error says to the user. */
export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) return err.problem.detail || err.problem.title || `HTTP ${err.status}`;
  if (err instanceof Error && err.message) return err.message;
  return 'Something went wrong.';
}

/** A message block for an error inside a view. */
export function ErrorPanel({ error }: { error: unknown }) {
  return h('div', { class: 'panel panel-error', role: 'alert' }, h('p', null, errorMessage(error)));
}

export function Loading({ children }: { children?: ComponentChildren }) {
  return h('p', { class: 'muted' }, children);
}
