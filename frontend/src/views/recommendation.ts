// One recommendation: its text (Markdown, rendered as elements), source, themes, due date and
// progress; each addressee's current status and full timeline (every dated, attributed entry,
// oldest first, with its note and evidence; corrections marked); and, for whoever may write, the
// form to record progress with a note, links and uploaded files (sent first to /api/evidence).
import { h } from 'preact';
import { useMemo, useRef, useState } from 'preact/hooks';
import {
  ApiError,
  evidenceHref,
  recommendationsApi,
  uploadEvidence,
  type Addressee,
  type Evidence,
  type Id,
  type ImplementationEntry,
  type ImplementationRecord,
  type NewImplementationEntry,
  type Recommendation,
  type UploadRef,
  type Vocabulary,
  type VocabularyStatus,
} from '../api';
import type { ViewProps } from '../router';
import { currentUser } from '../session';
import { announce } from '../status';
import { Badge, ErrorPanel, Loading, PageHeading, Time } from '../ui/common';
import { formatDateTime } from '../ui/format';
import { Field, Form, useForm, type FormState } from '../ui/forms';
import { useResource, useUnmountSignal } from '../ui/hooks';
import { Markdown, safeHref } from '../ui/markdown';
import { formatBytes } from './meeting-common';
import {
  OverdueMarker,
  ProgressBar,
  RecommendationsNav,
  StatusBadge,
  addresseeKey,
  addresseeName,
  priorityLabel,
  recommendationHref,
  sourceHref,
  sourceKindLabel,
} from './recommendation-common';

const ADDRESSED_TO: Record<Recommendation['addressed_to'], string> = {
  all_participants: 'All participants at the time of issue',
  participants: 'Named participants',
  body: 'A body',
};

function NotFound() {
  return h(
    'section',
    { class: 'panel narrow' },
    h(PageHeading, null, 'Recommendation not found'),
    h('p', null, 'There is no recommendation at this address, or it is not open to you. The link may be mistyped.'),
    h('p', null, h('a', { href: '/recommendations' }, 'Back to the recommendations')),
  );
}

/** The parent and the children of a recommendation, as links with their codes. */
function Related({ rec }: { rec: Recommendation }) {
  const ids = useMemo(() => [...(rec.parent_id != null ? [rec.parent_id] : []), ...rec.children], [rec.parent_id, rec.children.join(',')]);
  const related = useResource(
    (signal) => Promise.all(ids.map((id) => recommendationsApi.get(id, signal).catch(() => null))),
    [ids.join(',')],
  );
  if (!ids.length) return null;
  const found = related.state.status === 'ready' ? related.state.value : [];
  const byId = new Map(found.filter((r): r is Recommendation => r !== null).map((r) => [r.id, r]));
  const linkTo = (id: Id) => {
    const r = byId.get(id);
    return h('a', { key: id, href: recommendationHref(id) }, r ? `${r.code} — ${r.title}` : `Recommendation ${id}`);
  };
  return [
    rec.parent_id != null ? h('div', { key: 'parent' }, h('dt', null, 'Part of'), h('dd', null, linkTo(rec.parent_id))) : null,
    rec.children.length
      ? h(
          'div',
          { key: 'children' },
          h('dt', null, 'Made of'),
          h('dd', null, h('ul', { class: 'plain-list' }, rec.children.map((id) => h('li', { key: id }, linkTo(id))))),
        )
      : null,
  ];
}

function Facts({ rec }: { rec: Recommendation }) {
  const src = sourceHref(rec.source);
  return h(
    'dl',
    { class: 'details' },
    h('div', null, h('dt', null, 'Issued by'), h('dd', null, h('a', { href: `/bodies/${encodeURIComponent(String(rec.body.id))}` }, `${rec.body.short_name} — ${rec.body.name}`))),
    h('div', null, h('dt', null, 'Issued'), h('dd', null, h(Time, { iso: rec.issued_on, dateOnly: true }))),
    h(
      'div',
      null,
      h('dt', null, 'Due'),
      h('dd', null, h(Time, { iso: rec.due_on, dateOnly: true }), rec.overdue_count > 0 ? [' ', h(Badge, { key: 'o', tone: 'bad' }, `${rec.overdue_count} overdue`)] : null),
    ),
    h('div', null, h('dt', null, 'Source'), h('dd', null, `${sourceKindLabel(rec.source.kind)}: `, src ? h('a', { href: src }, rec.source.title) : rec.source.title)),
    h('div', null, h('dt', null, 'Addressed to'), h('dd', null, ADDRESSED_TO[rec.addressed_to] ?? rec.addressed_to)),
    h('div', null, h('dt', null, 'Priority'), h('dd', null, priorityLabel(rec.priority))),
    h('div', null, h('dt', null, 'Tracked with'), h('dd', null, rec.vocabulary.name)),
    h(
      'div',
      null,
      h('dt', null, 'Themes'),
      h('dd', null, rec.themes.length ? h('span', { class: 'badges' }, rec.themes.map((t) => h(Badge, { key: t }, t))) : '—'),
    ),
    rec.restricted ? h('div', null, h('dt', null, 'Access'), h('dd', null, h(Badge, { tone: 'warn' }, 'Restricted: not shown to observers'))) : null,
    h(Related, { rec }),
  );
}

