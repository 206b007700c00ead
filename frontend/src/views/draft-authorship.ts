// Authorship colours: a draft's text (the current one, or a saved version's) as passages
// coloured by the organisation that wrote them, with a legend of the organisations' shares.
// Shown on request (a toggle button), read only, beside the live editor or instead of a
// version's plain text. Colour is never the only cue: every organisation's run of text starts
// with its short code (visible, hidden from screen readers) and a visually hidden
// "(written by …)", and each passage names its writer in its title.
import type { Signal } from '@preact/signals';
import { Fragment, h, type ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type Authorship } from '../api';
import { errorMessage } from '../ui/common';
import { isAbort } from '../ui/hooks';

/** Pastel backgrounds (style.css: .author-0 … .author-9), all far above 4.5:1 under the ink colour. */
const COLOURS = 10;
/** How long the text must rest before the colours of the live text are asked for again. */
const DEBOUNCE_MS = 1000;

/** A colour slot per organisation: by id, so an organisation keeps its colour as the text grows. */
function colourSlots(ids: number[]): Map<number, number> {
  const slots = new Map<number, number>();
  const used = new Set<number>();
  for (const id of [...new Set(ids)].sort((a, b) => a - b)) {
    let slot = Math.abs(id) % COLOURS;
    for (let i = 0; i < COLOURS && used.has(slot); i++) slot = (slot + 1) % COLOURS;
    used.add(slot);
    slots.set(id, slot);
  }
  return slots;
}

function colourClass(slots: Map<number, number>, orgId: number | null | undefined): string {
  return orgId == null ? 'author-unknown' : `author-${slots.get(orgId) ?? 0}`;
}

function percent(part: number, total: number): string {
  if (total <= 0 || part <= 0) return '0%';
  const p = (part / total) * 100;
  return p < 1 ? 'under 1%' : `${Math.round(p)}%`;
}

interface AuthorshipState {
  value: Authorship | null;
  loading: boolean;
  error: string;
}

/**
 * The authorship of the draft's current text (`version` null) or of a version, while `on`:
 * fetched at once when switched on, and again a second after the text last changed
 * (`changes` grows with every change of the live text).
 */
function useAuthorship(draftId: number, version: number | null, on: boolean, changes?: Signal<number>): AuthorshipState {
  const [state, setState] = useState<AuthorshipState>({ value: null, loading: false, error: '' });
  // Reading the signal here re-renders only this component when the text changes.
  const seq = changes ? changes.value : 0;
  const wasOn = useRef(false);
  useEffect(() => {
    if (!on) {
      wasOn.current = false;
      setState({ value: null, loading: false, error: '' });
      return undefined;
    }
    const first = !wasOn.current;
    wasOn.current = true;
    const controller = new AbortController();
    const timer = window.setTimeout(() => {
      setState((s) => ({ ...s, loading: true }));
      api.authorship(draftId, version, controller.signal).then(
        (value) => {
          if (!controller.signal.aborted) setState({ value, loading: false, error: '' });
        },
        (err: unknown) => {
          if (isAbort(err) || controller.signal.aborted) return;
          // The last colours stay on screen; the message says they may be out of date.
          setState((s) => ({ ...s, loading: false, error: errorMessage(err) }));
        },
      );
    }, first ? 0 : DEBOUNCE_MS);
    return () => {
      window.clearTimeout(timer);
      controller.abort();
    };
  }, [on, seq, draftId, version]);
  return state;
}

