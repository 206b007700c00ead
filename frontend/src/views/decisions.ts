// The register of decisions: every adopted text, numbered and frozen, found by words, body and
// year; and one decision's page with its text, its exports (a print version, PDF, Markdown) and the
// draft it came from.
import { h } from 'preact';
import { useRef, useState } from 'preact/hooks';
import { api, ApiError, decisionMarkdownHref, type BodySummary, type Decision } from '../api';
import type { ViewProps } from '../router';
import { ErrorPanel, Loading, PageHeading, Time } from '../ui/common';
import { useResource } from '../ui/hooks';
import { procedureLabel } from './draft-common';

/** The first year of the register's body (the KP was launched in 2003). */
const FIRST_YEAR = 2003;

export function decisionHref(id: number): string {
  return `/decisions/${encodeURIComponent(String(id))}`;
}

/** Where a decision is published as a print-ready page (`html`) or a PDF document (`pdf`). */
function decisionExportHref(id: number, format: 'html' | 'pdf'): string {
  return `/api/decisions/${encodeURIComponent(String(id))}.${format}`;
}

interface Filter {
  q: string;
  body: string;
  year: string;
}

function filterFrom(params: URLSearchParams): Filter {
  const body = params.get('body') ?? '';
  const year = params.get('year') ?? '';
  return { q: params.get('q') ?? '', body: /^\d+$/.test(body) ? body : '', year: /^\d{4}$/.test(year) ? year : '' };
}

function DecisionsTable({ decisions, bodies }: { decisions: Decision[]; bodies: Map<number, BodySummary> }) {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'data-table' },
      h('caption', { class: 'visually-hidden' }, 'Decisions, newest first'),
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          h('th', { scope: 'col' }, 'Number'),
          h('th', { scope: 'col' }, 'Title'),
          h('th', { scope: 'col' }, 'Body'),
          h('th', { scope: 'col' }, 'Adopted'),
          h('th', { scope: 'col' }, 'Procedure'),
        ),
      ),
      h(
        'tbody',
        null,
        decisions.map((d) =>
          h(
            'tr',
            { key: d.id },
            h('th', { scope: 'row' }, h('a', { href: decisionHref(d.id) }, d.number)),
            h('td', null, d.title),
            h('td', null, d.body_id != null ? bodies.get(d.body_id)?.short_name ?? '—' : '—'),
            h('td', null, h(Time, { iso: d.adopted_at, dateOnly: true })),
            h('td', null, procedureLabel(d.procedure)),
          ),
        ),
      ),
    ),
  );
}

function FilterForm({ filter, bodies, onFilter }: { filter: Filter; bodies: BodySummary[]; onFilter: (f: Filter) => void }) {
  const ref = useRef<HTMLFormElement>(null);
  const thisYear = new Date().getFullYear();
  const years: number[] = [];
  for (let y = thisYear; y >= FIRST_YEAR; y--) years.push(y);
  const submit = (event: Event) => {
    event.preventDefault();
    const data = new FormData(event.currentTarget as HTMLFormElement);
    const get = (k: string) => String(data.get(k) ?? '').trim();
    onFilter({ q: get('q'), body: get('body'), year: get('year') });
  };
  return h(
    'form',
    { ref, role: 'search', 'aria-label': 'Find decisions', class: 'filter-form', noValidate: true, onSubmit: submit },
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'decision-q' }, 'Words'),
      h('p', { class: 'field-hint', id: 'decision-q-hint' }, 'Found in the number, the title or the text.'),
      h('input', { id: 'decision-q', name: 'q', type: 'search', defaultValue: filter.q, autocomplete: 'off', 'aria-describedby': 'decision-q-hint' }),
    ),
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'decision-body' }, 'Body'),
      h(
        'select',
        { id: 'decision-body', name: 'body' },
        h('option', { value: '', defaultSelected: filter.body === '' }, 'All bodies'),
        bodies.map((b) => h('option', { key: b.id, value: String(b.id), defaultSelected: filter.body === String(b.id) }, `${b.short_name} — ${b.name}`)),
      ),
    ),
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'decision-year' }, 'Year'),
      h(
        'select',
        { id: 'decision-year', name: 'year' },
        h('option', { value: '', defaultSelected: filter.year === '' }, 'All years'),
        years.map((y) => h('option', { key: y, value: String(y), defaultSelected: filter.year === String(y) }, String(y))),
      ),
    ),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'button primary' }, 'Search')),
  );
}

