// The chair's stocktaking dashboard: for a body and a date (today by default), the state of its
// recommendations as it was then — headline figures with progress bars, the status distribution
// per theme and per participant (stacked bars), progress over time between two dates (one
// stocktaking per month), the overdue records and what changed since the previous meeting. Every
// chart has the same data as a table. A large-type mode makes it readable on the room's screen.
import { h } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import {
  api,
  recommendationsApi,
  stocktakingCsvHref,
  type BodySummary,
  type StatusCount,
  type Stocktaking,
  type Vocabulary,
} from '../api';
import type { ViewProps } from '../router';
import { ErrorPanel, Loading, PageHeading, Time } from '../ui/common';
import { formatDate } from '../ui/format';
import { useResource } from '../ui/hooks';
import type { Series } from './stocktaking-charts';
import {
  ProgressBar,
  RecommendationsNav,
  StatusBadge,
  addresseeName,
  isIsoDate,
  recommendationHref,
  sourceKindLabel,
  todayIso,
} from './recommendation-common';

/** Colours of the status segments, in the vocabulary's order; white and black text aside, each has 3:1 against white. */
const PALETTE = ['#5f6b7a', '#3d6aa3', '#b35c00', '#1d5a33', '#8a1c1c', '#6b3fa0', '#0f6e6e', '#8a4b08', '#a02c6a', '#2f4858', '#52624a', '#7a5c00'];

interface StatusSeries {
  vocabulary: string;
  key: string;
  label: string;
  final: boolean;
  colour: string;
}

/** The statuses that occur, in vocabulary order, labelled (with the vocabulary when labels repeat). */
function statusSeries(st: Stocktaking, vocabularies: Vocabulary[]): StatusSeries[] {
  const position = (v: string, k: string) => {
    const voc = vocabularies.find((x) => x.key === v);
    const s = voc?.statuses.find((x) => x.key === k);
    return s ? s.position : 1000;
  };
  const vocOrder = (v: string) => {
    const i = vocabularies.findIndex((x) => x.key === v);
    return i < 0 ? 1000 : i;
  };
  const seen = new Map<string, StatusCount>();
  const all = [st.by_status, ...st.by_participant.map((p) => p.by_status), ...st.by_theme.map((t) => t.by_status)].flat();
  for (const s of all) if (!seen.has(`${s.vocabulary}/${s.key}`)) seen.set(`${s.vocabulary}/${s.key}`, s);
  const list = [...seen.values()].sort((a, b) => vocOrder(a.vocabulary) - vocOrder(b.vocabulary) || position(a.vocabulary, a.key) - position(b.vocabulary, b.key));
  const labelCount = new Map<string, number>();
  for (const s of list) labelCount.set(s.label, (labelCount.get(s.label) ?? 0) + 1);
  const vocName = (v: string) => vocabularies.find((x) => x.key === v)?.name ?? v;
  return list.map((s, i) => ({
    vocabulary: s.vocabulary,
    key: s.key,
    final: s.final,
    label: (labelCount.get(s.label) ?? 0) > 1 ? `${s.label} (${vocName(s.vocabulary)})` : s.label,
    colour: PALETTE[i % PALETTE.length],
  }));
}

const countOf = (by: StatusCount[], s: StatusSeries) => by.find((x) => x.vocabulary === s.vocabulary && x.key === s.key)?.count ?? 0;

// ---------------------------------------------------------------------------
// Charts (imperative islands) with their tables

function useChart(draw: (canvas: HTMLCanvasElement) => Promise<{ destroy: () => void }>, inputs: unknown[]) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    const el = canvas.current;
    if (!el) return undefined;
    let chart: { destroy: () => void } | null = null;
    let gone = false;
    setFailed(false);
    draw(el).then(
      (c) => {
        if (gone) c.destroy();
        else chart = c;
      },
      () => {
        if (!gone) setFailed(true);
      },
    );
    return () => {
      gone = true;
      chart?.destroy();
    };
  }, inputs);
  return { canvas, failed };
}

