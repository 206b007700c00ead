// The recommendation tracker: every recommendation the caller may read, found by body, source,
// theme, addressee, status, overdue and words, with the same filters in the address (to share
// them) and in the CSV export; and "our recommendations", the tracker of one participant, its
// overdue and open ones first.
import { h } from 'preact';
import { useState } from 'preact/hooks';
import {
  api,
  listAll,
  recommendationsApi,
  recommendationsCsvHref,
  type BodySummary,
  type Id,
  type Organisation,
  type Recommendation,
  type RecommendationFilter,
  type SourceKind,
  type Vocabulary,
} from '../api';
import type { ViewProps } from '../router';
import { announce } from '../status';
import { Badge, ErrorPanel, Loading, PageHeading, Time, errorMessage } from '../ui/common';
import { useResource, useUnmountSignal } from '../ui/hooks';
import { NotFoundView } from './errors';
import {
  OverdueMarker,
  ProgressBar,
  RecommendationsNav,
  SOURCE_KINDS,
  StatusBadge,
  addresseeName,
  recommendationHref,
  sourceKindLabel,
} from './recommendation-common';

/** The filters as the address holds them (strings; empty: no filter). */
interface Filter {
  body: string;
  source: string;
  theme: string;
  addressee: string;
  status: string;
  overdue: boolean;
  q: string;
}

function filterFrom(params: URLSearchParams): Filter {
  const id = (k: string) => {
    const v = params.get(k) ?? '';
    return /^\d+$/.test(v) ? v : '';
  };
  const source = params.get('source') ?? '';
  const status = params.get('status') ?? '';
  return {
    body: id('body'),
    source: (SOURCE_KINDS as readonly string[]).includes(source) ? source : '',
    theme: (params.get('theme') ?? '').trim(),
    addressee: id('addressee'),
    status: /^[a-z0-9_]{1,40}$/.test(status) ? status : '',
    overdue: params.get('overdue') === 'true',
    q: (params.get('q') ?? '').trim(),
  };
}

function filterQuery(f: Filter): string {
  const query = new URLSearchParams();
  if (f.body) query.set('body', f.body);
  if (f.source) query.set('source', f.source);
  if (f.theme) query.set('theme', f.theme);
  if (f.addressee) query.set('addressee', f.addressee);
  if (f.status) query.set('status', f.status);
  if (f.overdue) query.set('overdue', 'true');
  if (f.q) query.set('q', f.q);
  const qs = query.toString();
  return qs ? `?${qs}` : '';
}

/** The API's filter for these (and, for "our recommendations", the organisation's). */
function apiFilter(f: Filter, organisationId: Id | null): RecommendationFilter {
  const addressee = organisationId ?? (f.addressee ? Number(f.addressee) : undefined);
  return {
    body_id: f.body ? Number(f.body) : undefined,
    source_kind: f.source ? (f.source as SourceKind) : undefined,
    theme: f.theme || undefined,
    organisation_id: addressee,
    status: f.status || undefined,
    overdue: f.overdue ? true : undefined,
    q: f.q || undefined,
  };
}

const isFiltered = (f: Filter) => Boolean(f.body || f.source || f.theme || f.addressee || f.status || f.overdue || f.q);

/** Each status key once (keys shared by vocabularies are one option), labelled by vocabulary. */
function statusOptions(vocabularies: Vocabulary[]): { value: string; label: string }[] {
  const labels = new Map<string, string[]>();
  for (const v of vocabularies) {
    for (const s of [...v.statuses].sort((a, b) => a.position - b.position)) {
      const list = labels.get(s.key) ?? [];
      if (!list.includes(s.label)) list.push(s.label);
      labels.set(s.key, list);
    }
  }
  return [...labels.entries()].map(([value, l]) => ({ value, label: l.join(' / ') }));
}

interface Choices {
  bodies: BodySummary[];
  organisations: Organisation[];
  vocabularies: Vocabulary[];
}

function useChoices(): Choices {
  const bodies = useResource((signal) => api.bodies(signal).catch(() => [] as BodySummary[]), []);
  const orgs = useResource((signal) => api.allOrganisations(signal).catch(() => [] as Organisation[]), []);
  const vocabularies = useResource((signal) => recommendationsApi.vocabularies(signal).catch(() => [] as Vocabulary[]), []);
  return {
    bodies: bodies.state.status === 'ready' ? bodies.state.value : [],
    organisations: orgs.state.status === 'ready' ? orgs.state.value.filter((o) => o.kind === 'participant') : [],
    vocabularies: vocabularies.state.status === 'ready' ? vocabularies.state.value : [],
  };
}