function AddresseesTable({ rec, records }: { rec: Recommendation; records: ImplementationRecord[] }) {
  const entries = new Map(records.map((r) => [addresseeKey(r.addressee), r.entries.length]));
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'data-table' },
      h('caption', null, `Addressees of ${rec.code} and their current status`),
      h(
        'thead',
        null,
        h('tr', null, ['Addressee', 'Status', 'Overdue', 'Last update', 'Entries'].map((c) => h('th', { key: c, scope: 'col' }, c))),
      ),
      h(
        'tbody',
        null,
        rec.addressees.map((a) => {
          const key = addresseeKey(a);
          return h(
            'tr',
            { key, class: a.overdue ? 'overdue-row' : undefined },
            h('th', { scope: 'row' }, h('a', { href: `#record-${key}` }, addresseeName(a))),
            h('td', null, h(StatusBadge, { status: a.status })),
            h('td', null, a.overdue ? h(OverdueMarker, null) : h('span', { class: 'muted' }, 'No')),
            h('td', null, h(Time, { iso: a.updated_at })),
            h('td', null, String(entries.get(key) ?? 0)),
          );
        }),
      ),
    ),
  );
}

function EvidenceList({ evidence }: { evidence: Evidence[] }) {
  if (!evidence.length) return null;
  return h(
    'ul',
    { class: 'evidence-list', 'aria-label': 'Evidence' },
    evidence.map((e) => {
      if (e.upload) {
        const u = e.upload;
        return h(
          'li',
          { key: e.id },
          h('a', { href: evidenceHref(u.id), download: u.filename }, e.label && e.label !== u.filename ? `${e.label} (${u.filename})` : u.filename),
          h('span', { class: 'muted' }, ` — ${formatBytes(u.size)}`),
        );
      }
      const href = e.url ? safeHref(e.url) : null;
      return h(
        'li',
        { key: e.id },
        href ? h('a', { href, rel: 'noopener noreferrer external' }, e.label || e.url) : e.label || e.url || '—',
        href && e.label ? h('span', { class: 'muted evidence-url' }, ` — ${e.url}`) : null,
      );
    }),
  );
}

function EntryItem({ entry, entries }: { entry: ImplementationEntry; entries: ImplementationEntry[] }) {
  const corrected = entry.corrects_id != null ? entries.find((e) => e.id === entry.corrects_id) : undefined;
  const correctedBy = entries.filter((e) => e.corrects_id === entry.id);
  return h(
    'li',
    { id: `entry-${entry.id}`, class: `timeline-entry${correctedBy.length ? ' is-corrected' : ''}${entry.corrects_id != null ? ' is-correction' : ''}` },
    h(
      'p',
      { class: 'entry-head' },
      h(Time, { iso: entry.recorded_at }),
      ' ',
      h(StatusBadge, { status: entry.status }),
      entry.corrects_id != null ? [' ', h(Badge, { key: 'c', tone: 'warn' }, 'Correction')] : null,
      correctedBy.length ? [' ', h(Badge, { key: 'cb', tone: 'neutral' }, 'Corrected later')] : null,
    ),
    h(
      'p',
      { class: 'entry-meta muted' },
      `Recorded by ${entry.recorded_by.display_name}`,
      entry.recorded_for ? ` (${entry.recorded_for.name})` : '',
      entry.corrects_id != null
        ? [
            '; corrects ',
            h('a', { key: 'l', href: `#entry-${entry.corrects_id}` }, corrected ? `the entry of ${formatDateTime(corrected.recorded_at)}` : 'an earlier entry'),
          ]
        : null,
      correctedBy.length
        ? ['; corrected by ', correctedBy.map((c, i) => [i ? ', ' : '', h('a', { key: c.id, href: `#entry-${c.id}` }, `the entry of ${formatDateTime(c.recorded_at)}`)])]
        : null,
      '.',
    ),
    entry.note ? h(Markdown, { text: entry.note, class: 'markdown entry-note', headingBase: 4 }) : null,
    h(EvidenceList, { evidence: entry.evidence }),
  );
}