interface DistributionRow {
  key: string;
  label: string;
  records: number;
  progress: number;
  overdue: number;
  by_status: StatusCount[];
}

function DistributionTable({ caption, rowHeading, rows, series }: { caption: string; rowHeading: string; rows: DistributionRow[]; series: StatusSeries[] }) {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'data-table numeric-table' },
      h('caption', null, caption),
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          h('th', { scope: 'col' }, rowHeading),
          h('th', { scope: 'col' }, 'Records'),
          h('th', { scope: 'col' }, 'Progress'),
          h('th', { scope: 'col' }, 'Overdue'),
          series.map((s) => h('th', { key: `${s.vocabulary}/${s.key}`, scope: 'col' }, s.label)),
        ),
      ),
      h(
        'tbody',
        null,
        rows.map((r) =>
          h(
            'tr',
            { key: r.key },
            h('th', { scope: 'row' }, r.label),
            h('td', null, String(r.records)),
            h('td', null, `${Math.round(r.progress)} %`),
            h('td', null, String(r.overdue)),
            series.map((s) => h('td', { key: `${s.vocabulary}/${s.key}` }, String(countOf(r.by_status, s)))),
          ),
        ),
      ),
    ),
  );
}

function Distribution({ id, title, rowHeading, rows, series, large, emptyText }: { id: string; title: string; rowHeading: string; rows: DistributionRow[]; series: StatusSeries[]; large: boolean; emptyText: string }) {
  const present = series.filter((s) => rows.some((r) => countOf(r.by_status, s) > 0));
  const labels = rows.map((r) => r.label);
  const data: Series[] = present.map((s) => ({ label: s.label, colour: s.colour, values: rows.map((r) => countOf(r.by_status, s)) }));
  const signature = JSON.stringify([labels, data]);
  const { canvas, failed } = useChart(
    async (el) => (await import('./stocktaking-charts')).drawStacked(el, labels, data, large),
    [signature, large],
  );
  const summary = rows.length
    ? `${rows.length} ${rowHeading.toLowerCase()}${rows.length === 1 ? '' : 's'}; the bars show how many records of each are in each status.`
    : emptyText;
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': `${id}-title` },
    h('h2', { id: `${id}-title` }, title),
    h('p', { id: `${id}-summary`, class: 'muted' }, summary),
    rows.length
      ? [
          failed ? h('p', { key: 'f', class: 'notice' }, 'The chart could not be drawn; the table below has the same figures.') : null,
          h(
            'div',
            { key: 'c', class: 'chart-canvas', style: { height: `${rows.length * (large ? 44 : 30) + 110}px` } },
            h('canvas', { ref: canvas, role: 'img', 'aria-label': title, 'aria-describedby': `${id}-summary` }),
          ),
          h(
            'details',
            { key: 'd', class: 'timeline-details' },
            h('summary', null, `${title}: the chart as a table`),
            h(DistributionTable, { caption: `${title}, as of the chosen date`, rowHeading, rows, series: present }),
          ),
        ]
      : null,
  );
}

// ---------------------------------------------------------------------------
// Progress over time

/** The dates of the points between `from` and `to`: from, each first of a month after it, to; at most ~25. */
export function timePoints(from: string, to: string): string[] {
  if (from > to) return [to];
  const [fy, fm] = from.split('-').map(Number);
  const [ty, tm] = to.split('-').map(Number);
  const months = (ty - fy) * 12 + (tm - fm);
  const step = Math.max(1, Math.ceil(months / 24));
  const points = [from];
  for (let m = step; m <= months; m += step) {
    const y = fy + Math.floor((fm - 1 + m) / 12);
    const mo = ((fm - 1 + m) % 12) + 1;
    const d = `${y}-${String(mo).padStart(2, '0')}-01`;
    if (d > from && d < to) points.push(d);
  }
  if (to !== from) points.push(to);
  return points;
}

interface Point {
  date: string;
  records: number;
  progress: number;
  overdue: number;
}