function Legend({ id, authorship, slots }: { id: string; authorship: Authorship; slots: Map<number, number> }) {
  const total = authorship.passages.reduce((n, p) => n + [...p.text].length, 0);
  const unknown = authorship.passages.filter((p) => !p.organisation).reduce((n, p) => n + [...p.text].length, 0);
  return h(
    'ul',
    { class: 'authorship-legend', 'aria-label': 'Organisations and their share of the text' },
    authorship.legend.map((share) =>
      h(
        'li',
        { key: share.organisation.id, id: `${id}-org-${share.organisation.id}` },
        h('span', { class: `author-swatch ${colourClass(slots, share.organisation.id)}`, 'aria-hidden': 'true' }, share.organisation.short_code),
        h('span', { class: 'authorship-org' }, `${share.organisation.name} (${share.organisation.short_code})`),
        h('span', { class: 'authorship-share' }, percent(share.characters, total)),
      ),
    ),
    unknown > 0
      ? h(
          'li',
          { key: 'unknown' },
          h('span', { class: 'author-swatch author-unknown', 'aria-hidden': 'true' }, '?'),
          h('span', { class: 'authorship-org' }, 'Author unknown'),
          h('span', { class: 'authorship-share' }, percent(unknown, total)),
        )
      : null,
  );
}

function Passages({ authorship, slots }: { authorship: Authorship; slots: Map<number, number> }) {
  if (authorship.passages.every((p) => p.text === '')) return h('p', { class: 'muted' }, 'The text is empty.');
  let previous: number | null | undefined;
  return h(
    'div',
    { class: 'authorship-text' },
    authorship.passages.map((p, i) => {
      const org = p.organisation ?? null;
      const startsRun = i === 0 || (org?.id ?? null) !== previous;
      previous = org?.id ?? null;
      const cls = colourClass(slots, org?.id);
      const title = p.user
        ? `Written by ${p.user.display_name}${org ? ` (${org.name})` : ''}`
        : org ? `Written by ${org.name}` : 'Author unknown';
      return h(
        Fragment,
        { key: i },
        startsRun ? h('span', { class: `author-mark ${cls}`, 'aria-hidden': 'true' }, org ? org.short_code : '?') : null,
        startsRun ? h('span', { class: 'visually-hidden' }, org ? `(written by ${org.name}) ` : '(author unknown) ') : null,
        h('span', { class: `author-passage ${cls}`, title, 'data-organisation': org?.short_code ?? '' }, p.text),
      );
    }),
  );
}

interface SectionProps {
  draftId: number;
  /** A saved version's number; null: the live text. */
  version: number | null;
  /** Grows with every change of the live text (the drafting room). */
  changes?: Signal<number>;
  /** Prefix of the element ids (the room and a version view may share a page). */
  id: string;
  /** The heading level of the coloured text's region. */
  level: 2 | 3 | 4;
  /** What is shown while the colours are off (a version's plain text). */
  children?: ComponentChildren;
}

/** The "Authorship colours" toggle, and the coloured text with its legend while it is on. */
export function AuthorshipSection({ draftId, version, changes, id, level, children }: SectionProps) {
  const [on, setOn] = useState(false);
  const state = useAuthorship(draftId, version, on, changes);
  const regionId = `${id}-region`;
  const value = state.value;
  const slots = colourSlots((value?.passages ?? []).flatMap((p) => (p.organisation ? [p.organisation.id] : [])));
  return h(
    'div',
    { class: 'authorship' },
    h(
      'div',
      { class: 'button-row authorship-toolbar' },
      h(
        'button',
        {
          type: 'button',
          class: 'button small',
          'aria-pressed': on ? 'true' : 'false',
          'aria-controls': on ? regionId : undefined,
          onClick: () => setOn((v) => !v),
        },
        'Authorship colours',
      ),
    ),
    on
      ? h(
          'div',
          { id: regionId, class: 'authorship-panel', role: 'region', 'aria-labelledby': `${id}-title`, 'aria-busy': state.loading ? 'true' : 'false' },
          h(`h${level}`, { id: `${id}-title`, class: 'authorship-title' }, 'Who wrote what'),
          state.error ? h('p', { class: 'form-alert' }, `The authorship could not be loaded: ${state.error}`) : null,
          value
            ? [
                h(Legend, { key: 'legend', id, authorship: value, slots }),
                h(Passages, { key: 'text', authorship: value, slots }),
              ]
            : state.error ? null : h('p', { class: 'muted' }, 'Loading the authorship…'),
        )
      : children,
  );
}