function RecordTimeline({ record, mine }: { record: ImplementationRecord; mine: boolean }) {
  const a = record.addressee;
  const key = addresseeKey(a);
  const titleId = `record-${key}-title`;
  return h(
    'section',
    { id: `record-${key}`, class: `record${mine ? ' record-mine' : ''}`, 'aria-labelledby': titleId },
    h(
      'h3',
      { id: titleId, class: 'record-title' },
      addresseeName(a),
      mine ? h('span', { class: 'muted' }, ' (yours)') : null,
    ),
    h(
      'p',
      { class: 'record-status' },
      'Now: ',
      h(StatusBadge, { status: a.status }),
      a.overdue ? [' ', h(OverdueMarker, { key: 'o' })] : null,
      a.updated_at ? [' · last update ', h(Time, { key: 't', iso: a.updated_at })] : null,
    ),
    record.entries.length
      ? h(
          'ol',
          { class: 'timeline-entries', 'aria-label': `Timeline of ${addresseeName(a)}, oldest first` },
          record.entries.map((e) => h(EntryItem, { key: e.id, entry: e, entries: record.entries })),
        )
      : h('p', { class: 'muted' }, 'No progress recorded yet.'),
  );
}

// ---------------------------------------------------------------------------
// Recording progress

let linkRowSeq = 0;

/** The files already sent for this form, so that a retry does not send them again. */
type Sent = Map<string, UploadRef>;
const fileKey = (f: File) => `${f.name}\u0000${f.size}\u0000${f.lastModified}`;