async function loadPoints(bodyId: number, dates: string[], signal: AbortSignal): Promise<Point[]> {
  const out: Point[] = new Array(dates.length);
  let next = 0;
  const worker = async () => {
    while (next < dates.length) {
      const i = next++;
      const st = await recommendationsApi.stocktaking(bodyId, dates[i], signal);
      out[i] = { date: dates[i], records: st.records, progress: st.progress, overdue: st.overdue };
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  return out;
}

function ProgressOverTime({ bodyId, from, to, large, onRange }: { bodyId: number; from: string; to: string; large: boolean; onRange: (from: string, to: string) => void }) {
  const dates = useMemo(() => timePoints(from, to), [from, to]);
  const points = useResource((signal) => loadPoints(bodyId, dates, signal), [bodyId, dates.join(',')]);
  const [error, setError] = useState('');
  const ready = points.state.status === 'ready' ? points.state.value : null;
  const signature = JSON.stringify(ready);
  const { canvas, failed } = useChart(
    async (el) => {
      const list = ready ?? [];
      return (await import('./stocktaking-charts')).drawProgressLine(
        el,
        list.map((p) => formatDate(p.date)),
        list.map((p) => Math.round(p.progress)),
        list.map((p) => p.overdue),
        large,
      );
    },
    [signature, large],
  );
  const submit = (event: Event) => {
    event.preventDefault();
    const data = new FormData(event.currentTarget as HTMLFormElement);
    const f = String(data.get('from') ?? '');
    const t = String(data.get('to') ?? '');
    if (!isIsoDate(f) || !isIsoDate(t)) return setError('Give both dates.');
    if (f > t) return setError('The first date must not be after the second.');
    if (t > todayIso()) return setError('The second date must not be in the future.');
    setError('');
    onRange(f, t);
  };
  const first = ready?.[0];
  const last = ready?.[ready.length - 1];
  const summary =
    first && last
      ? `Progress went from ${Math.round(first.progress)} % on ${formatDate(first.date)} to ${Math.round(last.progress)} % on ${formatDate(last.date)}; overdue records from ${first.overdue} to ${last.overdue}.`
      : '';
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'st-time-title' },
    h('h2', { id: 'st-time-title' }, 'Progress over time'),
    h(
      'form',
      { class: 'filter-form', 'aria-label': 'Period of the progress chart', noValidate: true, onSubmit: submit },
      h('div', { class: 'field' }, h('label', { for: 'st-from' }, 'From'), h('input', { id: 'st-from', name: 'from', type: 'date', defaultValue: from, 'aria-describedby': 'st-range-error', 'aria-invalid': error ? 'true' : undefined })),
      h('div', { class: 'field' }, h('label', { for: 'st-to' }, 'To'), h('input', { id: 'st-to', name: 'to', type: 'date', defaultValue: to, max: todayIso(), 'aria-describedby': 'st-range-error', 'aria-invalid': error ? 'true' : undefined })),
      h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'button' }, 'Show the period')),
      h('p', { id: 'st-range-error', class: 'field-error', role: 'alert', hidden: !error }, error),
    ),
    points.state.status === 'loading'
      ? h(Loading, null, `Taking stock on ${dates.length} dates…`)
      : points.state.status === 'error'
        ? h(ErrorPanel, { error: points.state.error })
        : [
            h('p', { key: 's', id: 'st-time-summary', class: 'muted' }, summary),
            failed ? h('p', { key: 'f', class: 'notice' }, 'The chart could not be drawn; the table below has the same figures.') : null,
            h(
              'div',
              { key: 'c', class: 'chart-canvas', style: { height: large ? '26rem' : '18rem' } },
              h('canvas', { ref: canvas, role: 'img', 'aria-label': 'Progress over time', 'aria-describedby': 'st-time-summary' }),
            ),
            h(
              'details',
              { key: 'd', class: 'timeline-details' },
              h('summary', null, 'Progress over time: the chart as a table'),
              h(
                'div',
                { class: 'table-wrap' },
                h(
                  'table',
                  { class: 'data-table numeric-table' },
                  h('caption', null, `Progress from ${formatDate(from)} to ${formatDate(to)}`),
                  h('thead', null, h('tr', null, ['Date', 'Records', 'Progress', 'Overdue'].map((c) => h('th', { key: c, scope: 'col' }, c)))),
                  h(
                    'tbody',
                    null,
                    (ready ?? []).map((p) =>
                      h(
                        'tr',
                        { key: p.date },
                        h('th', { scope: 'row' }, h(Time, { iso: p.date, dateOnly: true })),
                        h('td', null, String(p.records)),
                        h('td', null, `${Math.round(p.progress)} %`),
                        h('td', null, String(p.overdue)),
                      ),
                    ),
                  ),
                ),
              ),
            ),
          ],
  );
}