function SelectField({ id, name, label, value, options, all }: { id: string; name: string; label: string; value: string; options: { value: string; label: string }[]; all: string }) {
  return h(
    'div',
    { class: 'field' },
    h('label', { for: id }, label),
    h(
      'select',
      { id, name },
      h('option', { value: '', defaultSelected: value === '' }, all),
      options.map((o) => h('option', { key: o.value, value: o.value, defaultSelected: value === o.value }, o.label)),
      // A value from the address that is not (yet) among the options stays selectable.
      value && !options.some((o) => o.value === value) ? h('option', { key: `other-${value}`, value, defaultSelected: true }, value) : null,
    ),
  );
}

function FilterForm({ filter, choices, fixedOrganisation, onFilter }: { filter: Filter; choices: Choices; fixedOrganisation: boolean; onFilter: (f: Filter) => void }) {
  const submit = (event: Event) => {
    event.preventDefault();
    const data = new FormData(event.currentTarget as HTMLFormElement);
    const get = (k: string) => String(data.get(k) ?? '').trim();
    onFilter({
      body: get('body'),
      source: get('source'),
      theme: get('theme').toLowerCase(),
      addressee: fixedOrganisation ? '' : get('addressee'),
      status: get('status'),
      overdue: data.has('overdue'),
      q: get('q'),
    });
  };
  // The form is keyed on the choices' arrival so the address's values select the loaded options.
  const key = `${choices.bodies.length}-${choices.organisations.length}-${choices.vocabularies.length}`;
  return h(
    'form',
    { key, role: 'search', 'aria-label': 'Find recommendations', class: 'filter-form', noValidate: true, onSubmit: submit },
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'rec-q' }, 'Words'),
      h('p', { class: 'field-hint', id: 'rec-q-hint' }, 'Found in the code, the title or the text.'),
      h('input', { id: 'rec-q', name: 'q', type: 'search', defaultValue: filter.q, autocomplete: 'off', 'aria-describedby': 'rec-q-hint' }),
    ),
    h(SelectField, {
      id: 'rec-body',
      name: 'body',
      label: 'Body',
      value: filter.body,
      all: 'All bodies',
      options: choices.bodies.map((b) => ({ value: String(b.id), label: `${b.short_name} — ${b.name}` })),
    }),
    h(SelectField, {
      id: 'rec-source',
      name: 'source',
      label: 'Source',
      value: filter.source,
      all: 'All sources',
      options: SOURCE_KINDS.map((k) => ({ value: k, label: sourceKindLabel(k) })),
    }),
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'rec-theme' }, 'Theme'),
      h('input', { id: 'rec-theme', name: 'theme', type: 'text', defaultValue: filter.theme, autocomplete: 'off' }),
    ),
    fixedOrganisation
      ? null
      : h(SelectField, {
          id: 'rec-addressee',
          name: 'addressee',
          label: 'Addressee',
          value: filter.addressee,
          all: 'All addressees',
          options: choices.organisations.map((o) => ({ value: String(o.id), label: `${o.name} (${o.short_code})` })),
        }),
    h(SelectField, { id: 'rec-status', name: 'status', label: 'Status', value: filter.status, all: 'Any status', options: statusOptions(choices.vocabularies) }),
    h(
      'div',
      { class: 'field field-checkbox filter-checkbox' },
      h('input', { id: 'rec-overdue', name: 'overdue', type: 'checkbox', defaultChecked: filter.overdue }),
      h('label', { for: 'rec-overdue' }, 'Overdue only'),
    ),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'button primary' }, 'Search')),
  );
}

/** What the table shows for the addressees of a recommendation (all, or one organisation's). */
function StatusCell({ rec, organisationId }: { rec: Recommendation; organisationId: Id | null }) {
  const own = organisationId !== null ? rec.addressees.find((a) => a.organisation?.id === organisationId) : undefined;
  if (own) {
    return h('span', { class: 'badges' }, h(StatusBadge, { status: own.status }), own.overdue ? h(OverdueMarker, null) : null);
  }
  if (rec.addressees.length === 1) {
    const a = rec.addressees[0];
    return h(
      'span',
      { class: 'status-cell' },
      h('span', null, addresseeName(a)),
      h('span', { class: 'badges' }, h(StatusBadge, { status: a.status }), a.overdue ? h(OverdueMarker, null) : null),
    );
  }
  const n = rec.addressees.length;
  return h(
    'span',
    { class: 'status-cell' },
    h('span', null, `${n} addressee${n === 1 ? '' : 's'}`),
    rec.overdue_count > 0 ? h('span', { class: 'badges' }, h(Badge, { tone: 'bad' }, `${rec.overdue_count} overdue`)) : null,
  );
}

