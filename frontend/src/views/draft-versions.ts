// A draft's version history: the versions saved at every step (and on demand), one version's
// text, and the word-level changes between two versions or a version and the current text.
// Changes are marked with <ins>/<del>, styled, and prefixed for screen readers.
import { h, type ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type Diff, type Version, type VersionSummary } from '../api';
import { currentUser } from '../session';
import { announce } from '../status';
import { ErrorPanel, Time, errorMessage } from '../ui/common';
import { Field, Form, useForm, type FormValues } from '../ui/forms';
import { isAbort, useResource, useUnmountSignal } from '../ui/hooks';
import { AuthorshipSection } from './draft-authorship';
import { stageLabel } from './draft-common';

/** Who saves versions by hand: participants' delegates and the secretariat's administrators. */
function maySave(): boolean {
  const user = currentUser.value;
  return !!user && (user.is_admin || user.organisation.kind === 'participant');
}

function versionName(v: VersionSummary): string {
  return `Version ${v.n}${v.label ? `: ${v.label}` : ''}`;
}

function VersionsTable({ versions, onView }: { versions: VersionSummary[]; onView: (n: number) => void }) {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'data-table' },
      h('caption', { class: 'visually-hidden' }, 'Saved versions of the draft, oldest first'),
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          h('th', { scope: 'col' }, 'Version'),
          h('th', { scope: 'col' }, 'Stage'),
          h('th', { scope: 'col' }, 'Saved by'),
          h('th', { scope: 'col' }, 'When'),
          h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')),
        ),
      ),
      h(
        'tbody',
        null,
        versions.map((v) =>
          h(
            'tr',
            { key: v.n },
            h('th', { scope: 'row' }, `${v.n}. `, v.label || h('span', { class: 'muted' }, 'untitled')),
            h('td', null, stageLabel(v.stage)),
            h('td', null, v.created_by || h('span', { class: 'muted' }, 'Plenum (automatic)')),
            h('td', null, h(Time, { iso: v.created_at })),
            h(
              'td',
              { class: 'actions' },
              h('button', { type: 'button', class: 'button small', 'data-version': v.n, onClick: () => onView(v.n) }, `View version ${v.n}`),
            ),
          ),
        ),
      ),
    ),
  );
}

function SaveVersionForm({ draftId, onSaved }: { draftId: number; onSaved: () => void }) {
  const form = useForm();
  const signal = useUnmountSignal();
  const submit = async (values: FormValues) => {
    const label = values.get('label');
    if (!label) {
      form.fieldError('label', 'Enter a label, for example: as circulated 12 June.');
      form.focusFirstError();
      return;
    }
    const saved = await api.saveVersion(draftId, label, signal);
    form.reset();
    onSaved();
    announce(`Version ${saved.n} saved: ${saved.label}.`);
  };
  return h(
    'div',
    { class: 'subsection' },
    h('h3', { id: 'save-version-title' }, 'Save a version'),
    h(
      Form,
      { form, labelledBy: 'save-version-title', submitLabel: 'Save version', onSubmit: submit },
      h(Field, { form, label: 'Label', name: 'label', required: true, autocomplete: 'off', maxLength: 200, hint: 'What this version is, for example: as circulated 12 June.' }),
    ),
  );
}

/** A heading that takes the focus when it appears (the result of the user's request). */
function ResultHeading({ id, children }: { id: string; children?: ComponentChildren }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => ref.current?.focus(), []);
  return h('h3', { ref, id, tabIndex: -1 }, children);
}

function VersionText({ draftId, version, onClose }: { draftId: number; version: Version; onClose: () => void }) {
  return h(
    'div',
    { class: 'subsection', role: 'region', 'aria-labelledby': 'version-view-title' },
    h(ResultHeading, { key: version.n, id: 'version-view-title' }, versionName(version)),
    h(
      'p',
      { class: 'muted small' },
      `${stageLabel(version.stage)} · saved by ${version.created_by || 'Plenum (automatic)'}, `,
      h(Time, { iso: version.created_at }),
    ),
    h(
      AuthorshipSection,
      { key: version.n, draftId, version: version.n, id: 'authorship-version', level: 4 },
      h('div', { class: 'version-text' }, version.text || h('span', { class: 'muted' }, 'The text was empty.')),
    ),
    h('div', { class: 'button-row' }, h('button', { type: 'button', class: 'button small', onClick: onClose }, 'Close the version')),
  );
}

function DiffParts({ diff }: { diff: Diff }) {
  return h(
    'div',
    { class: 'diff-text' },
    diff.parts.map((p, i) =>
      p.op === 'insert'
        ? h('ins', { key: i }, h('span', { class: 'visually-hidden' }, '[inserted: '), p.text, h('span', { class: 'visually-hidden' }, ']'))
        : p.op === 'delete'
          ? h('del', { key: i }, h('span', { class: 'visually-hidden' }, '[deleted: '), p.text, h('span', { class: 'visually-hidden' }, ']'))
          : h('span', { key: i }, p.text),
    ),
  );
}