// ---------------------------------------------------------------------------
// The dashboard

function Figures({ st }: { st: Stocktaking }) {
  const overdueShare = st.records ? (st.overdue / st.records) * 100 : 0;
  return h(
    'dl',
    { class: 'figures' },
    h('div', { class: 'figure' }, h('dt', null, 'Recommendations'), h('dd', null, h('span', { class: 'figure-value' }, String(st.recommendations)))),
    h('div', { class: 'figure' }, h('dt', null, 'Implementation records'), h('dd', null, h('span', { class: 'figure-value' }, String(st.records)))),
    h(
      'div',
      { class: 'figure' },
      h('dt', null, 'Progress'),
      h('dd', null, h('span', { class: 'figure-value' }, `${Math.round(st.progress)} %`), h(ProgressBar, { value: st.progress, label: 'Overall progress', large: true })),
    ),
    h(
      'div',
      { class: 'figure figure-bad' },
      h('dt', null, 'Overdue records'),
      h(
        'dd',
        null,
        h('span', { class: 'figure-value' }, String(st.overdue)),
        h(ProgressBar, { value: overdueShare, label: 'Share of records overdue', large: true }),
      ),
    ),
  );
}

function StatusTable({ st, series }: { st: Stocktaking; series: StatusSeries[] }) {
  const rows = series
    .map((s) => ({ s, c: st.by_status.find((x) => x.vocabulary === s.vocabulary && x.key === s.key) }))
    .filter((r) => r.c && r.c.count > 0);
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'st-status-title' },
    h('h2', { id: 'st-status-title' }, 'By status'),
    rows.length
      ? h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            { class: 'data-table' },
            h('caption', { class: 'visually-hidden' }, 'Implementation records by status'),
            h('thead', null, h('tr', null, ['Status', 'Records', 'Share'].map((c) => h('th', { key: c, scope: 'col' }, c)))),
            h(
              'tbody',
              null,
              rows.map(({ s, c }) =>
                h(
                  'tr',
                  { key: `${s.vocabulary}/${s.key}` },
                  h('th', { scope: 'row' }, h('span', { class: 'legend-swatch', style: { background: s.colour }, 'aria-hidden': 'true' }), ' ', s.label, s.final ? h('span', { class: 'muted' }, ' (final)') : null),
                  h('td', null, String(c?.count ?? 0)),
                  h('td', null, h(ProgressBar, { value: c?.percent ?? 0, label: `Share of records ${s.label}` })),
                ),
              ),
            ),
          ),
        )
      : h('p', null, 'No implementation record on this date.'),
  );
}

function BySource({ st }: { st: Stocktaking }) {
  if (!st.by_source.length) return null;
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'st-source-title' },
    h('h2', { id: 'st-source-title' }, 'By source'),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'data-table' },
        h('caption', { class: 'visually-hidden' }, 'Implementation records by source'),
        h('thead', null, h('tr', null, ['Source', 'Kind', 'Records', 'Progress', 'Overdue'].map((c) => h('th', { key: c, scope: 'col' }, c)))),
        h(
          'tbody',
          null,
          st.by_source.map((s) =>
            h(
              'tr',
              { key: `${s.kind}/${s.title}` },
              h('th', { scope: 'row' }, s.title),
              h('td', null, sourceKindLabel(s.kind)),
              h('td', null, String(s.records)),
              h('td', null, h(ProgressBar, { value: s.progress, label: `Progress of ${s.title}` })),
              h('td', null, String(s.overdue)),
            ),
          ),
        ),
      ),
    ),
  );
}

