// The drafting room's way to a decision: the stage banner with its countdown, the chair's
// controls, the delegates' objections and abstentions, and the brackets panel that takes the
// editor to each bracketed passage. The server decides every step: its refusals (403, 409) are
// shown as it words them.
import { h } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import {
  api,
  type Bracket,
  type Decision,
  type Draft,
  type DraftStage,
  type DraftSummary,
  type Objection,
} from '../api';
import { announce } from '../status';
import { Badge, errorMessage, Time } from '../ui/common';
import { parseTimestamp } from '../ui/format';
import { Field, Form, useForm, type FormValues } from '../ui/forms';
import { isAbort, useUnmountSignal } from '../ui/hooks';
import { STAGES, formatRemaining, procedureLabel, stanceLabel } from './draft-common';

/** What the room lends the panels that move the draft. */
export interface RoomActions {
  id: number;
  /** Takes the server's answer to a step, then fetches the whole draft (and its lists) again. */
  stepped: (summary: DraftSummary) => Promise<void>;
  /** The chair declared adoption: the decision the server made of the draft. */
  adopted: (decision: Decision) => Promise<void>;
}

export function StageBadge({ stage }: { stage: DraftStage }) {
  const info = STAGES[stage];
  return h(Badge, { tone: info?.tone ?? 'neutral' }, info?.label ?? stage);
}

/** The current time, ticking every second while `active`. */
function useNow(active: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return undefined;
    setNow(Date.now());
    const timer = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(timer);
  }, [active]);
  return now;
}

/** Announces (politely, once each) when 5 minutes and 1 minute are left, and when time is up. */
function useCountdownAnnouncements(until: string, left: number, what: string) {
  const band = left <= 0 ? 'over' : left <= 60_000 ? '1' : left <= 300_000 ? '5' : null;
  const said = useRef<{ until: string; marks: Set<string> }>({ until, marks: new Set() });
  useEffect(() => {
    if (said.current.until !== until) said.current = { until, marks: new Set() };
    if (!band || said.current.marks.has(band)) return;
    // Arriving with less than 5 minutes left says only the most urgent.
    for (const m of ['5', '1', 'over']) {
      said.current.marks.add(m);
      if (m === band) break;
    }
    if (band === 'over') announce(`The time ${what} is over.`);
    else announce(`${band === '1' ? 'One minute' : 'Five minutes'} left ${what}.`);
  }, [until, band]);
}

function Countdown({ until, what }: { until: string; what: string }) {
  const end = parseTimestamp(until).getTime();
  const now = useNow(true);
  const left = end - now;
  useCountdownAnnouncements(until, left, what);
  if (left <= 0) return h('span', null, `The time ${what} is over.`);
  // A timer is not a live region: it is read when reached, never interrupts.
  return h('span', null, h('span', { class: 'countdown', role: 'timer' }, formatRemaining(left)), ' left');
}

/** Stage in plain words, with the countdown of a timed call and the written procedure's deadline. */
export function StageBanner({ draft, decision }: { draft: Draft; decision: Decision | null }) {
  const stage = draft.stage;
  const info = STAGES[stage];
  const until = stage === 'call_for_objections' ? draft.objections_until ?? null : null;
  const deadline = stage === 'written_procedure' || stage === 'silence_broken' ? draft.deadline ?? null : null;
  return h(
    'section',
    { class: `stage-banner stage-${info.tone}`, 'aria-labelledby': 'stage-title' },
    h('h2', { id: 'stage-title', tabIndex: -1 }, 'Stage: ', info.label),
    h('p', { class: 'stage-meaning' }, info.meaning),
    stage === 'call_for_objections'
      ? h(
          'p',
          { class: 'stage-time' },
          until
            ? ['Objections close at ', h(Time, { key: 't', iso: until }), ' — ', h(Countdown, { key: 'c', until, what: 'to object' }), '.']
            : 'Open until the chair declares adoption.',
        )
      : null,
    deadline
      ? h(
          'p',
          { class: 'stage-time' },
          'Deadline of the written procedure: ',
          h(Time, { iso: deadline }),
          stage === 'written_procedure' ? [' — ', h(Countdown, { key: 'c', until: deadline, what: 'to break the silence' })] : null,
          '.',
        )
      : null,
    stage === 'adopted' && decision
      ? h(
          'p',
          { class: 'stage-time' },
          'Adopted as decision ',
          h('a', { href: `/decisions/${encodeURIComponent(String(decision.id))}` }, decision.number),
          ' on ',
          h(Time, { iso: decision.adopted_at }),
          '.',
        )
      : null,
  );
}

