// Formatting of dates, durations and words for display.

const dateTimeFormat = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short' });
const dateFormat = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeZone: 'UTC' });

/** Parse a server timestamp; one without an offset (e.g. `2026-11-28T05:13:47.123`) is UTC. */
export function parseTimestamp(iso: string): Date {
  // Keep milliseconds only: some engines reject nanosecond fractions.
  const trimmed = iso.replace(/(\.\d{3})\d+/, '$1');
  const hasZone = /([zZ]|[+-]\d{2}:?\d{2})$/.test(trimmed);
  return new Date(hasZone || !trimmed.includes('T') ? trimmed : `${trimmed}Z`);
}

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = parseTimestamp(iso);
  return Number.isNaN(d.getTime()) ? iso : dateTimeFormat.format(d);
}

export function formatDate(isoDate: string | null | undefined): string {
  if (!isoDate) return '—';
  const d = new Date(`${isoDate.slice(0, 10)}T00:00:00Z`);
  return Number.isNaN(d.getTime()) ? isoDate : dateFormat.format(d);
}

export function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minute${minutes === 1 ? '' : 's'}`;
}

export function capitalise(s: string): string {
  return s ? s[0].toUpperCase() + s.slice(1) : s;
}
