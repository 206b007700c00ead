// The drafting room: one shared text edited live by the delegations (Yjs over the
// server's y-websocket endpoint), with presence, connection status and the
// bracketed-passage count. Observers and everyone on a locked draft follow read-only.
// On its way to a decision the room shows the stage (pushed by the server over the same
// websocket, `?events=stage`), the chair's controls, objections and abstentions, the brackets
// and the versions.
//
// The editor itself (CodeMirror + Yjs + the websocket provider, see draft-editor.ts) is an
// imperative island: created in an effect when the room mounts, destroyed in its clean-up.
import { useSignal, type Signal } from '@preact/signals';
import { h } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, ApiError, type Decision, type Draft, type DraftSummary, type Objection } from '../api';
import type { ViewProps } from '../router';
import { currentUser } from '../session';
import { announce } from '../status';
import { Badge, ErrorPanel, Loading, PageHeading, Time } from '../ui/common';
import { isAbort, useResource, useUnmountSignal } from '../ui/hooks';
import type { LiveRoom } from './draft-editor';
import { DraftPlace } from './drafts';
import {
  STAGES,
  colourFor,
  countBrackets,
  describeBrackets,
  type ConnectionPhase,
  type Person,
  type RoomCallbacks,
} from './draft-common';
import {
  BracketsPanel,
  ChairControls,
  ObjectForm,
  ObjectionsList,
  StageBadge,
  StageBanner,
  type RoomActions,
} from './draft-stage';
import { AuthorshipSection } from './draft-authorship';
import { VersionsPanel } from './draft-versions';

interface Connection {
  phase: ConnectionPhase;
  pending: number;
  detail?: string;
}

function readOnlyMessage(draft: Draft): string {
  if (draft.stage === 'adopted') return 'Read only — the text was adopted and can no longer be changed.';
  if (draft.stage === 'withdrawn') return 'Read only — the draft was withdrawn.';
  if (draft.state === 'locked') return 'This draft is locked — the text can be read but no longer changed.';
  if (draft.stage === 'final_reading') {
    return 'Read only — final reading: the chair reads the text out and alone may still mend it. It can be edited again if it returns to drafting.';
  }
  if (draft.stage !== 'drafting') {
    return 'Read only — the text is frozen while the chair takes it towards a decision. It can be edited again if it returns to drafting.';
  }
  if (currentUser.value?.organisation.kind === 'observer') return 'Read only — observers follow the text but cannot change it.';
  return 'Read only — you follow the text but cannot change it.';
}

function DraftNotFound() {
  return h(
    'section',
    { class: 'panel narrow' },
    h(PageHeading, null, 'Draft not found'),
    h('p', null, 'There is no draft at this address. It may have been removed, or the link may be mistyped.'),
    h('p', null, h('a', { href: '/drafts' }, 'Back to the drafts')),
  );
}

function PresenceItem({ person: p }: { person: Person }) {
  const notes = [p.readOnly ? 'Following (read only)' : null, p.connections > 1 ? `${p.connections} windows` : null].filter(Boolean);
  return h(
    'li',
    { class: 'presence-item' },
    h('span', { class: 'presence-dot', 'aria-hidden': 'true', style: { backgroundColor: p.colour } }),
    h(
      'span',
      { class: 'presence-text' },
      h('span', { class: 'presence-name' }, p.name, p.self ? h('span', { class: 'muted' }, ' (you)') : null),
      p.organisation ? h('span', { class: 'presence-org' }, p.organisation) : null,
      notes.length ? h('span', { class: 'presence-note' }, notes.join(' · ')) : null,
    ),
  );
}

function Presence({ people }: { people: Signal<Person[]> }) {
  const list = people.value;
  return h(
    'section',
    { class: 'panel compact', 'aria-labelledby': 'presence-title' },
    h('h2', { id: 'presence-title' }, 'In the room ', h('span', { class: 'muted' }, `(${list.length})`)),
    h(
      'ul',
      { class: 'presence-list', 'aria-labelledby': 'presence-title' },
      list.length === 0
        ? h('li', { class: 'muted' }, 'Nobody yet.')
        : list.map((p) => h(PresenceItem, { key: p.key, person: p })),
    ),
  );
}

function ConnectionStatus({ connection }: { connection: Signal<Connection> }) {
  const { phase, pending, detail } = connection.value;
  const offline = phase !== 'connected' && phase !== 'closed' && (pending > 0 || !navigator.onLine);
  const text =
    phase === 'connected' ? 'Connected'
    : phase === 'closed' ? `Disconnected — ${detail ?? 'the server closed the connection.'}`
    : offline ? `Offline — ${pending} edit${pending === 1 ? '' : 's'} pending`
    : phase === 'connecting' ? 'Connecting…'
    : 'Reconnecting…';
  const tone = phase === 'connected' ? 'connected' : phase === 'closed' || offline ? 'offline' : 'connecting';
  return h(
    'section',
    { class: 'panel compact', 'aria-labelledby': 'connection-title' },
    h('h2', { id: 'connection-title', class: 'visually-hidden' }, 'Connection'),
    h(
      'p',
      { class: `connection connection-${tone}`, role: 'status' },
      h('span', { class: 'connection-dot', 'aria-hidden': 'true' }),
      h('span', { class: 'connection-text' }, text),
    ),
  );
}