// ---------------------------------------------------------------------------
// The chair's controls

/** An inline "are you sure?" that takes the focus. */
function Confirm({ question, yes, no, busy, onYes, onNo }: { question: string; yes: string; no: string; busy: boolean; onYes: () => void; onNo: () => void }) {
  const ref = useRef<HTMLButtonElement>(null);
  useEffect(() => ref.current?.focus(), []);
  return h(
    'div',
    { class: 'confirm', role: 'group', 'aria-labelledby': 'withdraw-question' },
    h('p', { id: 'withdraw-question', class: 'confirm-question' }, question),
    h(
      'span',
      { class: 'button-group' },
      h('button', { ref, type: 'button', class: 'button danger', 'aria-disabled': busy ? 'true' : undefined, onClick: () => !busy && onYes() }, yes),
      h('button', { type: 'button', class: 'button', onClick: onNo }, no),
    ),
  );
}

/** datetime-local's value ("2026-06-12T17:00", the browser's time) as an RFC 3339 instant. */
function localToInstant(value: string): string | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(value)) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

function focusStage() {
  window.setTimeout(() => document.getElementById('stage-title')?.focus(), 0);
}

export function ChairControls({ draft, bodyName, actions }: { draft: Draft; bodyName: string; actions: RoomActions }) {
  const signal = useUnmountSignal();
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState('');
  const [confirming, setConfirming] = useState(false);
  const alertRef = useRef<HTMLDivElement>(null);
  const callForm = useForm();
  const writtenForm = useForm();
  const stage = draft.stage;

  const run = async (name: string, step: () => Promise<void>, done: string): Promise<boolean> => {
    if (busy) return false;
    setBusy(name);
    setError('');
    try {
      await step();
      announce(done);
      focusStage();
      return true;
    } catch (err) {
      if (isAbort(err)) return false;
      setError(errorMessage(err));
      window.setTimeout(() => alertRef.current?.focus(), 0);
      return false;
    } finally {
      if (!signal.aborted) setBusy(null);
    }
  };
  const step = (name: string, call: () => Promise<DraftSummary>, done: string) =>
    run(name, async () => actions.stepped(await call()), done);

  const button = (name: string, label: string, onClick: () => void, tone = 'button') =>
    h(
      'button',
      { key: name, type: 'button', class: tone, 'data-step': name, 'aria-disabled': busy ? 'true' : undefined, onClick: () => !busy && onClick() },
      label,
    );

  const buttons = [
    stage === 'call_for_objections'
      ? button('adopt', 'Declare adoption', () =>
          void run('adopt', async () => actions.adopted(await api.adopt(draft.id, signal)), 'The text is adopted.'), 'button primary')
      : null,
    stage === 'drafting'
      ? button('final-reading', 'Final reading', () =>
          void step('final-reading', () => api.finalReading(draft.id, signal), 'Final reading: the clean text is read out and no longer edited.'))
      : null,
    stage === 'final_reading' || stage === 'call_for_objections' || stage === 'silence_broken'
      ? button('reopen', 'Back to drafting', () =>
          void step('reopen', () => api.reopenDraft(draft.id, signal), 'The draft is back in drafting: delegations may edit it.'))
      : null,
    stage !== 'adopted' && stage !== 'withdrawn'
      ? button('withdraw', 'Withdraw the draft', () => setConfirming(true), 'button danger')
      : null,
  ].filter(Boolean);

  const mayCall = stage === 'drafting' || stage === 'final_reading';
  const mayCirculate = stage === 'drafting' || stage === 'final_reading' || stage === 'silence_broken';

  const call = async (values: FormValues) => {
    const raw = values.get('minutes');
    let minutes: number | null = null;
    if (raw) {
      minutes = Number(raw);
      if (!Number.isInteger(minutes) || minutes < 1 || minutes > 10_080) {
        callForm.fieldError('minutes', 'Give a whole number of minutes from 1 to 10080 (a week), or leave it empty.');
        callForm.focusFirstError();
        return;
      }
    }
    const summary = await api.callForObjections(draft.id, minutes, signal);
    callForm.reset();
    await actions.stepped(summary);
    announce(minutes ? `Objections are called for, for ${minutes} minute${minutes === 1 ? '' : 's'}.` : 'Objections are called for.');
    focusStage();
  };
  const circulate = async (values: FormValues) => {
    const raw = values.get('deadline');
    const deadline = raw ? localToInstant(raw) : null;
    if (!deadline) {
      writtenForm.fieldError('deadline', 'Enter the date and time at which silence is established.');
      writtenForm.focusFirstError();
      return;
    }
    if (Date.parse(deadline) <= Date.now()) {
      writtenForm.fieldError('deadline', 'The deadline must be in the future.');
      writtenForm.focusFirstError();
      return;
    }
    const summary = await api.writtenProcedure(draft.id, deadline, signal);
    writtenForm.reset();
    await actions.stepped(summary);
    announce('The text is circulated in writing until the deadline.');
    focusStage();
  };

  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return h(
    'section',
    { class: 'panel chair-console', 'aria-labelledby': 'chair-title' },
    h('h2', { id: 'chair-title' }, 'Chair’s controls'),
    h('p', { class: 'muted' }, `As chair of ${bodyName}, you take the draft towards a decision.`),
    h('div', { ref: alertRef, class: 'form-alert', role: 'alert', tabIndex: -1, hidden: !error }, error),
    confirming
      ? h(Confirm, {
          question: 'Withdraw the draft? It will not be adopted, and nobody can edit it any more.',
          yes: 'Yes, withdraw it',
          no: 'No, keep it',
          busy: busy !== null,
          onYes: () => {
            void step('withdraw', () => api.withdraw(draft.id, signal), 'The draft is withdrawn.').then(() => setConfirming(false));
          },
          onNo: () => {
            setConfirming(false);
            window.setTimeout(() => document.querySelector<HTMLElement>('[data-step="withdraw"]')?.focus(), 0);
          },
        })
      : null,
    buttons.length ? h('div', { class: 'console-row' }, buttons) : h('p', { class: 'muted' }, 'Nothing more to do: the draft has reached its end.'),
    !draft.brackets.clean && (mayCall || mayCirculate)
      ? h('p', { class: 'notice' }, 'The text still has open brackets or bracket problems: final reading, a call for objections and the written procedure need a clean text.')
      : null,
    mayCall
      ? h(
          'div',
          { class: 'subsection' },
          h('h3', { id: 'call-title' }, 'Call for objections'),
          h(
            Form,
            { form: callForm, labelledBy: 'call-title', submitLabel: 'Call for objections', onSubmit: call },
            h(Field, {
              form: callForm,
              label: 'Minutes to object',
              name: 'minutes',
              type: 'number',
              autocomplete: 'off',
              hint: 'Leave empty to keep the call open until you declare adoption; with minutes, the text is adopted in silence when they run out.',
            }),
          ),
        )
      : null,
    mayCirculate
      ? h(
          'div',
          { class: 'subsection' },
          h('h3', { id: 'written-title' }, 'Circulate in writing'),
          h(
            Form,
            { form: writtenForm, labelledBy: 'written-title', submitLabel: 'Circulate in writing', onSubmit: circulate },
            h(Field, {
              form: writtenForm,
              label: 'Deadline',
              name: 'deadline',
              type: 'datetime-local',
              required: true,
              hint: `Your local time (${zone}). Every participant is mailed the text; it is adopted at the deadline unless a delegation objects.`,
            }),
          ),
        )
      : null,
  );
}