function OverdueList({ st }: { st: Stocktaking }) {
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'st-overdue-title' },
    h('h2', { id: 'st-overdue-title' }, `Overdue (${st.overdue_list.length})`),
    st.overdue_list.length
      ? h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            { class: 'data-table' },
            h('caption', { class: 'visually-hidden' }, `Overdue records as of ${formatDate(st.as_of)}`),
            h('thead', null, h('tr', null, ['Recommendation', 'Addressee', 'Due', 'Status'].map((c) => h('th', { key: c, scope: 'col' }, c)))),
            h(
              'tbody',
              null,
              st.overdue_list.map((o) =>
                h(
                  'tr',
                  { key: `${o.recommendation.id}/${addresseeName(o.addressee)}` },
                  h('th', { scope: 'row' }, h('a', { href: recommendationHref(o.recommendation.id) }, o.recommendation.code), ' ', o.recommendation.title),
                  h('td', null, addresseeName(o.addressee)),
                  h('td', null, h(Time, { iso: o.due_on, dateOnly: true })),
                  h('td', null, h(StatusBadge, { status: o.status })),
                ),
              ),
            ),
          ),
        )
      : h('p', null, 'Nothing overdue on this date.'),
  );
}

function SincePrevious({ st, series }: { st: Stocktaking; series: StatusSeries[] }) {
  const labelOf = (key: string | null | undefined) => {
    if (key == null) return 'No entry';
    return series.find((s) => s.key === key)?.label ?? st.by_status.find((s) => s.key === key)?.label ?? key;
  };
  const since = st.since_previous_meeting;
  const meeting = st.previous_meeting;
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'st-since-title' },
    h('h2', { id: 'st-since-title' }, 'Changes since the previous meeting'),
    !meeting || !since
      ? h('p', null, 'There was no meeting of this body before this date.')
      : [
          h(
            'p',
            { key: 'm' },
            'Since ',
            h('a', { href: `/meetings/${encodeURIComponent(String(meeting.id))}` }, meeting.title),
            ' (',
            h(Time, { iso: meeting.starts_at }),
            `): ${since.changes.length} change${since.changes.length === 1 ? '' : 's'} of status.`,
          ),
          since.by_status_delta.filter((d) => d.delta !== 0).length
            ? h(
                'ul',
                { key: 'd', class: 'delta-list', 'aria-label': 'Change in the number of records per status' },
                since.by_status_delta
                  .filter((d) => d.delta !== 0)
                  .map((d) =>
                    h(
                      'li',
                      { key: `${d.vocabulary}/${d.key}` },
                      h('strong', null, d.delta > 0 ? `+${d.delta}` : `−${Math.abs(d.delta)}`),
                      ' ',
                      series.find((s) => s.vocabulary === d.vocabulary && s.key === d.key)?.label ?? labelOf(d.key),
                    ),
                  ),
              )
            : null,
          since.changes.length
            ? h(
                'div',
                { key: 't', class: 'table-wrap' },
                h(
                  'table',
                  { class: 'data-table' },
                  h('caption', { class: 'visually-hidden' }, 'Changes of status since the previous meeting'),
                  h('thead', null, h('tr', null, ['Recommendation', 'Addressee', 'From', 'To', 'Recorded'].map((c) => h('th', { key: c, scope: 'col' }, c)))),
                  h(
                    'tbody',
                    null,
                    since.changes.map((c, i) =>
                      h(
                        'tr',
                        { key: `${c.recommendation.id}/${addresseeName(c.addressee)}/${c.recorded_at}/${i}` },
                        h('th', { scope: 'row' }, h('a', { href: recommendationHref(c.recommendation.id) }, c.recommendation.code)),
                        h('td', null, addresseeName(c.addressee)),
                        h('td', null, labelOf(c.from)),
                        h('td', null, labelOf(c.to)),
                        h('td', null, h(Time, { iso: c.recorded_at })),
                      ),
                    ),
                  ),
                ),
              )
            : null,
        ],
  );
}

