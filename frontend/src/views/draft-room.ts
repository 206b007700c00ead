// The drafting room: one shared text edited live by the delegations (Yjs over the
// server's y-websocket endpoint), with presence, connection status and the
// bracketed-passage count. Observers and everyone on a locked draft follow read-only.
import type { LiveRoom } from './draft-editor';
import { api, ApiError, type Draft, type DraftParticipant } from '../api';
import { app } from '../app';
import { announce, clear, errorPanel, h, timeElement } from '../dom';
import type { View } from '../router';
import { draftStateBadge } from './drafts';
import {
  colourFor,
  countBrackets,
  describeBrackets,
  type ConnectionPhase,
  type Person,
} from './draft-common';

// ---------------------------------------------------------------------------
// The view

function presenceItem(p: Person): HTMLLIElement {
  const dot = h('span', { class: 'presence-dot', 'aria-hidden': 'true' });
  dot.style.backgroundColor = p.colour;
  return h(
    'li',
    { class: 'presence-item' },
    dot,
    h(
      'span',
      { class: 'presence-text' },
      h('span', { class: 'presence-name' }, p.name, p.self ? h('span', { class: 'muted' }, ' (you)') : null),
      p.organisation ? h('span', { class: 'presence-org' }, p.organisation) : null,
      p.readOnly || p.connections > 1
        ? h(
            'span',
            { class: 'presence-note' },
            [p.readOnly ? 'Following (read only)' : null, p.connections > 1 ? `${p.connections} windows` : null]
              .filter(Boolean)
              .join(' · '),
          )
        : null,
    ),
  );
}

function notFound(main: HTMLElement): void {
  main.append(
    h(
      'section',
      { class: 'panel narrow' },
      h('h1', null, 'Draft not found'),
      h('p', null, 'There is no draft at this address. It may have been removed, or the link may be mistyped.'),
      h('p', null, h('a', { href: '/drafts' }, 'Back to the drafts')),
    ),
  );
}

function readOnlyMessage(draft: Draft): string {
  if (draft.state === 'locked') return 'This draft is locked — the text can be read but no longer changed.';
  if (app.user?.organisation.kind === 'observer') return 'Read only — observers follow the text but cannot change it.';
  return 'Read only — you follow the text but cannot change it.';
}

