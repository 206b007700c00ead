// The drafting room: one shared text edited live by the delegations (Yjs over the
// server's y-websocket endpoint), with presence, connection status and the
// bracketed-passage count. Observers and everyone on a locked draft follow read-only.
//
// The editor itself (CodeMirror + Yjs + the websocket provider, see draft-editor.ts) is an
// imperative island: created in an effect when the room mounts, destroyed in its clean-up.
import { useSignal, type Signal } from '@preact/signals';
import { h } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, ApiError, type Draft } from '../api';
import type { ViewProps } from '../router';
import { currentUser } from '../session';
import { announce } from '../status';
import { ErrorPanel, Loading, PageHeading, Time } from '../ui/common';
import { isAbort, useResource, useUnmountSignal } from '../ui/hooks';
import type { LiveRoom } from './draft-editor';
import { DraftStateBadge } from './drafts';
import {
  colourFor,
  countBrackets,
  describeBrackets,
  type ConnectionPhase,
  type Person,
  type RoomCallbacks,
} from './draft-common';

interface Connection {
  phase: ConnectionPhase;
  pending: number;
  detail?: string;
}

function readOnlyMessage(draft: Draft): string {
  if (draft.state === 'locked') return 'This draft is locked — the text can be read but no longer changed.';
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
}

interface EditorProps {
  draftId: string;
  canEdit: boolean;
  label: string;
  /** Changing it replaces the live room with a fresh one (after refused edits). */
  generation: number;
  callbacks: RoomCallbacks;
}

/** The island: a LiveRoom lives exactly as long as this effect. */
function LiveEditor({ draftId, canEdit, label, generation, callbacks }: EditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const room = useRef<LiveRoom | null>(null);
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
  const deniedNotice = useSignal('');
  const [generation, setGeneration] = useState(0);
  const label = useMemo(() => `Draft text: ${initial.title}`, [initial.title]);

  const current = draft.value;
  useEffect(() => {
    document.title = `${current.title} · Plenum`;
  }, [current.title]);

  // Callbacks for the island; they only touch signals, so one set serves every room it opens.
  const callbacks = useMemo<RoomControl>(() => {
    let refreshing = false;
    let lastPhase: ConnectionPhase | null = null;
    let lastDenied = 0;

    const apply = (next: Draft) => {
      const editabilityChanged = next.can_edit !== draft.peek().can_edit;
      draft.value = next;
      if (editabilityChanged) announce(next.can_edit ? 'You can edit the draft.' : readOnlyMessage(next));
    };
    const refresh = async () => {
      if (refreshing || signal.aborted) return;
      refreshing = true;
      try {
        apply(await api.draft(Number(id), signal));
      } catch {
        // Offline or a transient error: the connection status already says so.
      } finally {
        refreshing = false;
      }
    };
    const denied = async (reason: string) => {
      // Our edits were refused (e.g. the draft was locked meanwhile): the local copy has
      // changes the server will never accept, so start again from the server's text.
      const now = Date.now();
      if (now - lastDenied < 2000) return;
      lastDenied = now;
      try {
        draft.value = await api.draft(Number(id), signal);
      } catch (err) {
        if (isAbort(err)) return;
        draft.value = { ...draft.peek(), can_edit: false };
      }
      const why = reason && reason !== 'permission-denied' ? ` (${reason})` : '';
      deniedNotice.value = `The server did not accept your last changes${why}. The text below is the agreed text.`;
      setGeneration((g) => g + 1);
    };
    return {
      refresh,
      apply,
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
      },
      onDenied: (reason) => void denied(reason),
    };
  }, [id]);

  useEffect(() => {
    const poll = window.setInterval(() => void callbacks.refresh(), 20_000);
    return () => window.clearInterval(poll);
  }, [callbacks]);

  const isAdmin = currentUser.value?.is_admin === true;
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
        current.reference ? h('span', { class: 'draft-reference' }, current.reference) : null,
        h(DraftStateBadge, { state: current.state }),
        h('span', { class: 'muted small' }, 'Last saved ', h(Time, { iso: current.updated_at })),
      ),
      isAdmin ? h(LockButton, { draft: current, onChanged: callbacks.apply }) : null,
    ),
    h(
      'div',
      {
        class: current.state === 'locked' ? 'draft-banner draft-banner-locked' : 'draft-banner',
        id: 'draft-banner',
        role: 'status',
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
        h(LiveEditor, { draftId: id, canEdit: current.can_edit, label, generation, callbacks }),
        h('p', { class: 'draft-brackets', id: 'draft-brackets', 'aria-live': 'polite' }, brackets),
        h('p', { class: 'muted small draft-help' }, 'Tab moves out of the editor. Ctrl+Z undoes your own changes only.'),
      ),
      h('div', { class: 'draft-side' }, h(ConnectionStatus, { connection }), h(Presence, { people })),
    ),
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
