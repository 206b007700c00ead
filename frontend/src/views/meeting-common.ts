// Words, dates and small pieces shared by the meeting views (list, page, chair's console, home).
import { h } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { CurrentItem, Id, InvitationRole, ItemState, MeetingKind, MeetingState, MeetingSummary, Purpose } from '../api';
import { Badge, type Tone } from '../ui/common';
import { parseTimestamp } from '../ui/format';

export function meetingHref(id: Id): string {
  return `/meetings/${encodeURIComponent(String(id))}`;
}

const KIND_LABELS: Record<MeetingKind, string> = {
  plenary: 'Plenary',
  intersessional: 'Intersessional',
  working_group: 'Working group',
  extraordinary: 'Extraordinary',
  special_session: 'Special session',
};

const STATE_LABELS: Record<MeetingState, [string, Tone]> = {
  draft: ['Draft', 'neutral'],
  convened: ['Convened', 'neutral'],
  in_session: ['In session', 'good'],
  closed: ['Closed', 'neutral'],
  cancelled: ['Cancelled', 'bad'],
};

const PURPOSE_LABELS: Record<Purpose, string> = {
  for_decision: 'For decision',
  for_discussion: 'For discussion',
  for_information: 'For information',
};

const ITEM_STATE_LABELS: Record<ItemState, [string, Tone]> = {
  pending: ['Pending', 'neutral'],
  current: ['On the floor', 'good'],
  done: ['Done', 'neutral'],
  deferred: ['Deferred', 'warn'],
};

const ROLE_LABELS: Record<InvitationRole, string> = {
  member: 'Member',
  observer: 'Observer',
  guest: 'Guest',
};

export const meetingKindLabel = (k: MeetingKind): string => KIND_LABELS[k] ?? k;
export const purposeLabel = (p: Purpose): string => PURPOSE_LABELS[p] ?? p;
export const roleLabel = (r: InvitationRole): string => ROLE_LABELS[r] ?? r;

export function MeetingStateBadge({ state }: { state: MeetingState }) {
  const [label, tone] = STATE_LABELS[state] ?? [state, 'neutral'];
  return h(Badge, { tone }, label);
}

export function ItemStateBadge({ state }: { state: ItemState }) {
  const [label, tone] = ITEM_STATE_LABELS[state] ?? [state, 'neutral'];
  return h(Badge, { tone }, label);
}

// ---------------------------------------------------------------------------
// Time zones

/** The viewer's IANA time zone. */
export function viewerTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(tz: string, dateOnly: boolean): Intl.DateTimeFormat {
  const zone = isTimeZone(tz) ? tz : 'UTC';
  const key = `${zone}|${dateOnly}`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(
      'en-GB',
      dateOnly
        ? { timeZone: zone, weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' }
        : { timeZone: zone, weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short' },
    );
    formatters.set(key, f);
  }
  return f;
}

/** "Tue 12 Jun 2007, 10:00 CEST" in time zone `tz`. */
export function formatInZone(iso: string, tz: string, dateOnly = false): string {
  const d = parseTimestamp(iso);
  return Number.isNaN(d.getTime()) ? iso : formatter(tz, dateOnly).format(d);
}

/** A meeting's start and end as `<time>` elements in zone `tz`. */
export function ZonedRange({ starts, ends, tz }: { starts: string; ends: string; tz: string }) {
  return h(
    'span',
    null,
    h('time', { dateTime: starts }, formatInZone(starts, tz)),
    ' – ',
    h('time', { dateTime: ends }, formatInZone(ends, tz)),
  );
}

/** When a meeting takes place: in its own time zone, and in the viewer's when that differs. */
export function MeetingWhenText({ meeting, short = false }: { meeting: MeetingSummary; short?: boolean }) {
  const mine = viewerTimeZone();
  const differs = mine !== meeting.time_zone;
  if (short) {
    return h(
      'span',
      null,
      h('time', { dateTime: meeting.starts_at }, formatInZone(meeting.starts_at, meeting.time_zone, true)),
      ' – ',
      h('time', { dateTime: meeting.ends_at }, formatInZone(meeting.ends_at, meeting.time_zone, true)),
    );
  }
  return h(
    'span',
    { class: 'meeting-when' },
    h('span', null, h(ZonedRange, { starts: meeting.starts_at, ends: meeting.ends_at, tz: meeting.time_zone }), h('span', { class: 'muted' }, ` (${meeting.time_zone})`)),
    differs
      ? h(
          'span',
          { class: 'meeting-when-mine' },
          'Your time: ',
          h(ZonedRange, { starts: meeting.starts_at, ends: meeting.ends_at, tz: mine }),
          h('span', { class: 'muted' }, ` (${mine})`),
        )
      : null,
  );
}

/** Offset of zone `tz` from UTC at instant `ms`, in milliseconds. */
function zoneOffset(ms: number, tz: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: tz,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(ms));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour') % 24, get('minute'), get('second'));
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/** A `datetime-local` value (wall-clock time in zone `tz`) as an RFC 3339 UTC instant, or null. */
export function zonedToUtc(local: string, tz: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(local);
  if (!m || !isTimeZone(tz)) return null;
  const wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] ?? 0));
  let t = wall - zoneOffset(wall, tz);
  const again = wall - zoneOffset(t, tz);
  if (again !== t) t = again;
  return new Date(t).toISOString().replace(/\.000Z$/, 'Z');
}

/** An instant as a `datetime-local` value in zone `tz`. */
export function utcToZonedInput(iso: string, tz: string): string {
  const ms = parseTimestamp(iso).getTime();
  if (Number.isNaN(ms)) return '';
  const wall = new Date(ms + zoneOffset(ms, isTimeZone(tz) ? tz : 'UTC'));
  return wall.toISOString().slice(0, 16);
}

// ---------------------------------------------------------------------------
// The item on the floor

/** "1 h 02 min", "12 min 05 s", "45 s". */
export function formatElapsed(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  const two = (n: number) => String(n).padStart(2, '0');
  if (hours > 0) return `${hours} h ${two(minutes)} min ${two(seconds)} s`;
  if (minutes > 0) return `${minutes} min ${two(seconds)} s`;
  return `${seconds} s`;
}

/** The time since `since`, ticking every second (not a live region: it would talk every second). */
export function Elapsed({ since }: { since: string }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(timer);
  }, []);
  const start = parseTimestamp(since).getTime();
  if (Number.isNaN(start)) return null;
  return h('span', { class: 'elapsed' }, formatElapsed(now - start));
}

/** The item on the floor in one line: its number and title, or that the session is closed. */
export function CurrentItemLine({ current }: { current: CurrentItem | null | undefined }) {
  if (!current) return h('span', { class: 'muted' }, 'No item on the floor');
  if (current.item_id == null || current.title == null) {
    return h('span', { class: 'current-line' }, h('strong', null, 'Closed session in progress'), ' · ', h(Elapsed, { since: current.since }));
  }
  return h(
    'span',
    { class: 'current-line' },
    h('strong', null, current.number ? `${current.number}. ${current.title}` : current.title),
    current.closed_session ? [' ', h(Badge, { key: 'c', tone: 'warn' }, 'Closed session')] : null,
    ' · ',
    h(Elapsed, { since: current.since }),
  );
}

export function formatBytes(size: number): string {
  if (size < 1024) return `${size} bytes`;
  if (size < 1024 * 1024) return `${Math.round(size / 102.4) / 10} KB`;
  return `${Math.round(size / (1024 * 102.4)) / 10} MB`;
}
