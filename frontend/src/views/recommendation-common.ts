// Words and small pieces shared by the recommendation views: the tracker, a recommendation's page,
// "our recommendations", the stocktaking dashboard and the review visits.
import { h } from 'preact';
import type { Addressee, Id, Priority, Recommendation, ReviewVisit, SourceKind, StatusRef } from '../api';
import { location } from '../navigation';
import { currentUser } from '../session';
import { Badge, type Tone } from '../ui/common';

export const SOURCE_KINDS: readonly SourceKind[] = ['meeting', 'decision', 'review_visit', 'report'];

const SOURCE_LABELS: Record<SourceKind, string> = {
  meeting: 'Meeting',
  decision: 'Decision',
  review_visit: 'Review visit',
  report: 'Report',
};
const PRIORITY_LABELS: Record<Priority, string> = { low: 'Low', normal: 'Normal', high: 'High' };
const VISIT_STATE_LABELS: Record<ReviewVisit['state'], string> = {
  planned: 'Planned',
  visited: 'Visited',
  report_adopted: 'Report adopted',
};
const VISIT_STATE_TONES: Record<ReviewVisit['state'], Tone> = { planned: 'neutral', visited: 'warn', report_adopted: 'good' };

export const sourceKindLabel = (k: SourceKind): string => SOURCE_LABELS[k] ?? k;
export const priorityLabel = (p: Priority): string => PRIORITY_LABELS[p] ?? p;
export const visitStateLabel = (s: ReviewVisit['state']): string => VISIT_STATE_LABELS[s] ?? s;
export const visitStateTone = (s: ReviewVisit['state']): Tone => VISIT_STATE_TONES[s] ?? 'neutral';
export const originLabel = (o: ReviewVisit['origin']): string => (o === 'requested' ? 'Requested by the participant' : 'Invited');

export const recommendationHref = (id: Id): string => `/recommendations/${encodeURIComponent(String(id))}`;
export const visitHref = (id: Id): string => `/review-visits/${encodeURIComponent(String(id))}`;
export const ourRecommendationsHref = (organisationId: Id): string =>
  `/participants/${encodeURIComponent(String(organisationId))}/recommendations`;

/** Where a recommendation's source is shown, if Plenum has a page for it. */
export function sourceHref(source: Recommendation['source']): string | null {
  if (source.kind === 'meeting' && source.meeting_id != null) return `/meetings/${encodeURIComponent(String(source.meeting_id))}`;
  if (source.kind === 'decision' && source.decision_id != null) return `/decisions/${encodeURIComponent(String(source.decision_id))}`;
  if (source.kind === 'review_visit' && source.visit_id != null) return visitHref(source.visit_id);
  if (source.kind === 'report' && source.body_id != null) return `/bodies/${encodeURIComponent(String(source.body_id))}`;
  return null;
}

/** The tone of a status: done (final, full weight), stalled (final, not done), under way, or not started. */
export function statusTone(status: Pick<StatusRef, 'final' | 'weight'>): Tone {
  if (status.final) return status.weight >= 100 ? 'good' : 'neutral';
  return status.weight > 0 ? 'warn' : 'neutral';
}

export function StatusBadge({ status }: { status: StatusRef }) {
  return h(Badge, { tone: statusTone(status) }, status.label);
}

/** "Overdue" as words (and colour): the due date passed and the status is not final. */
export function OverdueMarker() {
  return h(Badge, { tone: 'bad' }, 'Overdue');
}

/** Who a record is for: a participant (or observer) or a body. */
export function addresseeName(a: { organisation?: { name: string; short_code: string } | null; body?: { name: string; short_name: string } | null }): string {
  if (a.organisation) return `${a.organisation.name} (${a.organisation.short_code})`;
  if (a.body) return `${a.body.name} (${a.body.short_name})`;
  return '—';
}

/** A key for a record: `o<id>` for an organisation, `b<id>` for a body. */
export function addresseeKey(a: Pick<Addressee, 'organisation' | 'body' | 'id'>): string {
  if (a.organisation) return `o${a.organisation.id}`;
  if (a.body) return `b${a.body.id}`;
  return `a${a.id}`;
}

/** A progress bar (0–100 %) with its value as text; `label` names it for screen readers. */
export function ProgressBar({ value, label, large = false }: { value: number; label: string; large?: boolean }) {
  const v = Math.max(0, Math.min(100, Math.round(value)));
  return h(
    'span',
    { class: `progress${large ? ' progress-large' : ''}` },
    h('progress', { max: 100, value: v, 'aria-label': label }),
    h('span', { class: 'progress-value', 'aria-hidden': 'true' }, `${v} %`),
  );
}

/** The pages of this area, as a local navigation under the main one. */
export function RecommendationsNav() {
  const user = currentUser.value;
  const path = location.value.path;
  const items: { href: string; label: string }[] = [{ href: '/recommendations', label: 'All recommendations' }];
  if (user && user.organisation.kind === 'participant') {
    items.push({ href: ourRecommendationsHref(user.organisation.id), label: 'Our recommendations' });
  }
  items.push({ href: '/stocktaking', label: 'Stocktaking' }, { href: '/review-visits', label: 'Review visits' });
  return h(
    'nav',
    { class: 'subnav', 'aria-label': 'Recommendations' },
    h(
      'ul',
      null,
      items.map((i) =>
        h('li', { key: i.href }, h('a', { href: i.href, 'aria-current': path === i.href ? 'page' : undefined }, i.label)),
      ),
    ),
  );
}

/** Today's date (YYYY-MM-DD) in the browser's time zone. */
export function todayIso(): string {
  const d = new Date();
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

export const isIsoDate = (s: string | null | undefined): s is string =>
  !!s && /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(new Date(`${s}T00:00:00Z`).getTime());