function DiffView({ diff, versions, onClose }: { diff: Diff; versions: VersionSummary[]; onClose: () => void }) {
  const name = (n: number | null | undefined) => {
    if (n === null || n === undefined) return 'the current text';
    const v = versions.find((x) => x.n === n);
    return v ? versionName(v).replace(/^Version/, 'version') : `version ${n}`;
  };
  const inserted = diff.parts.filter((p) => p.op === 'insert').length;
  const deleted = diff.parts.filter((p) => p.op === 'delete').length;
  const count = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;
  return h(
    'div',
    { class: 'subsection', role: 'region', 'aria-labelledby': 'diff-title' },
    h(ResultHeading, { key: `${diff.from}-${diff.to ?? 'current'}`, id: 'diff-title' }, `Changes from ${name(diff.from)} to ${name(diff.to)}`),
    h(
      'p',
      { class: 'diff-summary' },
      inserted === 0 && deleted === 0 ? 'No changes.' : `${count(inserted, 'insertion')} and ${count(deleted, 'deletion')}.`,
      ' ',
      h('span', { class: 'muted small' }, 'Insertions are underlined on green, deletions struck through on red.'),
    ),
    h(DiffParts, { diff }),
    h('div', { class: 'button-row' }, h('button', { type: 'button', class: 'button small', onClick: onClose }, 'Close the changes')),
  );
}

function CompareForm({ draftId, versions, onDiff }: { draftId: number; versions: VersionSummary[]; onDiff: (d: Diff) => void }) {
  const form = useForm();
  const signal = useUnmountSignal();
  const submit = async (values: FormValues) => {
    const from = Number(values.get('from'));
    const toRaw = values.get('to');
    const to = toRaw === 'current' ? null : Number(toRaw);
    if (to !== null && to === from) {
      form.fieldError('to', 'Choose another version to compare with.');
      form.focusFirstError();
      return;
    }
    onDiff(await api.diff(draftId, from, to, signal));
  };
  const options = versions.map((v) => ({ value: String(v.n), label: versionName(v) }));
  const last = versions[versions.length - 1];
  return h(
    'div',
    { class: 'subsection' },
    h('h3', { id: 'compare-title' }, 'Compare versions'),
    h(
      Form,
      { form, labelledBy: 'compare-title', submitLabel: 'Show the changes', onSubmit: submit },
      h(Field, { form, label: 'From', name: 'from', required: true, options, value: last ? String(last.n) : undefined }),
      h(Field, { form, label: 'To', name: 'to', required: true, options: [{ value: 'current', label: 'The current text' }, ...options], value: 'current' }),
    ),
  );
}

/** `changes` grows whenever the draft moved on (a step saves a version). */
export function VersionsPanel({ draftId, changes }: { draftId: number; changes: number }) {
  const signal = useUnmountSignal();
  const [saved, setSaved] = useState(0);
  const list = useResource((s) => api.versions(draftId, s), [draftId, changes, saved]);
  const [viewing, setViewing] = useState<Version | null>(null);
  const [diff, setDiff] = useState<Diff | null>(null);
  const [error, setError] = useState('');
  const state = list.state;
  const versions = state.status === 'ready' ? state.value : [];

  const view = async (n: number) => {
    setError('');
    try {
      setDiff(null);
      setViewing(await api.version(draftId, n, signal));
    } catch (err) {
      if (!isAbort(err)) setError(errorMessage(err));
    }
  };
  const back = (selector: string) => window.setTimeout(() => document.querySelector<HTMLElement>(selector)?.focus(), 0);

  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'versions-title' },
    h('h2', { id: 'versions-title' }, 'Versions'),
    state.status === 'loading'
      ? h('p', { class: 'muted' }, 'Loading versions…')
      : state.status === 'error'
        ? h(ErrorPanel, { error: state.error })
        : versions.length === 0
          ? h('p', { class: 'muted' }, 'No version saved yet. A version is saved at every step towards a decision, and whenever a delegation saves one.')
          : h(VersionsTable, { versions, onView: (n) => void view(n) }),
    h('div', { class: 'form-alert', role: 'alert', hidden: !error }, error),
    viewing
      ? h(VersionText, {
          draftId,
          version: viewing,
          onClose: () => {
            const n = viewing.n;
            setViewing(null);
            back(`[data-version="${n}"]`);
          },
        })
      : null,
    versions.length
      ? h(CompareForm, {
          draftId,
          versions,
          onDiff: (d) => {
            setViewing(null);
            setDiff(d);
          },
        })
      : null,
    diff
      ? h(DiffView, {
          diff,
          versions,
          onClose: () => {
            setDiff(null);
            back('#compare-title + form select');
          },
        })
      : null,
    maySave() ? h(SaveVersionForm, { draftId, onSaved: () => setSaved((n) => n + 1) }) : null,
  );
}
