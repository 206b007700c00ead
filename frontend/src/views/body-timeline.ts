// The chairmanship timeline of a body: a picture (Chart.js on a canvas, an imperative island
// created on mount and destroyed on unmount or when the terms change) and the same terms as a
// table, for screen readers and for anyone who wants the exact dates.
import { h } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { Term } from '../api';
import { formatDate } from '../ui/format';
import { Badge, type Tone } from '../ui/common';
import { timelineRows } from './timeline-rows';
import { officeLabel, orgName, originLabel, PHASE_LABELS, termPhase, TermDates, type TermPhase } from './body-common';

const PHASE_TONES: Record<TermPhase, Tone> = { past: 'neutral', current: 'good', upcoming: 'neutral', cancelled: 'bad' };

function byStart(a: Term, b: Term): number {
  return a.starts_on < b.starts_on ? -1 : a.starts_on > b.starts_on ? 1 : a.id - b.id;
}

/** One sentence that says what the picture shows. */
function summary(bodyName: string, terms: Term[], today: string): string {
  const live = terms.filter((t) => !t.cancelled);
  if (!terms.length) return `${bodyName} has no chairmanship terms yet. Today is ${formatDate(today)}.`;
  const first = terms.reduce((m, t) => (t.starts_on < m ? t.starts_on : m), terms[0].starts_on);
  const last = terms.reduce((m, t) => (t.ends_on > m ? t.ends_on : m), terms[0].ends_on);
  const current = live.filter((t) => termPhase(t, today) === 'current');
  const cancelled = terms.length - live.length;
  const parts = [
    `${terms.length} term${terms.length === 1 ? '' : 's'} of ${bodyName} from ${formatDate(first)} to ${formatDate(last)}`,
    cancelled ? `, ${cancelled} of them cancelled` : '',
    `. Today is ${formatDate(today)}`,
    current.length
      ? `; in office: ${current.map((t) => `${officeLabel(t.office).toLowerCase()} ${orgName(t.organisation)}`).join(', ')}.`
      : '; nobody is in office today.',
  ];
  return parts.join('');
}

function TimelineTable({ bodyName, terms, today }: { bodyName: string; terms: Term[]; today: string }) {
  if (!terms.length) return h('p', null, 'No terms yet.');
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'data-table' },
      h('caption', null, `Chairmanship terms of ${bodyName}, earliest first`),
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          ['Office', 'Organisation', 'Person', 'Term', 'Origin', 'Status', 'Note'].map((c) => h('th', { key: c, scope: 'col' }, c)),
        ),
      ),
      h(
        'tbody',
        null,
        terms.map((t) => {
          const phase = termPhase(t, today);
          return h(
            'tr',
            { key: t.id, class: phase === 'current' ? 'current-row' : phase === 'cancelled' ? 'cancelled-row' : undefined },
            h('th', { scope: 'row' }, officeLabel(t.office)),
            h('td', null, orgName(t.organisation)),
            h('td', null, t.person?.display_name ?? '—'),
            h('td', null, h(TermDates, { term: t })),
            h('td', null, originLabel(t.origin)),
            h('td', null, h(Badge, { tone: PHASE_TONES[phase] }, PHASE_LABELS[phase])),
            h('td', null, t.note || '—'),
          );
        }),
      ),
    ),
  );
}

function Legend() {
  const item = (cls: string, text: string) =>
    h('li', { key: cls }, h('span', { class: `legend-swatch ${cls}`, 'aria-hidden': 'true' }), text);
  return h(
    'ul',
    { class: 'timeline-legend', 'aria-label': 'Legend' },
    item('swatch-past', 'Past term'),
    item('swatch-current', 'Current term'),
    item('swatch-upcoming', 'Upcoming term'),
    item('swatch-cancelled', 'Cancelled term (hatched, in its own row)'),
    item('swatch-today', 'Today'),
  );
}

export function BodyTimeline({ bodyName, terms, today }: { bodyName: string; terms: Term[]; today: string }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const [failed, setFailed] = useState<string | null>(null);
  const sorted = useMemo(() => [...terms].sort(byStart), [terms]);
  const rowCount = useMemo(() => timelineRows(terms, today).rows.length, [terms, today]);
  const id = useMemo(() => `timeline-${Math.random().toString(36).slice(2, 8)}`, []);

  useEffect(() => {
    const el = canvas.current;
    if (!el) return undefined;
    let chart: { destroy: () => void } | null = null;
    let gone = false;
    setFailed(null);
    import('./timeline-chart')
      .then(({ drawTimeline }) => {
        if (!gone) chart = drawTimeline(el, sorted, today);
      })
      .catch((err: unknown) => {
        if (!gone) setFailed(err instanceof Error ? err.message : 'error');
      });
    return () => {
      gone = true;
      chart?.destroy();
    };
  }, [sorted, today]);

  const text = summary(bodyName, sorted, today);
  return h(
    'div',
    { class: 'timeline' },
    h('p', { id: `${id}-summary`, class: 'timeline-summary' }, text),
    failed
      ? h('p', { class: 'notice' }, 'The timeline could not be drawn; the table below lists the same terms.')
      : null,
    h(
      'div',
      { class: 'timeline-canvas', style: { height: `${rowCount * 44 + 70}px` } },
      h('canvas', {
        ref: canvas,
        role: 'img',
        'aria-label': `Chairmanship timeline of ${bodyName}`,
        'aria-describedby': `${id}-summary`,
      }),
    ),
    h(Legend, null),
    h(
      'details',
      { class: 'timeline-details' },
      h('summary', null, 'The timeline as a table'),
      h(TimelineTable, { bodyName, terms: sorted, today }),
    ),
  );
}