function RecordForm({
  rec,
  records,
  statuses,
  onRecorded,
}: {
  rec: Recommendation;
  records: ImplementationRecord[];
  statuses: VocabularyStatus[];
  onRecorded: (entry: ImplementationEntry, addressee: Addressee) => void;
}) {
  const form = useForm();
  const signal = useUnmountSignal();
  const user = currentUser.value;
  const writable = records.filter((r) => r.addressee.can_record);
  const own = writable.find((r) => r.addressee.organisation?.id === user?.organisation.id) ?? writable[0];
  const [forKey, setForKey] = useState(own ? addresseeKey(own.addressee) : '');
  const [linkRows, setLinkRows] = useState<number[]>(() => [++linkRowSeq]);
  const sent = useRef<Sent>(new Map());
  const chosen = writable.find((r) => addresseeKey(r.addressee) === forKey) ?? own;
  if (!chosen) return null;
  const titleId = `record-form-title`;
  const ordered = [...statuses].sort((a, b) => a.position - b.position);

  const submit = async (values: { get: (name: string) => string }) => {
    const target = writable.find((r) => addresseeKey(r.addressee) === (values.get('for') || forKey)) ?? chosen;
    const status = values.get('status');
    if (!status) form.fieldError('status', 'Choose a status.');
    const links: { url: string; label?: string }[] = [];
    for (const row of linkRows) {
      const url = values.get(`link_url_${row}`);
      const label = values.get(`link_label_${row}`);
      if (!url && !label) continue;
      if (!url) {
        form.fieldError(`link_url_${row}`, 'Give the address of the link.');
        continue;
      }
      if (!/^https?:\/\/\S+$/i.test(url)) {
        form.fieldError(`link_url_${row}`, 'Use an address that starts with https:// or http://.');
        continue;
      }
      // The API names the link by its place among those sent.
      form.aliases.set(`links[${links.length}].url`, `link_url_${row}`);
      form.aliases.set(`links[${links.length}].label`, `link_label_${row}`);
      links.push(label ? { url, label } : { url });
    }
    if (Object.keys(form.errors.value).length) {
      form.formError('Please correct the fields marked below.');
      form.focusFirstError();
      return;
    }
    const input = form.element?.querySelector<HTMLInputElement>('input[type="file"]');
    const files = input?.files ? [...input.files] : [];
    const uploads: UploadRef[] = [];
    for (const file of files) {
      const k = fileKey(file);
      let up = sent.current.get(k);
      if (!up) {
        try {
          up = await uploadEvidence(file, signal);
        } catch (err) {
          if (err instanceof ApiError && [400, 413, 415, 422].includes(err.status)) {
            const fallback = err.status === 413 ? 'is too large' : err.status === 415 ? 'is of a type that is not accepted' : 'was refused';
            form.fieldError('files', `${file.name}: ${err.problem.detail || `the file ${fallback}`}`);
            form.formError('Nothing was recorded: a file could not be uploaded.');
            form.focusFirstError();
            return;
          }
          throw err;
        }
        sent.current.set(k, up);
      }
      form.aliases.set(`upload_ids[${uploads.length}]`, 'files');
      uploads.push(up);
    }
    const corrects = values.get('corrects');
    const entry: NewImplementationEntry = {
      status,
      note: values.get('note'),
      ...(links.length ? { links } : {}),
      ...(uploads.length ? { upload_ids: uploads.map((u) => u.id) } : {}),
      ...(corrects && /^\d+$/.test(corrects) ? { corrects_id: Number(corrects) } : {}),
    };
    const a = target.addressee;
    const saved = a.organisation
      ? await recommendationsApi.recordForOrganisation(rec.id, a.organisation.id, entry, signal)
      : a.body
        ? await recommendationsApi.recordForBody(rec.id, a.body.id, entry, signal)
        : null;
    if (!saved) return;
    sent.current.clear();
    form.reset();
    setLinkRows([++linkRowSeq]);
    onRecorded(saved, a);
    announce(`Progress recorded for ${addresseeName(a)}: ${saved.status.label}.`);
  };

  form.aliases.set('organisation_id', 'for');
  form.aliases.set('body_id', 'for');
  form.aliases.set('corrects_id', 'corrects');
  form.aliases.set('upload_ids', 'files');
  form.aliases.set('links', `link_url_${linkRows[0]}`);
  return h(
    'section',
    { class: 'panel record-form', 'aria-labelledby': titleId },
    h('h2', { id: titleId }, 'Record progress'),
    h(
      'p',
      { class: 'muted' },
      'Each entry is added to the addressee’s timeline with your name and the time; entries are never changed afterwards — to correct one, record a new entry that corrects it.',
    ),
    h(
      Form,
      { form, labelledBy: titleId, submitLabel: 'Record progress', onSubmit: submit },
      writable.length > 1
        ? h(Field, {
            form,
            label: 'For',
            name: 'for',
            required: true,
            value: forKey,
            options: writable.map((r) => ({ value: addresseeKey(r.addressee), label: addresseeName(r.addressee) })),
            onValue: setForKey,
          })
        : h('p', { class: 'record-for' }, 'For ', h('strong', null, addresseeName(chosen.addressee)), '.'),
      h(StatusField, { key: `status-${forKey}`, form, statuses: ordered, current: chosen.addressee.status.key }),
      h(Field, { form, label: 'Note', name: 'note', rows: 5, maxLength: 10000, hint: 'What was done, by whom, what remains.' }),
      h(LinkRows, { form, rows: linkRows, setRows: setLinkRows }),
      h(Field, {
        form,
        label: 'Attachments',
        name: 'files',
        type: 'file',
        multiple: true,
        hint: 'One or more files: PDF, Office or OpenDocument files, PNG or JPEG images, or text (txt, md, csv).',
      }),
      chosen.entries.length
        ? h(Field, {
            key: `corrects-${forKey}`,
            form,
            label: 'Corrects',
            name: 'corrects',
            hint: 'Only when this entry corrects an earlier one (which stays in the timeline, marked as corrected).',
            options: [
              { value: '', label: 'Nothing: a new entry' },
              ...[...chosen.entries].reverse().map((e) => ({ value: String(e.id), label: `The entry of ${formatDateTime(e.recorded_at)} (${e.status.label})` })),
            ],
          })
        : null,
    ),
  );
}

function StatusField({ form, statuses, current }: { form: FormState; statuses: VocabularyStatus[]; current: string }) {
  return h(Field, {
    form,
    label: 'Status',
    name: 'status',
    required: true,
    value: current,
    options: statuses.map((s) => ({ value: s.key, label: `${s.label}${s.final ? ' (final)' : ''} — ${s.weight} %` })),
    hint: 'The status after this entry. Final statuses end the follow-up.',
  });
}

