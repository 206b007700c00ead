// The live part of the drafting room (Yjs, y-websocket, CodeMirror), loaded on demand
// so the other screens do not carry the editor. The room view creates a LiveRoom in an
// effect and destroys it in the effect's clean-up (editor, provider, document).
import * as Y from 'yjs';
import { WebsocketProvider, messageAuth } from 'y-websocket';
import * as authProtocol from 'y-protocols/auth';
import * as decoding from 'lib0/decoding';
import { yCollab, yUndoManagerKeymap } from 'y-codemirror.next';
import { Compartment, EditorSelection, EditorState, type Extension } from '@codemirror/state';
import {
  Decoration,
  EditorView,
  MatchDecorator,
  ViewPlugin,
  drawSelection,
  highlightActiveLine,
  highlightSpecialChars,
  keymap,
  placeholder,
  type DecorationSet,
  type ViewUpdate,
} from '@codemirror/view';
import { defaultKeymap } from '@codemirror/commands';
import { highlightSelectionMatches, searchKeymap } from '@codemirror/search';
import { draftSocketBase } from '../api';
import { currentUser } from '../session';
import {
  colourFor,
  locatePassage,
  safeColour,
  type AwarenessUser,
  type Person,
  type RoomCallbacks,
  type StageNotice,
} from './draft-common';

/** The server's message type for stage notices (see `?events=stage` on the draft's socket). */
const STAGE_MESSAGE = 100;

// ---------------------------------------------------------------------------
// Editor extensions

const bracketDecorator = new MatchDecorator({
  regexp: /\[[^[\]\n]*\]/g,
  decoration: Decoration.mark({ class: 'cm-bracketed' }),
});

const bracketHighlighter = ViewPlugin.fromClass(
  class {
    decorations: DecorationSet;
    constructor(view: EditorView) {
      this.decorations = bracketDecorator.createDeco(view);
    }
    update(update: ViewUpdate) {
      this.decorations = bracketDecorator.updateDeco(update, this.decorations);
    }
  },
  { decorations: (v) => v.decorations },
);

function editability(canEdit: boolean, describedBy: string, label: string): Extension {
  return [
    EditorState.readOnly.of(!canEdit),
    EditorView.editable.of(canEdit),
    EditorView.contentAttributes.of({
      'aria-label': label,
      'aria-describedby': describedBy,
      'aria-readonly': canEdit ? 'false' : 'true',
      // The text always takes the keyboard focus: read only, to read it and to show where a
      // bracket chosen in the brackets panel is; and, said explicitly, so the scroller counts
      // as keyboard-scrollable (axe: scrollable-region-focusable) when a co-editor's caret
      // label or a long text makes it scroll.
      tabindex: '0',
    }),
    placeholder(canEdit ? 'Type the draft text here…' : 'The draft is empty.'),
  ];
}

// ---------------------------------------------------------------------------
// A live connection to one draft: Y.Doc + provider + editor.

export class LiveRoom {
  readonly doc = new Y.Doc();
  readonly text: Y.Text;
  readonly provider: WebsocketProvider;
  readonly view: EditorView;
  private readonly undoManager: Y.UndoManager;
  private readonly editable = new Compartment();
  private pending = 0;
  private everConnected = false;
  private closedDetail: string | null = null;
  private destroyed = false;
  private textTimer = 0;
  private readonly onOnlineChange = () => this.reportConnection();