/** The island's callbacks, and what the room itself does with fresh metadata. */
interface RoomControl extends RoomCallbacks {
  refresh: () => Promise<void>;
  apply: (next: Draft) => void;
  loadObjections: () => Promise<void>;
  actions: RoomActions;
}

interface EditorProps {
  draftId: string;
  canEdit: boolean;
  label: string;
  /** Changing it replaces the live room with a fresh one (after refused edits). */
  generation: number;
  callbacks: RoomCallbacks;
  /** Where the room keeps the live editor (for the brackets panel). */
  room: { current: LiveRoom | null };
}

/** The island: a LiveRoom lives exactly as long as this effect. */
function LiveEditor({ draftId, canEdit, label, generation, callbacks, room }: EditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const editableNow = useRef(canEdit);
  editableNow.current = canEdit;

  useEffect(() => {
    let disposed = false;
    let live: LiveRoom | null = null;
    const leave = () => {
      live?.destroy();
      live = null;
      room.current = null;
    };
    // Loaded on demand so the other screens do not carry the editor.
    import('./draft-editor').then(
      ({ LiveRoom }) => {
        if (disposed || !host.current) return;
        live = new LiveRoom(host.current, draftId, editableNow.current, 'draft-banner draft-brackets', label, callbacks);
        room.current = live;
      },
      (err: unknown) => {
        if (!disposed) callbacks.onConnection('closed', 0, `the editor could not be loaded (${err instanceof Error ? err.message : err}).`);
      },
    );
    // Leaving the page also tells the others at once that we are gone; coming back
    // from the back-forward cache needs a fresh connection.
    const onPageHide = () => {
      leave();
      window.addEventListener('pageshow', (event) => {
        if (event.persisted) window.location.reload();
      }, { once: true });
    };
    window.addEventListener('pagehide', onPageHide);
    return () => {
      disposed = true;
      window.removeEventListener('pagehide', onPageHide);
      leave();
    };
    // The label and callbacks are read when the room opens; they do not reopen it.
  }, [draftId, generation]);

  useEffect(() => {
    room.current?.setEditable(canEdit);
  }, [canEdit]);

  // No children: CodeMirror owns everything inside this element.
  return h('div', { class: 'draft-editor', ref: host });
}

function LockButton({ draft, onChanged }: { draft: Draft; onChanged: (d: Draft) => void }) {
  const signal = useUnmountSignal();
  const [busy, setBusy] = useState(false);
  const locking = draft.state === 'drafting';
  const toggle = async () => {
    if (busy) return;
    setBusy(true);
    try {
      const updated = await api.updateDraft(draft.id, { state: locking ? 'locked' : 'drafting' }, signal);
      onChanged(updated);
      announce(updated.state === 'locked' ? 'The draft is locked.' : 'The draft is open for drafting again.');
    } catch (err) {
      if (isAbort(err)) return;
      announce(`Could not change the draft: ${err instanceof Error ? err.message : 'error'}`);
    } finally {
      if (!signal.aborted) setBusy(false);
    }
  };
  return h(
    'div',
    { class: 'draft-admin' },
    h(
      'button',
      {
        type: 'button',
        class: locking ? 'button small danger' : 'button small',
        // aria-disabled rather than disabled: a disabled button would drop the keyboard focus.
        'aria-disabled': busy ? 'true' : undefined,
        onClick: () => void toggle(),
      },
      locking ? 'Lock draft' : 'Reopen for drafting',
    ),
  );
}

/** The stages in which delegations may object or abstain. */
const OBJECTING: readonly string[] = ['call_for_objections', 'written_procedure'];

