// The rows and bars of the chairmanship timeline, computed without the charting library (the
// page sizes the picture from the number of rows before the library is loaded).
import type { Term } from '../api';
import { termPhase, type TermPhase } from './body-common';

export const DAY = 86_400_000;

export interface Bar {
  x: [number, number];
  y: string;
  term: Term;
  phase: TermPhase;
}

export function dayOf(date: string): number {
  return Date.parse(`${date.slice(0, 10)}T00:00:00Z`);
}

/**
 * One row per office, in order chair, vice-chair; overlapping terms of one office (co-chairs) get
 * further rows; cancelled terms get rows of their own below their office's, so they never hide
 * the term that replaced them.
 */
export function timelineRows(terms: Term[], today: string): { rows: string[]; bars: Bar[] } {
  const groups: { key: 'chair' | 'vice_chair'; label: string; extra: string }[] = [
    { key: 'chair', label: 'Chair', extra: 'Co-chair' },
    { key: 'vice_chair', label: 'Vice-chair', extra: 'Vice-chair' },
  ];
  const rows: string[] = [];
  const bars: Bar[] = [];
  const sorted = [...terms].sort((a, b) => (a.starts_on < b.starts_on ? -1 : a.starts_on > b.starts_on ? 1 : a.id - b.id));
  for (const group of groups) {
    const mine = sorted.filter((t) => (t.office === 'vice_chair' ? 'vice_chair' : 'chair') === group.key);
    for (const cancelled of [false, true]) {
      const lanes: number[] = []; // the end (exclusive, ms) of the last bar in each lane
      const laneOf: { term: Term; lane: number }[] = [];
      for (const term of mine.filter((t) => t.cancelled === cancelled)) {
        const start = dayOf(term.starts_on);
        let lane = lanes.findIndex((end) => end <= start);
        if (lane < 0) lane = lanes.push(0) - 1;
        lanes[lane] = dayOf(term.ends_on) + DAY;
        laneOf.push({ term, lane });
      }
      const labels = lanes.map((_, i) => {
        const base = i === 0 ? group.label : lanes.length > 1 && group.key === 'chair' ? group.extra : `${group.label} ${i + 1}`;
        return cancelled ? `${base} (cancelled)` : base;
      });
      // The plain office row is always there, even with no term yet.
      if (!cancelled && labels.length === 0) labels.push(group.label);
      rows.push(...labels);
      for (const { term, lane } of laneOf) {
        bars.push({ x: [dayOf(term.starts_on), dayOf(term.ends_on) + DAY], y: labels[lane], term, phase: termPhase(term, today) });
      }
    }
  }
  return { rows, bars };
}