// ---------------------------------------------------------------------------
// Objections and abstentions

export function ObjectForm({ draft, actions }: { draft: Draft; actions: RoomActions }) {
  const form = useForm();
  const signal = useUnmountSignal();
  const busy = form.busy.value;
  const written = draft.stage === 'written_procedure';
  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    if (form.busy.value) return;
    const submitter = event.submitter as HTMLButtonElement | null;
    const kind = submitter?.value === 'abstention' ? 'abstention' : 'objection';
    form.clearErrors();
    const reason = String(new FormData(event.currentTarget as HTMLFormElement).get('reason') ?? '').trim();
    if (!reason) {
      form.fieldError('reason', kind === 'objection' ? 'Give the reason for your objection.' : 'Give the reason for your abstention.');
      form.focusFirstError();
      return;
    }
    form.busy.value = true;
    try {
      const after = await api.object(draft.id, kind, reason, signal);
      form.reset();
      await actions.stepped(after);
      announce(
        kind === 'abstention'
          ? 'Your abstention is recorded. It does not block the adoption.'
          : after.stage === 'silence_broken'
            ? 'Your objection is recorded: the silence is broken.'
            : 'Your objection is recorded: the draft returns to drafting.',
      );
      focusStage();
    } catch (err) {
      if (!isAbort(err)) form.showError(err);
    } finally {
      form.busy.value = false;
    }
  };
  const alert = form.alert.value;
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'object-title' },
    h('h2', { id: 'object-title' }, 'Object or abstain'),
    h(
      'p',
      { class: 'muted' },
      written
        ? 'An objection breaks the silence: the text is not adopted at the deadline. An abstention is recorded and blocks nothing.'
        : 'An objection sends the text back to drafting. An abstention is recorded and blocks nothing.',
    ),
    h(
      'form',
      { ref: form.bind, noValidate: true, 'aria-labelledby': 'object-title', 'aria-busy': busy ? 'true' : 'false', onSubmit: submit },
      h('div', { class: 'form-alert', role: 'alert', tabIndex: -1, hidden: !alert }, alert),
      h(Field, {
        form,
        label: 'Reason',
        name: 'reason',
        rows: 3,
        required: true,
        maxLength: 4000,
        hint: 'Say why; the reason is shown to every delegation.',
      }),
      h(
        'div',
        { class: 'button-row' },
        h('button', { type: 'submit', name: 'kind', value: 'objection', class: 'button danger', disabled: busy }, 'Object'),
        h('button', { type: 'submit', name: 'kind', value: 'abstention', class: 'button', disabled: busy }, 'Abstain'),
      ),
    ),
  );
}