  constructor(
    parent: HTMLElement,
    draftId: string,
    private canEdit: boolean,
    private readonly describedBy: string,
    private readonly label: string,
    private readonly callbacks: RoomCallbacks,
  ) {
    this.text = this.doc.getText('content');
    this.undoManager = new Y.UndoManager(this.text);
    // `events=stage`: the server also pushes the draft's stage changes (message type 100).
    this.provider = new WebsocketProvider(draftSocketBase(draftId), 'ws', this.doc, {
      disableBc: true,
      params: { events: 'stage' },
    });
    this.provider.messageHandlers[STAGE_MESSAGE] = (_encoder, decoder) => {
      let notice: StageNotice | null = null;
      try {
        notice = JSON.parse(decoding.readVarString(decoder)) as StageNotice;
      } catch {
        return;
      }
      if (!this.destroyed && notice && notice.type === 'stage') this.callbacks.onStage(notice);
    };

    // The server says "permission-denied" when it refuses our updates.
    this.provider.messageHandlers[messageAuth] = (_encoder, decoder) => {
      authProtocol.readAuthMessage(decoder, this.doc, (_doc: unknown, reason: string) => {
        if (!this.destroyed) this.callbacks.onDenied(reason);
      });
    };

    const me = currentUser.peek();
    if (me) {
      const colour = colourFor(me.id);
      this.provider.awareness.setLocalStateField('user', {
        id: me.id,
        name: me.display_name,
        organisation: me.organisation.name,
        kind: me.organisation.kind,
        color: colour,
        colorLight: `${colour}33`,
        readOnly: !canEdit,
      } satisfies AwarenessUser);
    }

    this.provider.on('status', ({ status }) => {
      if (status === 'connected') this.everConnected = true;
      this.reportConnection();
    });
    this.provider.on('sync', (synced: boolean) => {
      if (synced) this.pending = 0;
      this.reportConnection();
    });
    this.provider.on('closed', (event: { code: number; reason: string }) => {
      this.closedDetail = event.reason || `The server closed the connection (code ${event.code}).`;
      this.reportConnection();
    });
    window.addEventListener('online', this.onOnlineChange);
    window.addEventListener('offline', this.onOnlineChange);

    // Local edits made while the server cannot receive them.
    this.doc.on('update', (_update: Uint8Array, _origin: unknown, _doc: Y.Doc, tr: Y.Transaction) => {
      if (tr.local && !this.isLive()) {
        this.pending += 1;
        this.reportConnection();
      }
    });

    this.provider.awareness.on('change', () => this.reportPresence());
    this.text.observe(() => this.scheduleText());

    this.view = new EditorView({
      parent,
      state: EditorState.create({
        doc: this.text.toString(),
        extensions: [
          highlightSpecialChars(),
          drawSelection(),
          highlightActiveLine(),
          highlightSelectionMatches(),
          EditorView.lineWrapping,
          bracketHighlighter,
          keymap.of([...yUndoManagerKeymap, ...searchKeymap, ...defaultKeymap]),
          yCollab(this.text, this.provider.awareness, { undoManager: this.undoManager }),
          this.editable.of(editability(canEdit, describedBy, label)),
        ],
      }),
    });
    this.reportConnection();
    this.reportPresence();
    this.callbacks.onText(this.text.toString());
  }

  private isLive(): boolean {
    return this.provider.wsconnected && this.provider.synced;
  }

  private scheduleText(): void {
    if (this.textTimer) return;
    this.textTimer = window.setTimeout(() => {
      this.textTimer = 0;
      if (!this.destroyed) this.callbacks.onText(this.text.toString());
    }, 150);
  }

  private reportConnection(): void {
    if (this.destroyed) return;
    if (this.closedDetail !== null) this.callbacks.onConnection('closed', this.pending, this.closedDetail);
    else if (this.isLive()) this.callbacks.onConnection('connected', 0);
    else this.callbacks.onConnection(this.everConnected ? 'reconnecting' : 'connecting', this.pending);
  }

  private reportPresence(): void {
    if (this.destroyed) return;
    const selfId = this.doc.clientID;
    const byPerson = new Map<string, Person>();
    for (const [clientId, state] of this.provider.awareness.getStates()) {
      const user = (state as { user?: AwarenessUser }).user;
      if (!user || typeof user !== 'object') continue;
      const key = typeof user.id === 'number' ? `u${user.id}` : `c${clientId}`;
      const existing = byPerson.get(key);
      if (existing) {
        existing.connections += 1;
        existing.self ||= clientId === selfId;
        continue;
      }
      byPerson.set(key, {
        key,
        name: typeof user.name === 'string' && user.name ? user.name : 'Unknown delegate',
        organisation: typeof user.organisation === 'string' ? user.organisation : '',
        colour: safeColour(user.color, '#4a5568'),
        readOnly: user.readOnly === true,
        self: clientId === selfId,
        connections: 1,
      });
    }
    const people = [...byPerson.values()].sort(
      (a, b) => Number(b.self) - Number(a.self) || a.name.localeCompare(b.name),
    );
    this.callbacks.onPresence(people);
  }

  setEditable(canEdit: boolean): void {
    if (this.destroyed || canEdit === this.canEdit) return;
    this.canEdit = canEdit;
    // Undo would change the shared text directly: forget local history when read-only.
    if (!canEdit) this.undoManager.clear();
    this.view.dispatch({ effects: this.editable.reconfigure(editability(canEdit, this.describedBy, this.label)) });
    const user = this.provider.awareness.getLocalState()?.user as AwarenessUser | undefined;
    if (user) this.provider.awareness.setLocalStateField('user', { ...user, readOnly: !canEdit });
  }

  /**
   * Selects the passage the server found at [start, end) (in characters; `expected` is its text,
   * looked for nearby when the text moved on since), scrolls to it and focuses the editor.
   * False when the passage is no longer in the text.
   */
  select(start: number, end: number, expected: string | null): boolean {
    if (this.destroyed) return false;
    const text = this.view.state.doc.toString();
    const at = locatePassage(text, start, end, expected);
    if (!at) return false;
    const to = Math.min(at.to, text.length);
    const from = Math.min(at.from, to);
    this.view.dispatch({ selection: EditorSelection.range(from, to), scrollIntoView: true });
    this.view.focus();
    return true;
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    window.clearTimeout(this.textTimer);
    window.removeEventListener('online', this.onOnlineChange);
    window.removeEventListener('offline', this.onOnlineChange);
    this.view.destroy();
    this.provider.destroy();
    this.undoManager.destroy();
    this.doc.destroy();
  }
}