function DraftRoom({ id, initial }: { id: string; initial: Draft }) {
  const signal = useUnmountSignal();
  const draft = useSignal(initial);
  const connection = useSignal<Connection>({ phase: 'connecting', pending: 0 });
  const people = useSignal<Person[]>(
    initial.connected.map((p) => ({
      key: `u${p.user_id}`,
      name: p.name,
      organisation: p.organisation,
      colour: colourFor(p.user_id),
      readOnly: false,
      self: p.user_id === currentUser.value?.id,
      connections: p.connections,
    })),
  );
  const brackets = useSignal(describeBrackets(countBrackets(initial.text)));
  /** Grows with every change of the live text (the authorship colours follow it). */
  const textChanges = useSignal(0);
  const deniedNotice = useSignal('');
  const objections = useSignal<Objection[] | null>(null);
  const decision = useSignal<Decision | null>(null);
  /** Grows whenever the draft moved on (a step was taken): the versions are listed again. */
  const changes = useSignal(0);
  const room = useRef<LiveRoom | null>(null);
  const [generation, setGeneration] = useState(0);
  const label = useMemo(() => `Draft text: ${initial.title}`, [initial.title]);

  const current = draft.value;
  useEffect(() => {
    document.title = `${current.title} · Plenum`;
  }, [current.title]);

  // The body whose chair runs the draft: are we its chair?
  const body = useResource(
    (s) => (initial.body_id != null ? api.body(initial.body_id, s) : Promise.resolve(null)),
    [initial.body_id],
  );
  const bodyValue = body.state.status === 'ready' ? body.state.value : null;
  // The server says who chairs the draft's body now (a term may name one delegate, the
  // vice-chair may be acting): the controls follow `can_conduct`, objecting `can_object`.
  const isChair = current.can_conduct;

  // Callbacks for the island; they only touch signals, so one set serves every room it opens.
  const callbacks = useMemo<RoomControl>(() => {
    let again = false;
    let lastPhase: ConnectionPhase | null = null;
    let lastDenied = 0;
    let textTimer = 0;

    const loadObjections = async () => {
      try {
        objections.value = await api.objections(Number(id), signal);
      } catch {
        // Shown again at the next change; the list is secondary.
      }
    };
    const apply = (next: Draft) => {
      const before = draft.peek();
      const stageChanged = next.stage !== before.stage;
      const editabilityChanged = next.can_edit !== before.can_edit;
      draft.value = next;
      if (stageChanged) {
        changes.value += 1;
        const info = STAGES[next.stage];
        announce(`The draft is now at the stage: ${info.label}. ${info.meaning}`);
        void loadObjections();
      } else if (editabilityChanged) {
        announce(next.can_edit ? 'You can edit the draft.' : readOnlyMessage(next));
      }
    };
    let inflight: Promise<void> | null = null;
    /** Fetches the draft; called while a fetch is under way, it asks once more and waits for both. */
    const refresh = (): Promise<void> => {
      if (signal.aborted) return Promise.resolve();
      if (inflight) {
        again = true;
        return inflight;
      }
      inflight = (async () => {
        try {
          do {
            again = false;
            const next = await api.draft(Number(id), signal);
            apply(next);
            // Abstentions do not move the draft: follow the list while objections are open.
            if (OBJECTING.includes(next.stage)) await loadObjections();
          } while (again && !signal.aborted);
        } catch {
          // Offline or a transient error: the connection status already says so.
        } finally {
          inflight = null;
        }
      })();
      return inflight;
    };
    const denied = async (reason: string) => {
      // Our edits were refused (e.g. the draft was locked meanwhile): the local copy has
      // changes the server will never accept, so start again from the server's text.
      const now = Date.now();
      if (now - lastDenied < 2000) return;
      lastDenied = now;
      try {
        apply(await api.draft(Number(id), signal));
      } catch (err) {
        if (isAbort(err)) return;
        draft.value = { ...draft.peek(), can_edit: false };
      }
      const why = reason && reason !== 'permission-denied' ? ` (${reason})` : '';
      deniedNotice.value = `The server did not accept your last changes${why}. The text below is the agreed text.`;
      setGeneration((g) => g + 1);
    };
    const actions: RoomActions = {
      id: Number(id),
      stepped: async (summary: DraftSummary) => {
        const before = draft.peek();
        apply({ ...before, ...summary });
        // A step saves a version and may record an objection, even without changing the stage.
        if (summary.stage === before.stage) changes.value += 1;
        await Promise.all([refresh(), loadObjections()]);
      },
      adopted: async (made: Decision) => {
        decision.value = made;
        await refresh();
      },
    };
    return {
      refresh,
      apply,
      loadObjections,
      actions,
      onConnection: (phase, pending, detail) => {
        connection.value = { phase, pending, detail };
        // Ask for fresh metadata (lock state, rights) after coming back.
        if (phase === 'connected' && (lastPhase === 'reconnecting' || lastPhase === 'closed')) void refresh();
        lastPhase = phase;
      },
      onPresence: (list) => {
        people.value = list;
      },
      onText: (text) => {
        // Only a changed count is announced (the signal ignores an equal value).
        brackets.value = describeBrackets(countBrackets(text));
        textChanges.value += 1;
        // The server's view of the brackets follows the text shortly after.
        window.clearTimeout(textTimer);
        textTimer = window.setTimeout(() => void refresh(), 1000);
      },
      onDenied: (reason) => void denied(reason),
      // The server pushes each change of stage, lock or recorded objections: fetch the draft
      // (our rights follow from it) and the objections.
      onStage: () => {
        void refresh();
        void loadObjections();
      },
    };
  }, [id]);

  // Stage changes arrive over the websocket (onStage); a tab coming back asks once, in case
  // its connection was asleep.
  useEffect(() => {
    void callbacks.loadObjections();
    const onVisible = () => {
      if (!document.hidden) void callbacks.refresh();
    };
    document.addEventListener('visibilitychange', onVisible);
    return () => document.removeEventListener('visibilitychange', onVisible);
  }, [callbacks]);

  // An adopted draft links to its decision (found in the register by its draft).
  const adopted = current.stage === 'adopted';
  useEffect(() => {
    if (!adopted || decision.peek()) return undefined;
    const controller = new AbortController();
    api.decisions({ body_id: current.body_id ?? undefined }, controller.signal).then(
      (list) => {
        const found = list.find((d) => d.draft_id === current.id);
        if (found) decision.value = found;
      },
      () => undefined,
    );
    return () => controller.abort();
  }, [adopted]);

  const select = (start: number, end: number, expected: string | null) => room.current?.select(start, end, expected) ?? false;
  const isAdmin = currentUser.value?.is_admin === true;
  const finished = current.stage === 'adopted' || current.stage === 'withdrawn';
  return h(
    'div',
    null,
    h(
      'div',
      { class: 'draft-header' },
      h('p', { class: 'breadcrumb' }, h('a', { href: '/drafts' }, '← All drafts')),
      h(PageHeading, { class: 'draft-title' }, current.title),
      h(
        'p',
        { class: 'draft-meta' },
        h(DraftPlace, { draft: current, link: true }),
        bodyValue ? h('a', { href: `/bodies/${encodeURIComponent(String(bodyValue.id))}` }, bodyValue.short_name) : null,
        h(StageBadge, { stage: current.stage }),
        current.state === 'locked' ? h(Badge, { tone: 'warn' }, 'Locked') : null,
        h('span', { class: 'muted small' }, 'Last saved ', h(Time, { iso: current.updated_at })),
      ),
      isAdmin && !finished ? h(LockButton, { draft: current, onChanged: callbacks.apply }) : null,
    ),
    h(StageBanner, { draft: current, decision: decision.value }),
    isChair
      ? h(ChairControls, { draft: current, bodyName: bodyValue?.short_name ?? 'the body', actions: callbacks.actions })
      : null,
    current.can_object && OBJECTING.includes(current.stage) ? h(ObjectForm, { draft: current, actions: callbacks.actions }) : null,
    h(
      'div',
      {
        class: current.state === 'locked' || finished ? 'draft-banner draft-banner-locked' : 'draft-banner',
        id: 'draft-banner',
        hidden: current.can_edit,
      },
      current.can_edit ? '' : readOnlyMessage(current),
    ),
    h('div', { class: 'form-alert', role: 'alert', hidden: !deniedNotice.value }, deniedNotice),
    h(
      'div',
      { class: 'draft-layout' },
      h(
        'section',
        { class: 'draft-main', 'aria-label': 'Draft text' },
        h(LiveEditor, { draftId: id, canEdit: current.can_edit, label, generation, callbacks, room }),
        h('p', { class: 'draft-brackets', id: 'draft-brackets', 'aria-live': 'polite' }, brackets),
        h('p', { class: 'muted small draft-help' }, 'Tab moves out of the editor. Ctrl+Z undoes your own changes only.'),
        h(AuthorshipSection, { draftId: current.id, version: null, changes: textChanges, id: 'authorship-live', level: 2 }),
      ),
      h(
        'div',
        { class: 'draft-side' },
        h(ConnectionStatus, { connection }),
        h(Presence, { people }),
        h(BracketsPanel, { draft: current, select }),
      ),
    ),
    h(ObjectionsList, { objections: objections.value }),
    h(VersionsPanel, { draftId: current.id, changes: changes.value }),
  );
}

export function DraftRoomView({ route }: ViewProps) {
  const id = route.id ?? '';
  const valid = /^\d+$/.test(id);
  const draft = useResource((signal) => (valid ? api.draft(Number(id), signal) : Promise.resolve(null)), [id]);
  const state = draft.state;
  if (!valid) return h(DraftNotFound, null);
  if (state.status === 'loading') return h(Loading, null, 'Loading the draft…');
  if (state.status === 'error') {
    if (state.error instanceof ApiError && state.error.status === 404) return h(DraftNotFound, null);
    return h('div', null, h(PageHeading, null, 'Drafting room'), h(ErrorPanel, { error: state.error }));
  }
  if (!state.value) return h(DraftNotFound, null);
  return h(DraftRoom, { key: id, id, initial: state.value });
}