function RecommendationsTable({ recs, caption, organisationId }: { recs: Recommendation[]; caption: string; organisationId: Id | null }) {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'data-table rec-table' },
      h('caption', { class: 'visually-hidden' }, caption),
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          ['Code', 'Title', 'Body', 'Source', 'Themes', 'Due', organisationId !== null ? 'Status' : 'Addressees', 'Progress'].map((c) =>
            h('th', { key: c, scope: 'col' }, c),
          ),
        ),
      ),
      h(
        'tbody',
        null,
        recs.map((r) => {
          const own = organisationId !== null ? r.addressees.find((a) => a.organisation?.id === organisationId) : undefined;
          const progress = own ? own.status.weight : r.progress;
          return h(
            'tr',
            { key: r.id, class: own?.overdue ? 'overdue-row' : undefined },
            h('th', { scope: 'row' }, h('a', { href: recommendationHref(r.id) }, r.code)),
            h('td', null, r.title, r.restricted ? [' ', h(Badge, { key: 'r', tone: 'warn' }, 'Restricted')] : null),
            h('td', null, h('abbr', { title: r.body.name }, r.body.short_name)),
            h('td', null, h('span', { class: 'muted' }, sourceKindLabel(r.source.kind)), h('br', null), r.source.title),
            h('td', null, r.themes.length ? h('span', { class: 'badges' }, r.themes.map((t) => h(Badge, { key: t }, t))) : '—'),
            h('td', null, h(Time, { iso: r.due_on, dateOnly: true })),
            h('td', null, h(StatusCell, { rec: r, organisationId })),
            h('td', null, h(ProgressBar, { value: progress, label: `Progress of ${r.code}` })),
          );
        }),
      ),
    ),
  );
}

/** Overdue first, then the open ones, then the final; each by due date, then code. */
function forOrganisation(recs: Recommendation[], organisationId: Id): Recommendation[] {
  const rank = (r: Recommendation) => {
    const a = r.addressees.find((x) => x.organisation?.id === organisationId);
    if (!a) return 3;
    return a.overdue ? 0 : a.status.final ? 2 : 1;
  };
  return [...recs].sort((x, y) => {
    const d = rank(x) - rank(y);
    if (d) return d;
    const dx = x.due_on ?? '9999-12-31';
    const dy = y.due_on ?? '9999-12-31';
    if (dx !== dy) return dx < dy ? -1 : 1;
    return x.code.localeCompare(y.code);
  });
}

interface Loaded {
  items: Recommendation[];
  next: string | null;
}

const PAGE = 50;