export const draftRoomView: View = {
  title: 'Drafting room',
  access: 'user',
  async render(main, { route, isCurrent, onLeave }) {
    const id = route.id ?? '';
    if (!/^\d+$/.test(id)) {
      notFound(main);
      return;
    }
    let draft: Draft;
    try {
      draft = await api.draft(id);
    } catch (err) {
      if (!isCurrent()) return;
      if (err instanceof ApiError && err.status === 404) notFound(main);
      else main.append(h('h1', null, 'Drafting room'), errorPanel(err));
      return;
    }
    if (!isCurrent()) return;

    // --- static structure ---
    const heading = h('h1', { class: 'draft-title' }, draft.title);
    const stateHolder = h('span', null);
    const referenceHolder = h('span', null);
    const updatedHolder = h('span', null);
    const banner = h('div', { class: 'draft-banner', id: 'draft-banner', role: 'status', hidden: true });
    const deniedNotice = h('div', { class: 'form-alert', role: 'alert', hidden: true });
    const editorHost = h('div', { class: 'draft-editor' });
    const bracketLine = h('p', { class: 'draft-brackets', id: 'draft-brackets', 'aria-live': 'polite' });
    const statusDot = h('span', { class: 'connection-dot', 'aria-hidden': 'true' });
    const statusText = h('span', { class: 'connection-text' }, 'Connecting…');
    const status = h('p', { class: 'connection connection-connecting', role: 'status' }, statusDot, statusText);
    const presenceCount = h('span', { class: 'muted' });
    const presenceList = h('ul', { class: 'presence-list', 'aria-labelledby': 'presence-title' });
    const adminHolder = h('div', { class: 'draft-admin' });

    main.append(
      h(
        'div',
        { class: 'draft-header' },
        h('p', { class: 'breadcrumb' }, h('a', { href: '/drafts' }, '← All drafts')),
        heading,
        h('p', { class: 'draft-meta' }, referenceHolder, stateHolder, updatedHolder),
        adminHolder,
      ),
      banner,
      deniedNotice,
      h(
        'div',
        { class: 'draft-layout' },
        h(
          'section',
          { class: 'draft-main', 'aria-label': 'Draft text' },
          editorHost,
          bracketLine,
          h('p', { class: 'muted small draft-help' }, 'Tab moves out of the editor. Ctrl+Z undoes your own changes only.'),
        ),
        h(
          'aside',
          { class: 'draft-side', 'aria-labelledby': 'presence-title' },
          h('section', { class: 'panel compact' }, h('h2', { class: 'visually-hidden' }, 'Connection'), status),
          h(
            'section',
            { class: 'panel compact' },
            h('h2', { id: 'presence-title' }, 'In the room ', presenceCount),
            presenceList,
          ),
        ),
      ),
    );

    // --- state shared by the handlers below ---
    let room: LiveRoom | null = null;
    let left = false;
    let lastPhase: ConnectionPhase | null = null;

    const drawMeta = () => {
      document.title = `${draft.title} · Plenum`;
      heading.textContent = draft.title;
      clear(referenceHolder);
      if (draft.reference) referenceHolder.append(h('span', { class: 'draft-reference' }, draft.reference));
      clear(stateHolder);
      stateHolder.append(draftStateBadge(draft.state));
      clear(updatedHolder);
      updatedHolder.append(h('span', { class: 'muted small' }, 'Last saved ', timeElement(draft.updated_at)));
      banner.hidden = draft.can_edit;
      banner.textContent = draft.can_edit ? '' : readOnlyMessage(draft);
      banner.classList.toggle('draft-banner-locked', draft.state === 'locked');
      drawAdmin();
    };

    const drawAdmin = () => {
      clear(adminHolder);
      if (!app.user?.is_admin) return;
      const locking = draft.state === 'drafting';
      const button = h(
        'button',
        {
          type: 'button',
          class: locking ? 'button small danger' : 'button small',
          onclick: async () => {
            button.disabled = true;
            try {
              const updated = await api.updateDraft(draft.id, { state: locking ? 'locked' : 'drafting' });
              if (left) return;
              applyDraft(updated);
              announce(updated.state === 'locked' ? 'The draft is locked.' : 'The draft is open for drafting again.');
            } catch (err) {
              button.disabled = false;
              announce(`Could not change the draft: ${err instanceof Error ? err.message : 'error'}`);
            }
          },
        },
        locking ? 'Lock draft' : 'Reopen for drafting',
      );
      adminHolder.append(button);
    };

    const applyDraft = (next: Draft) => {
      const editabilityChanged = next.can_edit !== draft.can_edit;
      draft = next;
      drawMeta();
      if (editabilityChanged) {
        room?.setEditable(next.can_edit);
        announce(next.can_edit ? 'You can edit the draft.' : readOnlyMessage(next));
      }
    };

    const drawConnection = (phase: ConnectionPhase, pending: number, detail?: string) => {
      const offline = phase !== 'connected' && phase !== 'closed' && (pending > 0 || !navigator.onLine);
      const text =
        phase === 'connected' ? 'Connected'
        : phase === 'closed' ? `Disconnected — ${detail ?? 'the server closed the connection.'}`
        : offline ? `Offline — ${pending} edit${pending === 1 ? '' : 's'} pending`
        : phase === 'connecting' ? 'Connecting…'
        : 'Reconnecting…';
      const tone = phase === 'connected' ? 'connected' : phase === 'closed' || offline ? 'offline' : 'connecting';
      statusText.textContent = text;
      status.className = `connection connection-${tone}`;
      // Ask for fresh metadata (lock state, rights) after coming back.
      if (phase === 'connected' && (lastPhase === 'reconnecting' || lastPhase === 'closed')) void refresh();
      lastPhase = phase;
    };

    const drawPresence = (people: Person[]) => {
      clear(presenceList);
      presenceCount.textContent = `(${people.length})`;
      if (people.length === 0) presenceList.append(h('li', { class: 'muted' }, 'Nobody yet.'));
      else presenceList.append(...people.map(presenceItem));
    };

    const drawBrackets = (text: string) => {
      const description = describeBrackets(countBrackets(text));
      // Only a changed count is announced.
      if (bracketLine.textContent !== description) bracketLine.textContent = description;
    };

    // Before the live connection answers, show who the server says is here.
    drawPresence(
      draft.connected.map((p: DraftParticipant) => ({
        key: `u${p.user_id}`,
        name: p.name,
        organisation: p.organisation,
        colour: colourFor(p.user_id),
        readOnly: false,
        self: p.user_id === app.user?.id,
        connections: p.connections,
      })),
    );
    drawBrackets(draft.text);
    drawMeta();

    let refreshing = false;
    const refresh = async () => {
      if (refreshing || left) return;
      refreshing = true;
      try {
        const next = await api.draft(id);
        if (!left) applyDraft(next);
      } catch {
        // Offline or a transient error: the connection status already says so.
      } finally {
        refreshing = false;
      }
    };

    const { LiveRoom } = await import('./draft-editor');
    if (!isCurrent()) return;

    const openRoom = () => {
      room?.destroy();
      clear(editorHost);
      room = new LiveRoom(editorHost, id, draft.can_edit, 'draft-banner draft-brackets', `Draft text: ${draft.title}`, {
        onConnection: drawConnection,
        onPresence: drawPresence,
        onText: drawBrackets,
        onDenied: (reason) => void denied(reason),
      });
    };

    let lastDenied = 0;
    const denied = async (reason: string) => {
      // Our edits were refused (e.g. the draft was locked meanwhile): the local copy has
      // changes the server will never accept, so start again from the server's text.
      const now = Date.now();
      if (now - lastDenied < 2000) return;
      lastDenied = now;
      try {
        const next = await api.draft(id);
        if (left) return;
        draft = next;
        drawMeta();
      } catch {
        if (left) return;
        draft = { ...draft, can_edit: false };
        drawMeta();
      }
      const why = reason && reason !== 'permission-denied' ? ` (${reason})` : '';
      deniedNotice.textContent = `The server did not accept your last changes${why}. The text below is the agreed text.`;
      deniedNotice.hidden = false;
      openRoom();
    };

    openRoom();

    const poll = window.setInterval(() => void refresh(), 20_000);
    const leave = () => {
      if (left) return;
      left = true;
      window.clearInterval(poll);
      room?.destroy();
      room = null;
    };
    // Leaving the page also tells the others at once that we are gone; coming back
    // from the back-forward cache needs a fresh connection.
    const onPageHide = () => {
      leave();
      window.addEventListener('pageshow', (event) => {
        if (event.persisted) window.location.reload();
      }, { once: true });
    };
    window.addEventListener('pagehide', onPageHide);
    onLeave(() => {
      window.removeEventListener('pagehide', onPageHide);
      leave();
    });
  },
};