function yearBefore(date: string): string {
  const [y, m, d] = date.split('-').map(Number);
  const t = new Date(Date.UTC(y - 1, m - 1, d));
  return t.toISOString().slice(0, 10);
}

interface DashState {
  body: string;
  asOf: string;
  from: string;
  to: string;
  large: boolean;
}

function stateFrom(params: URLSearchParams): DashState {
  const d = (k: string) => {
    const v = params.get(k);
    return isIsoDate(v) ? v : '';
  };
  const body = params.get('body') ?? '';
  return { body: /^\d+$/.test(body) ? body : '', asOf: d('as_of'), from: d('from'), to: d('to'), large: params.get('large') === '1' };
}

function writeState(s: DashState): void {
  const q = new URLSearchParams();
  if (s.body) q.set('body', s.body);
  if (s.asOf) q.set('as_of', s.asOf);
  if (s.from) q.set('from', s.from);
  if (s.to) q.set('to', s.to);
  if (s.large) q.set('large', '1');
  const qs = q.toString();
  window.history.replaceState(null, '', `/stocktaking${qs ? `?${qs}` : ''}`);
}

function Dashboard({ bodyId, dash, setDash }: { bodyId: number; dash: DashState; setDash: (s: DashState) => void }) {
  const data = useResource((signal) => recommendationsApi.stocktaking(bodyId, dash.asOf || undefined, signal), [bodyId, dash.asOf]);
  const vocabularies = useResource((signal) => recommendationsApi.vocabularies(signal).catch(() => [] as Vocabulary[]), []);
  const vocs = vocabularies.state.status === 'ready' ? vocabularies.state.value : [];
  const state = data.state;
  if (state.status === 'loading') return h(Loading, null, 'Taking stock…');
  if (state.status === 'error') return h(ErrorPanel, { error: state.error });
  const st = state.value;
  const series = statusSeries(st, vocs);
  const to = dash.to || st.as_of;
  const from = dash.from || yearBefore(to);
  return [
    h(
      'section',
      { key: 'head', class: 'panel', 'aria-labelledby': 'st-figures-title' },
      h(
        'div',
        { class: 'section-head' },
        h('h2', { id: 'st-figures-title' }, `${st.body.short_name} — ${st.body.name}, as of ${formatDate(st.as_of)}`),
        h('a', { href: stocktakingCsvHref(st.body.id, st.as_of), download: `stocktaking-${st.body.short_name}-${st.as_of}.csv`, class: 'button small' }, 'Download as CSV'),
      ),
      h(Figures, { st }),
    ),
    h(StatusTable, { key: 'status', st, series }),
    h(Distribution, {
      key: 'themes',
      id: 'st-themes',
      title: 'Status by theme',
      rowHeading: 'Theme',
      series,
      large: dash.large,
      emptyText: 'No recommendation of this body has a theme.',
      rows: st.by_theme.map((t) => ({ key: t.theme, label: t.theme, records: t.records, progress: t.progress, overdue: t.overdue, by_status: t.by_status })),
    }),
    h(Distribution, {
      key: 'participants',
      id: 'st-participants',
      title: 'Status by participant',
      rowHeading: 'Participant',
      series,
      large: dash.large,
      emptyText: 'No participant is addressed by the recommendations of this body.',
      rows: st.by_participant.map((p) => ({
        key: String(p.organisation.id),
        label: `${p.organisation.name} (${p.organisation.short_code})`,
        records: p.records,
        progress: p.progress,
        overdue: p.overdue,
        by_status: p.by_status,
      })),
    }),
    h(ProgressOverTime, {
      key: 'time',
      bodyId,
      from,
      to,
      large: dash.large,
      onRange: (f, t) => setDash({ ...dash, from: f, to: t }),
    }),
    h(OverdueList, { key: 'overdue', st }),
    h(SincePrevious, { key: 'since', st, series }),
    h(BySource, { key: 'source', st }),
  ];
}