export function DecisionsView({ params }: ViewProps) {
  const [filter, setFilter] = useState<Filter>(() => filterFrom(params));
  const bodies = useResource((signal) => api.bodies(signal).catch(() => [] as BodySummary[]), []);
  const list = useResource(
    (signal) =>
      api.decisions(
        { q: filter.q || undefined, body_id: filter.body ? Number(filter.body) : undefined, year: filter.year ? Number(filter.year) : undefined },
        signal,
      ),
    [filter.q, filter.body, filter.year],
  );
  const bodyList = bodies.state.status === 'ready' ? bodies.state.value : [];
  const byId = new Map(bodyList.map((b) => [b.id, b]));
  const state = list.state;
  const filtered = Boolean(filter.q || filter.body || filter.year);
  const onFilter = (f: Filter) => {
    setFilter(f);
    // The address keeps the search (to share it), without a new history entry or a new view.
    const query = new URLSearchParams();
    if (f.q) query.set('q', f.q);
    if (f.body) query.set('body', f.body);
    if (f.year) query.set('year', f.year);
    const qs = query.toString();
    window.history.replaceState(null, '', `/decisions${qs ? `?${qs}` : ''}`);
  };
  const count = state.status === 'ready' ? state.value.length : null;
  return h(
    'div',
    null,
    h(PageHeading, null, 'Decisions'),
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'decision-search-title' },
      h('h2', { id: 'decision-search-title' }, 'Find decisions'),
      h('p', { class: 'muted' }, 'Decisions adopted by the bodies, by consensus or by written procedure, each with the text agreed in its drafting room.'),
      h(FilterForm, { filter, bodies: bodyList, onFilter }),
    ),
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'decision-list-title' },
      h('h2', { id: 'decision-list-title' }, 'Register'),
      h(
        'p',
        { role: 'status', class: 'muted' },
        count === null ? '' : count === 0 ? (filtered ? 'No decision matches the search.' : 'No decision adopted yet.') : `${count} decision${count === 1 ? '' : 's'}${filtered ? ' found' : ''}.`,
      ),
      state.status === 'loading'
        ? h(Loading, null, 'Loading decisions…')
        : state.status === 'error'
          ? h(ErrorPanel, { error: state.error })
          : state.value.length
            ? h(DecisionsTable, { decisions: state.value, bodies: byId })
            : null,
    ),
  );
}

function DecisionNotFound() {
  return h(
    'section',
    { class: 'panel narrow' },
    h(PageHeading, null, 'Decision not found'),
    h('p', null, 'There is no decision at this address. The link may be mistyped.'),
    h('p', null, h('a', { href: '/decisions' }, 'Back to the decisions')),
  );
}

function DecisionPage({ decision }: { decision: Decision }) {
  const body = useResource(
    (signal) => (decision.body_id != null ? api.body(decision.body_id, signal).catch(() => null) : Promise.resolve(null)),
    [decision.body_id],
  );
  const bodyValue = body.state.status === 'ready' ? body.state.value : null;
  const fileStem = decision.number.replace(/[^\w.-]+/g, '-');
  return h(
    'div',
    null,
    h('p', { class: 'breadcrumb' }, h('a', { href: '/decisions' }, '← All decisions')),
    h(PageHeading, null, `${decision.number} — ${decision.title}`),
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'decision-facts-title' },
      h('h2', { id: 'decision-facts-title', class: 'visually-hidden' }, 'About the decision'),
      h(
        'dl',
        { class: 'details' },
        h('div', null, h('dt', null, 'Number'), h('dd', null, decision.number)),
        h('div', null, h('dt', null, 'Adopted'), h('dd', null, h(Time, { iso: decision.adopted_at }))),
        h('div', null, h('dt', null, 'Procedure'), h('dd', null, procedureLabel(decision.procedure))),
        decision.relates_to.length > 0
          ? h(
              'div',
              null,
              h('dt', null, 'Amends or repeals'),
              h(
                'dd',
                null,
                decision.relates_to.map((l, i) =>
                  h('span', { key: l.decision_id }, i > 0 ? '; ' : '', `${l.kind === 'repeals' ? 'Repeals' : 'Amends'} `, h('a', { href: `/decisions/${l.decision_id}` }, `${l.number} — ${l.title}`)),
                ),
              ),
            )
          : null,
        decision.related_by.length > 0
          ? h(
              'div',
              null,
              h('dt', null, 'Amended or repealed by'),
              h(
                'dd',
                null,
                decision.related_by.map((l, i) =>
                  h('span', { key: l.decision_id }, i > 0 ? '; ' : '', `${l.kind === 'repeals' ? 'Repealed by' : 'Amended by'} `, h('a', { href: `/decisions/${l.decision_id}` }, `${l.number} — ${l.title}`)),
                ),
              ),
            )
          : null,
        h(
          'div',
          null,
          h('dt', null, 'Body'),
          h(
            'dd',
            null,
            bodyValue ? h('a', { href: `/bodies/${encodeURIComponent(String(bodyValue.id))}` }, `${bodyValue.short_name} — ${bodyValue.name}`) : '—',
          ),
        ),
      ),
      h(
        'p',
        { class: 'decision-links' },
        h('a', { href: decisionExportHref(decision.id, 'html') }, 'Print version (HTML)'),
        h('a', { href: decisionExportHref(decision.id, 'pdf'), download: `${fileStem}.pdf` }, 'Download the text as PDF'),
        h('a', { href: decisionMarkdownHref(decision.id), download: `${fileStem}.md` }, 'Download the text as Markdown'),
        h('a', { href: `/drafts/${encodeURIComponent(String(decision.draft_id))}` }, `The draft, its versions and objections (adopted as version ${decision.version})`),
      ),
    ),
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'decision-text-title' },
      h('h2', { id: 'decision-text-title' }, 'Text'),
      h('div', { class: 'decision-text' }, decision.text),
    ),
  );
}

export function DecisionView({ route }: ViewProps) {
  const id = route.id ?? '';
  const valid = /^\d+$/.test(id);
  const decision = useResource((signal) => (valid ? api.decision(Number(id), signal) : Promise.resolve(null)), [id]);
  const state = decision.state;
  if (!valid) return h(DecisionNotFound, null);
  if (state.status === 'loading') return h(Loading, null, 'Loading the decision…');
  if (state.status === 'error') {
    if (state.error instanceof ApiError && state.error.status === 404) return h(DecisionNotFound, null);
    return h('div', null, h(PageHeading, null, 'Decision'), h(ErrorPanel, { error: state.error }));
  }
  if (!state.value) return h(DecisionNotFound, null);
  return h(DecisionPage, { decision: state.value });
}