export function ObjectionsList({ objections }: { objections: Objection[] | null }) {
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'objections-title' },
    h('h2', { id: 'objections-title' }, 'Objections and abstentions'),
    objections === null
      ? h('p', { class: 'muted' }, 'Loading…')
      : objections.length === 0
        ? h('p', { class: 'muted' }, 'None recorded.')
        : h(
            'div',
            { class: 'table-wrap' },
            h(
              'table',
              { class: 'data-table' },
              h('caption', { class: 'visually-hidden' }, 'Objections and abstentions recorded on this draft'),
              h(
                'thead',
                null,
                h(
                  'tr',
                  null,
                  h('th', { scope: 'col' }, 'Delegation'),
                  h('th', { scope: 'col' }, 'Stance'),
                  h('th', { scope: 'col' }, 'Reason'),
                  h('th', { scope: 'col' }, 'Round'),
                  h('th', { scope: 'col' }, 'When'),
                ),
              ),
              h(
                'tbody',
                null,
                objections.map((o) =>
                  h(
                    'tr',
                    { key: o.id },
                    h('th', { scope: 'row' }, o.organisation, h('div', { class: 'muted small' }, o.user)),
                    h('td', null, h(Badge, { tone: o.kind === 'objection' ? 'bad' : 'neutral' }, stanceLabel(o.kind))),
                    h('td', { class: 'reason' }, o.reason),
                    h('td', null, `${o.round}`, h('div', { class: 'muted small' }, procedureLabel(o.procedure))),
                    h('td', null, h(Time, { iso: o.created_at })),
                  ),
                ),
              ),
            ),
          ),
  );
}