function LinkRows({ form, rows, setRows }: { form: FormState; rows: number[]; setRows: (rows: number[]) => void }) {
  return h(
    'fieldset',
    { class: 'link-rows' },
    h('legend', null, 'Links', h('span', { class: 'optional' }, ' (optional)')),
    rows.map((row, i) =>
      h(
        'div',
        { key: row, class: 'link-row' },
        h(Field, { form, label: `Link ${i + 1}: address`, name: `link_url_${row}`, type: 'url', maxLength: 2000, autocomplete: 'off' }),
        h(Field, { form, label: `Link ${i + 1}: label`, name: `link_label_${row}`, maxLength: 200, autocomplete: 'off' }),
        rows.length > 1
          ? h(
              'button',
              {
                type: 'button',
                class: 'button small',
                onClick: () => {
                  setRows(rows.filter((r) => r !== row));
                  announce(`Link ${i + 1} removed.`);
                },
              },
              `Remove link ${i + 1}`,
            )
          : null,
      ),
    ),
    h(
      'button',
      {
        type: 'button',
        class: 'button small',
        onClick: () => {
          setRows([...rows, ++linkRowSeq]);
          announce(`Link ${rows.length + 1} added.`);
        },
      },
      'Add another link',
    ),
  );
}

// ---------------------------------------------------------------------------
// The page

interface Loaded {
  rec: Recommendation;
  records: ImplementationRecord[];
  vocabulary: Vocabulary | null;
}

function RecommendationPage({ loaded, reload }: { loaded: Loaded; reload: () => void }) {
  const { rec, records, vocabulary } = loaded;
  const user = currentUser.value;
  const ownId = user?.organisation.id;
  const ordered = [...records].sort((x, y) => {
    const mx = x.addressee.organisation?.id === ownId ? 0 : 1;
    const my = y.addressee.organisation?.id === ownId ? 0 : 1;
    return mx - my;
  });
  const canRecord = records.some((r) => r.addressee.can_record);
  return h(
    'div',
    null,
    h('p', { class: 'breadcrumb' }, h('a', { href: '/recommendations' }, '← All recommendations')),
    h(PageHeading, null, `${rec.code} — ${rec.title}`),
    h(RecommendationsNav, null),
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'rec-facts-title' },
      h('h2', { id: 'rec-facts-title', class: 'visually-hidden' }, 'About the recommendation'),
      h(Facts, { rec }),
      h(
        'div',
        { class: 'rec-progress' },
        h('p', { class: 'rec-progress-label', id: 'rec-progress-label' }, rec.children.length ? 'Progress (the mean of its parts)' : 'Progress (the mean over its addressees)'),
        h(ProgressBar, { value: rec.progress, label: `Progress of ${rec.code}`, large: true }),
      ),
    ),
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'rec-text-title' },
      h('h2', { id: 'rec-text-title' }, 'Text'),
      h(Markdown, { text: rec.text, class: 'markdown rec-text' }),
    ),
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'rec-addressees-title' },
      h('h2', { id: 'rec-addressees-title' }, 'Addressees'),
      rec.addressees.length ? h(AddresseesTable, { rec, records }) : h('p', null, 'No addressee.'),
    ),
    canRecord && vocabulary
      ? h(RecordForm, {
          rec,
          records,
          statuses: vocabulary.statuses,
          onRecorded: () => reload(),
        })
      : canRecord
        ? h('p', { class: 'notice' }, 'The statuses of this recommendation’s vocabulary could not be loaded, so progress cannot be recorded now.')
        : null,
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'rec-timelines-title' },
      h('h2', { id: 'rec-timelines-title' }, 'Implementation timelines'),
      ordered.length
        ? ordered.map((r) => h(RecordTimeline, { key: addresseeKey(r.addressee), record: r, mine: r.addressee.organisation?.id === ownId }))
        : h('p', null, 'No implementation record.'),
    ),
  );
}

export function RecommendationView({ route }: ViewProps) {
  const id = route.id ?? '';
  const valid = /^\d+$/.test(id);
  const data = useResource<Loaded | null>(
    async (signal) => {
      if (!valid) return null;
      const [rec, records, vocabularies] = await Promise.all([
        recommendationsApi.get(Number(id), signal),
        recommendationsApi.implementations(Number(id), signal),
        recommendationsApi.vocabularies(signal).catch(() => [] as Vocabulary[]),
      ]);
      return { rec, records, vocabulary: vocabularies.find((v) => v.id === rec.vocabulary.id) ?? null };
    },
    [id],
  );
  const state = data.state;
  if (!valid) return h(NotFound, null);
  if (state.status === 'loading') return h(Loading, null, 'Loading the recommendation…');
  if (state.status === 'error') {
    if (state.error instanceof ApiError && state.error.status === 404) return h(NotFound, null);
    return h('div', null, h(PageHeading, null, 'Recommendation'), h(ErrorPanel, { error: state.error }));
  }
  if (!state.value) return h(NotFound, null);
  return h(RecommendationPage, { loaded: state.value, reload: data.reload });
}