export function StocktakingView({ params }: ViewProps) {
  const [dash, setDashState] = useState<DashState>(() => stateFrom(params));
  const bodies = useResource((signal) => api.bodies(signal), []);
  const setDash = (s: DashState) => {
    setDashState(s);
    writeState(s);
  };
  const list: BodySummary[] = bodies.state.status === 'ready' ? bodies.state.value : [];
  const chosen = list.find((b) => String(b.id) === dash.body) ?? list.find((b) => b.kind === 'plenary') ?? list[0];
  const [dateError, setDateError] = useState('');
  const submit = (event: Event) => {
    event.preventDefault();
    const data = new FormData(event.currentTarget as HTMLFormElement);
    const body = String(data.get('body') ?? '');
    const asOf = String(data.get('as_of') ?? '');
    if (asOf && !isIsoDate(asOf)) return setDateError('Give a date, or leave it empty for today.');
    if (asOf && asOf > todayIso()) return setDateError('The date must not be in the future.');
    setDateError('');
    const bodyChanged = body !== String(chosen?.id ?? '');
    const asOfChanged = asOf !== dash.asOf;
    setDash({ ...dash, body, asOf, ...(bodyChanged || asOfChanged ? { from: '', to: '' } : {}) });
  };
  return h(
    'div',
    { class: `stocktaking${dash.large ? ' stocktaking-large' : ''}` },
    h(PageHeading, null, 'Stocktaking'),
    h(RecommendationsNav, null),
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'st-choose-title' },
      h(
        'div',
        { class: 'section-head' },
        h('h2', { id: 'st-choose-title' }, 'Body and date'),
        h(
          'button',
          { type: 'button', class: 'button small', 'aria-pressed': dash.large ? 'true' : 'false', onClick: () => setDash({ ...dash, large: !dash.large }) },
          'Large type for the room’s screen',
        ),
      ),
      bodies.state.status === 'error'
        ? h(ErrorPanel, { error: bodies.state.error })
        : h(
            'form',
            { key: `${chosen?.id ?? ''}-${dash.asOf}`, class: 'filter-form', 'aria-label': 'Body and date', noValidate: true, onSubmit: submit },
            h(
              'div',
              { class: 'field' },
              h('label', { for: 'st-body' }, 'Body'),
              h(
                'select',
                { id: 'st-body', name: 'body' },
                list.map((b) => h('option', { key: b.id, value: String(b.id), defaultSelected: b.id === chosen?.id }, `${b.short_name} — ${b.name}`)),
              ),
            ),
            h(
              'div',
              { class: 'field' },
              h('label', { for: 'st-as-of' }, 'As of'),
              h('p', { class: 'field-hint', id: 'st-as-of-hint' }, 'The state as it was at the end of this day; empty: today.'),
              h('input', {
                id: 'st-as-of',
                name: 'as_of',
                type: 'date',
                defaultValue: dash.asOf,
                max: todayIso(),
                'aria-describedby': 'st-as-of-hint st-as-of-error',
                'aria-invalid': dateError ? 'true' : undefined,
              }),
              h('p', { id: 'st-as-of-error', class: 'field-error', hidden: !dateError }, dateError),
            ),
            h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'button primary' }, 'Take stock')),
          ),
    ),
    bodies.state.status === 'loading'
      ? h(Loading, null, 'Loading the bodies…')
      : chosen
        ? h(Dashboard, { key: `${chosen.id}`, bodyId: chosen.id, dash, setDash })
        : bodies.state.status === 'ready'
          ? h('p', null, 'There is no body to take stock of.')
          : null,
  );
}