// ---------------------------------------------------------------------------
// Brackets

function shorten(text: string, max = 90): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** Bracketed passages in order, alternatives (`[A] / [B]`) kept together. */
function groupBrackets(open: Bracket[]): { key: string; alternatives: boolean; items: Bracket[] }[] {
  const groups: { key: string; alternatives: boolean; items: Bracket[] }[] = [];
  for (const b of open) {
    const last = groups[groups.length - 1];
    if (b.alternatives != null && last?.alternatives && last.items[0].alternatives === b.alternatives) last.items.push(b);
    else groups.push({ key: `${b.start}-${b.end}`, alternatives: b.alternatives != null, items: [b] });
  }
  return groups;
}

export function BracketsPanel({ draft, select }: { draft: Draft; select: (start: number, end: number, expected: string | null) => boolean }) {
  const { open, problems, clean } = draft.brackets;
  const go = (start: number, end: number, expected: string | null) => {
    if (!select(start, end, expected)) announce('That passage is no longer in the text.');
  };
  const passage = (b: Bracket) =>
    h(
      'li',
      { key: `${b.start}-${b.end}` },
      h(
        'button',
        { type: 'button', class: 'link-button', onClick: () => go(b.start, b.end, b.text) },
        `Paragraph ${b.paragraph}: ${shorten(b.text)}`,
      ),
      b.depth > 0 ? h('span', { class: 'muted small' }, ' (inside another bracket)') : null,
    );
  return h(
    'section',
    { class: 'panel compact brackets-panel', 'aria-labelledby': 'brackets-title' },
    h('h2', { id: 'brackets-title' }, 'Brackets'),
    clean
      ? h('p', { class: 'brackets-clean' }, 'Clean text: no brackets and no bracket problems.')
      : [
          open.length
            ? h(
                'ul',
                { key: 'open', class: 'bracket-list', 'aria-label': 'Open brackets' },
                groupBrackets(open).map((g) =>
                  g.alternatives && g.items.length > 1
                    ? h(
                        'li',
                        { key: g.key },
                        h('span', { class: 'bracket-group' }, `Alternatives in paragraph ${g.items[0].paragraph}:`),
                        h('ul', { class: 'bracket-list' }, g.items.map(passage)),
                      )
                    : passage(g.items[0]),
                ),
              )
            : null,
          problems.length
            ? h(
                'div',
                { key: 'problems' },
                h('h3', { class: 'bracket-problems-title' }, 'Bracket problems'),
                h(
                  'ul',
                  { class: 'bracket-list' },
                  problems.map((p) =>
                    h(
                      'li',
                      { key: `${p.offset}-${p.message}` },
                      h(
                        'button',
                        { type: 'button', class: 'link-button', onClick: () => go(p.offset, p.offset + 1, null) },
                        `Paragraph ${p.paragraph}: ${p.message}`,
                      ),
                    ),
                  ),
                ),
              )
            : null,
        ],
    h('p', { class: 'muted small' }, 'Choose a passage to select it in the text.'),
  );
}
