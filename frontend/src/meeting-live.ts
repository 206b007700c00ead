// The live state of meetings: one feed per meeting, shared by every view that shows it (the
// meeting page, the chair's console, "Today"). A feed holds the meeting and its agenda as
// signals, kept up to date by the websocket /api/meetings/{id}/live: the first frame is a
// snapshot, then numbered events; after a drop it reconnects with ?since=<last seq> (with
// backoff) and the server replays what was missed. The chair's own requests apply their
// answers here at once, so the console never waits for the echo.
import { batch, signal } from '@preact/signals';
import { useEffect, useMemo } from 'preact/hooks';
import { meetingSocketUrl, type Agenda, type AgendaItem, type CurrentItem, type Id, type Meeting, type MeetingState, type MeetingSummary } from './api';

export type LivePhase = 'connecting' | 'live' | 'reconnecting' | 'closed';

type EventFrame =
  | { type: 'event'; seq: number; kind: 'state'; data: { state: MeetingState } }
  | { type: 'event'; seq: number; kind: 'agenda'; data: Agenda }
  | { type: 'event'; seq: number; kind: 'current_item'; data: CurrentItem | null }
  | { type: 'event'; seq: number; kind: 'attendance'; data: Meeting['attendance'] }
  | { type: 'event'; seq: number; kind: 'meeting'; data: MeetingSummary };
type Frame = { type: 'snapshot'; seq: number; meeting: Meeting; agenda: Agenda } | EventFrame;

/** What is on the floor, in words (for the live region and the home page). */
export function describeCurrent(current: CurrentItem | null | undefined): string {
  if (!current) return 'No item is on the floor.';
  if (current.item_id == null || current.title == null) return 'Closed session in progress.';
  const closed = current.closed_session ? ' (closed session)' : '';
  return current.number ? `Now on the floor: item ${current.number}, ${current.title}${closed}.` : `Now on the floor: ${current.title}${closed}.`;
}

function sameCurrent(a: CurrentItem | null | undefined, b: CurrentItem | null | undefined): boolean {
  if (!a || !b) return !a && !b;
  return (a.item_id ?? null) === (b.item_id ?? null) && a.closed_session === b.closed_session && (a.number ?? null) === (b.number ?? null) && (a.title ?? null) === (b.title ?? null);
}

/** The current item as the agenda shows it, or undefined when the agenda says nothing (none visible). */
function currentFromAgenda(agenda: Agenda): CurrentItem | undefined {
  const item = agenda.items.find((i) => i.state === 'current');
  if (!item) return undefined;
  return {
    item_id: item.id,
    number: item.number,
    title: item.title,
    closed_session: item.closed_session,
    since: item.current_since ?? new Date().toISOString(),
  };
}

const BACKOFF_MS = [1000, 2000, 4000, 8000, 15000, 30000];

export class MeetingFeed {
  readonly meeting = signal<Meeting | null>(null);
  readonly agenda = signal<Agenda | null>(null);
  readonly phase = signal<LivePhase>('connecting');
  /** The last change of the item on the floor, in words (read by the page's live region). */
  readonly announcement = signal('');
  /** The number of the last event applied. */
  seq: number | null = null;
  refs = 0;
  private socket: WebSocket | null = null;
  private attempt = 0;
  private timer = 0;
  private running = false;
  private readonly onOnline = () => {
    if (this.running && !this.socket) this.connect();
  };