function Tracker({ params, path, organisationId }: { params: URLSearchParams; path: string; organisationId: Id | null }) {
  const [filter, setFilter] = useState<Filter>(() => ({ ...filterFrom(params), ...(organisationId !== null ? { addressee: '' } : {}) }));
  const choices = useChoices();
  const signal = useUnmountSignal();
  const [more, setMore] = useState<{ busy: boolean; error: string }>({ busy: false, error: '' });
  const query = apiFilter(filter, organisationId);
  const list = useResource<Loaded>(
    async (s) => {
      if (organisationId !== null) {
        // One participant's recommendations: all of them, so that the order is theirs.
        const items = await listAll((cursor) => recommendationsApi.list({ ...query, limit: 100, cursor }, s));
        return { items: forOrganisation(items, organisationId), next: null };
      }
      const page = await recommendationsApi.list({ ...query, limit: PAGE }, s);
      return { items: page.items, next: page.next_cursor ?? null };
    },
    [filter.body, filter.source, filter.theme, filter.addressee, filter.status, filter.overdue, filter.q, organisationId],
  );
  const onFilter = (f: Filter) => {
    setFilter(f);
    // The address keeps the filters (to share them), without a new history entry or a new view.
    window.history.replaceState(null, '', `${path}${filterQuery(f)}`);
  };
  const loadMore = async (cursor: string) => {
    setMore({ busy: true, error: '' });
    try {
      const page = await recommendationsApi.list({ ...query, limit: PAGE, cursor }, signal);
      list.update((v) => ({ items: [...v.items, ...page.items.filter((r) => !v.items.some((x) => x.id === r.id))], next: page.next_cursor ?? null }));
      announce(`${page.items.length} more recommendation${page.items.length === 1 ? '' : 's'} shown.`);
      setMore({ busy: false, error: '' });
    } catch (err) {
      if (!signal.aborted) setMore({ busy: false, error: errorMessage(err) });
    }
  };
  const state = list.state;
  const filtered = isFiltered(filter);
  const count = state.status === 'ready' ? state.value.items.length : null;
  const next = state.status === 'ready' ? state.value.next : null;
  const status =
    count === null
      ? ''
      : count === 0
        ? filtered
          ? 'No recommendation matches the filters.'
          : 'No recommendation yet.'
        : `${count}${next ? ' or more' : ''} recommendation${count === 1 ? '' : 's'}${filtered ? ' found' : ''}.`;
  const csv = recommendationsCsvHref(query);
  return [
    h(
      'section',
      { key: 'filters', class: 'panel', 'aria-labelledby': 'rec-search-title' },
      h('h2', { id: 'rec-search-title' }, 'Find recommendations'),
      h(FilterForm, { filter, choices, fixedOrganisation: organisationId !== null, onFilter }),
    ),
    h(
      'section',
      { key: 'list', class: 'panel', 'aria-labelledby': 'rec-list-title' },
      h(
        'div',
        { class: 'section-head' },
        h('h2', { id: 'rec-list-title' }, organisationId !== null ? 'Recommendations, overdue and open first' : 'Tracker'),
        h('a', { href: csv, download: 'recommendations.csv', class: 'button small' }, 'Download as CSV', h('span', { class: 'visually-hidden' }, ' (with these filters)')),
      ),
      h('p', { role: 'status', class: 'muted' }, status),
      state.status === 'loading'
        ? h(Loading, null, 'Loading recommendations…')
        : state.status === 'error'
          ? h(ErrorPanel, { error: state.error })
          : state.value.items.length
            ? h(RecommendationsTable, {
                recs: state.value.items,
                organisationId,
                caption: organisationId !== null ? 'Recommendations to this participant, overdue and open first' : 'Recommendations matching the filters',
              })
            : null,
      next
        ? h(
            'div',
            { class: 'button-row' },
            h('button', { type: 'button', class: 'button', disabled: more.busy, onClick: () => void loadMore(next) }, more.busy ? 'Loading…' : 'Show more'),
          )
        : null,
      more.error ? h('p', { class: 'field-error', role: 'alert' }, more.error) : null,
    ),
  ];
}

export function RecommendationsView({ params }: ViewProps) {
  return h(
    'div',
    null,
    h(PageHeading, null, 'Recommendations'),
    h(RecommendationsNav, null),
    h(
      'p',
      { class: 'lead' },
      'What the meetings, decisions, review visits and reports of the bodies recommend, to whom, by when — and how far each addressee has come.',
    ),
    h(Tracker, { params, path: '/recommendations', organisationId: null }),
  );
}

/** One participant's recommendations (its delegates' own page). */
export function OurRecommendationsView({ params, route }: ViewProps) {
  const raw = route.id ?? '';
  const valid = /^\d+$/.test(raw);
  const id = valid ? Number(raw) : null;
  const orgs = useResource((signal) => (valid ? api.allOrganisations(signal) : Promise.resolve([] as Organisation[])), [raw]);
  if (id === null) return h(NotFoundView, null);
  const org = orgs.state.status === 'ready' ? orgs.state.value.find((o) => o.id === id) : undefined;
  if (orgs.state.status === 'ready' && !org) return h(NotFoundView, null);
  const name = org ? `${org.name} (${org.short_code})` : orgs.state.status === 'error' ? `Participant ${id}` : '…';
  return h(
    'div',
    null,
    h(PageHeading, null, `Recommendations to ${name}`),
    h(RecommendationsNav, null),
    h('p', { class: 'lead' }, 'Every recommendation addressed to this participant, with its status, overdue ones first. Open one to record progress.'),
    h(Tracker, { key: id, params, path: `/participants/${id}/recommendations`, organisationId: id }),
  );
}
