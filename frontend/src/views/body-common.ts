// Words and small pieces shared by the bodies list, the body page and its timeline.
import { h } from 'preact';
import type { BodyKind, Office, OrganisationRef, RotationRule, Term, TermOrigin } from '../api';
import { Time } from '../ui/common';

const KIND_LABELS: Record<BodyKind, string> = {
  plenary: 'Plenary',
  working_group: 'Working group',
  committee: 'Committee',
  ad_hoc: 'Ad hoc group',
};

const OFFICE_LABELS: Record<Office, string> = {
  chair: 'Chair',
  co_chair: 'Co-chair',
  vice_chair: 'Vice-chair',
};

const RULE_LABELS: Record<RotationRule, string> = {
  vice_chair_succeeds: 'The vice-chair succeeds the chair',
  fixed_rotation: 'Fixed rotation among members',
  elected: 'Elected for each term',
  previous_chair_of: 'The outgoing chair of another body takes over',
};

const ORIGIN_LABELS: Record<TermOrigin, string> = {
  selected: 'Selected',
  succession: 'Succession',
  rotation: 'Rotation',
  interim: 'Interim',
};

export const kindLabel = (kind: BodyKind): string => KIND_LABELS[kind] ?? kind;
export const officeLabel = (office: Office): string => OFFICE_LABELS[office] ?? office;
export const ruleLabel = (rule: RotationRule): string => RULE_LABELS[rule] ?? rule;
export const originLabel = (origin: TermOrigin): string => ORIGIN_LABELS[origin] ?? origin;

export type TermPhase = 'past' | 'current' | 'upcoming' | 'cancelled';

/** Where a term stands on `today` (YYYY-MM-DD; its end date is inclusive). */
export function termPhase(term: Term, today: string): TermPhase {
  if (term.cancelled) return 'cancelled';
  if (term.ends_on < today) return 'past';
  if (term.starts_on > today) return 'upcoming';
  return 'current';
}

export const PHASE_LABELS: Record<TermPhase, string> = {
  past: 'Past',
  current: 'Current',
  upcoming: 'Upcoming',
  cancelled: 'Cancelled',
};

/** "Botswana (BW)". */
export function orgName(org: OrganisationRef): string {
  return `${org.name} (${org.short_code})`;
}

/** Who holds a term: the organisation, and the person when one is named. */
export function TermHolder({ term }: { term: Term }) {
  return h(
    'span',
    null,
    orgName(term.organisation),
    term.person ? h('span', { class: 'muted' }, ` — ${term.person.display_name}`) : null,
  );
}

/** A term's dates, "1 Jan 2024 – 31 Dec 2024". */
export function TermDates({ term }: { term: Term }) {
  return h('span', null, h(Time, { iso: term.starts_on, dateOnly: true }), ' – ', h(Time, { iso: term.ends_on, dateOnly: true }));
}