  constructor(readonly id: Id) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    window.addEventListener('online', this.onOnline);
    this.connect();
  }

  stop(): void {
    this.running = false;
    window.removeEventListener('online', this.onOnline);
    window.clearTimeout(this.timer);
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.onclose = null;
      socket.onmessage = null;
      socket.onerror = null;
      // Closing a socket still connecting makes the browser complain: close it once open.
      if (socket.readyState === WebSocket.CONNECTING) socket.onopen = () => socket.close(1000);
      else {
        socket.onopen = null;
        socket.close(1000);
      }
    }
  }

  private connect(): void {
    window.clearTimeout(this.timer);
    if (!this.running) return;
    let socket: WebSocket;
    try {
      socket = new WebSocket(meetingSocketUrl(this.id, this.seq));
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    if (this.phase.peek() !== 'live') this.phase.value = this.seq === null ? 'connecting' : 'reconnecting';
    socket.onopen = () => {
      // With ?since= and nothing missed, no frame comes until the next change: open is live.
      if (this.seq !== null) this.phase.value = 'live';
      this.attempt = 0;
    };
    socket.onmessage = (event) => {
      if (typeof event.data !== 'string') return;
      let frame: Frame;
      try {
        frame = JSON.parse(event.data) as Frame;
      } catch {
        return;
      }
      this.attempt = 0;
      this.receive(frame);
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      // 1008 / 44xx: not allowed (anymore) — retrying would not help.
      if (event.code === 1008 || (event.code >= 4400 && event.code < 4500)) {
        this.running = false;
        this.phase.value = 'closed';
        return;
      }
      this.scheduleReconnect();
    };
    socket.onerror = () => {
      // onclose follows and reconnects.
    };
  }

  private scheduleReconnect(): void {
    if (!this.running) return;
    this.phase.value = 'reconnecting';
    const base = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
    this.attempt += 1;
    this.timer = window.setTimeout(() => this.connect(), base + Math.floor(Math.random() * 500));
  }

  private receive(frame: Frame): void {
    if (frame.type === 'snapshot') {
      batch(() => {
        const before = this.meeting.peek()?.current_item;
        this.seq = frame.seq;
        this.agenda.value = frame.agenda;
        this.meeting.value = frame.meeting;
        this.phase.value = 'live';
        // After a reconnection, say so when the floor changed meanwhile.
        if (before !== undefined && !sameCurrent(before, frame.meeting.current_item)) {
          this.announcement.value = describeCurrent(frame.meeting.current_item);
        }
      });
      return;
    }
    if (frame.type !== 'event') return;
    if (this.seq !== null && frame.seq <= this.seq) return; // replayed twice
    // Numbers may skip: observers and guests are not sent the events about closed-session items.
    batch(() => {
      this.seq = frame.seq;
      this.phase.value = 'live';
      const meeting = this.meeting.peek();
      switch (frame.kind) {
        case 'state':
          if (meeting) this.meeting.value = { ...meeting, state: frame.data.state, event_seq: frame.seq };
          break;
        case 'agenda':
          this.applyAgenda(frame.data);
          break;
        case 'current_item':
          this.applyCurrent(frame.data);
          break;
        case 'attendance':
          if (meeting) this.meeting.value = { ...meeting, attendance: frame.data, event_seq: frame.seq };
          break;
        case 'meeting':
          if (meeting) this.meeting.value = { ...meeting, ...frame.data, event_seq: frame.seq };
          break;
      }
    });
  }

  /** A meeting the server answered with (a load or a chair's request). */
  applyMeeting(next: Meeting): void {
    const meeting = this.meeting.peek();
    // The feed already knows a later state: keep it (the next event brings the rest).
    if (meeting && this.seq !== null && next.event_seq < this.seq) return;
    this.setCurrent(next.current_item);
    this.meeting.value = next;
  }

  /** An agenda the server answered with or sent; the item on the floor follows it. */
  applyAgenda(next: Agenda): void {
    batch(() => {
      this.agenda.value = next;
      const meeting = this.meeting.peek();
      if (!meeting) return;
      if (meeting.agenda_state !== next.agenda_state || meeting.agenda_adopted_at !== next.adopted_at) {
        this.meeting.value = { ...meeting, agenda_state: next.agenda_state, agenda_adopted_at: next.adopted_at };
      }
      const fromAgenda = currentFromAgenda(next);
      if (fromAgenda) this.setCurrent(fromAgenda);
      // None visible: an item we can see is no longer current (a closed one we cannot see stays).
      else if (meeting.current_item && meeting.current_item.item_id != null) this.setCurrent(null);
    });
  }

  /** One item the server answered with (after a change to it). */
  applyItem(item: AgendaItem): void {
    const agenda = this.agenda.peek();
    if (!agenda) return;
    const items = agenda.items.map((i) => (i.id === item.id ? item : i));
    this.applyAgenda({ ...agenda, items });
  }

  /** The item on the floor changed (an event, or the chair's own request). */
  applyCurrent(current: CurrentItem | null): void {
    batch(() => {
      this.setCurrent(current);
      const agenda = this.agenda.peek();
      if (!agenda) return;
      let changed = false;
      const items = agenda.items.map((i) => {
        if (current && i.id === current.item_id && i.state !== 'current') {
          changed = true;
          return { ...i, state: 'current' as const, current_since: current.since };
        }
        if (i.state === 'current' && (!current || i.id !== current.item_id)) {
          changed = true;
          return { ...i, state: 'done' as const, current_since: null };
        }
        return i;
      });
      if (changed) this.agenda.value = { ...agenda, items };
    });
  }

  private setCurrent(next: CurrentItem | null | undefined): void {
    const current = next ?? null;
    const meeting = this.meeting.peek();
    if (!meeting) return;
    if (sameCurrent(meeting.current_item, current)) {
      if (current && meeting.current_item?.since !== current.since) this.meeting.value = { ...meeting, current_item: current };
      return;
    }
    this.meeting.value = { ...meeting, current_item: current };
    this.announcement.value = describeCurrent(current);
  }
}

const feeds = new Map<Id, MeetingFeed>();

/** The feed of a meeting (created on first use; it runs while a view holds it). */
function feedFor(id: Id): MeetingFeed {
  let feed = feeds.get(id);
  if (!feed) {
    feed = new MeetingFeed(id);
    feeds.set(id, feed);
  }
  return feed;
}

function acquire(feed: MeetingFeed): void {
  feed.refs += 1;
  if (!feeds.has(feed.id)) feeds.set(feed.id, feed);
  feed.start();
}

function release(feed: MeetingFeed): void {
  feed.refs -= 1;
  if (feed.refs > 0) return;
  feed.stop();
  if (feeds.get(feed.id) === feed) feeds.delete(feed.id);
}

/** Hold the live feed of meeting `id` while the component is mounted. */
export function useMeetingFeed(id: Id): MeetingFeed {
  const feed = useMemo(() => feedFor(id), [id]);
  useEffect(() => {
    acquire(feed);
    return () => release(feed);
  }, [feed]);
  return feed;
}
