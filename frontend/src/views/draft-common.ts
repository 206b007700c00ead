// Shared pieces of the drafting room: pure helpers and the types the live room reports with.
import type { DraftStage, Procedure, Stance } from '../api';
import type { Tone } from '../ui/common';

export interface BracketCount {
  /** Balanced top-level `[ … ]` passages. */
  passages: number;
  /** `[` never closed. */
  unclosed: number;
  /** `]` without an opening bracket. */
  stray: number;
}

/** Count bracketed passages: nested brackets belong to their outermost passage. */
export function countBrackets(text: string): BracketCount {
  let depth = 0;
  let passages = 0;
  let stray = 0;
  for (const ch of text) {
    if (ch === '[') depth += 1;
    else if (ch === ']') {
      if (depth === 0) stray += 1;
      else {
        depth -= 1;
        if (depth === 0) passages += 1;
      }
    }
  }
  return { passages, unclosed: depth, stray };
}

export function describeBrackets({ passages, unclosed, stray }: BracketCount): string {
  const parts = [passages === 0 ? 'No bracketed passages' : `${passages} bracketed passage${passages === 1 ? '' : 's'}`];
  if (unclosed) parts.push(`${unclosed} unclosed “[”`);
  if (stray) parts.push(`${stray} unmatched “]”`);
  return parts.join(' · ');
}

const PALETTE = ['#1f5fbf', '#b3261e', '#2e7d32', '#7b3fa0', '#b35300', '#00796b', '#ad1457', '#5d4037'];

export function colourFor(userId: number): string {
  return PALETTE[Math.abs(userId) % PALETTE.length];
}

/** Only colours in a plain CSS notation reach the page. */
export function safeColour(value: unknown, fallback: string): string {
  if (typeof value !== 'string') return fallback;
  const v = value.trim();
  if (/^#[0-9a-fA-F]{3,8}$/.test(v) || /^(rgb|rgba|hsl|hsla)\([0-9.,%\s/a-z-]*\)$/i.test(v)) return v;
  return fallback;
}

/** The `user` field of an awareness state, as the server writes it. */
export interface AwarenessUser {
  id?: number;
  name?: string;
  organisation?: string;
  kind?: string;
  color?: string;
  colorLight?: string;
  readOnly?: boolean;
}

export interface Person {
  key: string;
  name: string;
  organisation: string;
  colour: string;
  readOnly: boolean;
  self: boolean;
  connections: number;
}

export type ConnectionPhase = 'connecting' | 'connected' | 'reconnecting' | 'closed';

export interface RoomCallbacks {
  onConnection: (phase: ConnectionPhase, pending: number, detail?: string) => void;
  onPresence: (people: Person[]) => void;
  onText: (text: string) => void;
  onDenied: (reason: string) => void;
  /** The draft's stage, lock or recorded objections changed (pushed by the server). */
  onStage: (notice: StageNotice) => void;
}

/** What the server pushes over the draft's socket when its stage or lock changes. */
export interface StageNotice {
  type: 'stage';
  draft_id: number;
  stage: string;
  state: string;
  round: number;
  objections_until: string | null;
  deadline: string | null;
  /** How many objections and abstentions are recorded. */
  recorded: number;
  updated_at: string;
}


// ---------------------------------------------------------------------------
// Stages on the way to a decision, in plain words.


export interface StageInfo {
  /** A short name ("Call for objections"). */
  label: string;
  /** What it means for the delegations, in one sentence. */
  meaning: string;
  tone: Tone;
}

export const STAGES: Record<DraftStage, StageInfo> = {
  drafting: { label: 'Drafting', meaning: 'Delegations edit the text together.', tone: 'good' },
  final_reading: {
    label: 'Final reading',
    meaning: 'The clean text is read out before a decision; nobody edits it.',
    tone: 'warn',
  },
  call_for_objections: {
    label: 'Call for objections',
    meaning: 'The text is adopted unless a delegation objects. The text is frozen.',
    tone: 'warn',
  },
  written_procedure: {
    label: 'Written procedure',
    meaning: 'The text was circulated in writing: it is adopted by silence at the deadline unless a delegation objects.',
    tone: 'warn',
  },
  silence_broken: {
    label: 'Silence broken',
    meaning: 'A delegation objected under the written procedure: the text is not adopted, and the chair decides what follows.',
    tone: 'bad',
  },
  adopted: { label: 'Adopted', meaning: 'The text is a decision: it can no longer be changed.', tone: 'good' },
  withdrawn: { label: 'Withdrawn', meaning: 'The chair withdrew the draft: it will not be adopted.', tone: 'neutral' },
};

export function stageLabel(stage: string): string {
  return (STAGES as Record<string, StageInfo | undefined>)[stage]?.label ?? stage.replace(/_/g, ' ');
}

export function procedureLabel(procedure: Procedure | string): string {
  return procedure === 'written' ? 'Written procedure (silence)' : procedure === 'consensus' ? 'Consensus (call for objections)' : procedure;
}

export function stanceLabel(kind: Stance | string): string {
  return kind === 'abstention' ? 'Abstention' : kind === 'objection' ? 'Objection' : kind;
}

/** "1 h 05 min", "4 min 09 s", "12 s": what is left of a countdown. */
export function formatRemaining(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const days = Math.floor(total / 86_400);
  const hours = Math.floor((total % 86_400) / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  const pad = (n: number) => String(n).padStart(2, '0');
  if (days > 0) return `${days} d ${hours} h`;
  if (hours > 0) return `${hours} h ${pad(minutes)} min`;
  if (minutes > 0) return `${minutes} min ${pad(seconds)} s`;
  return `${seconds} s`;
}

// ---------------------------------------------------------------------------
// Offsets: the server counts characters (Unicode scalar values), CodeMirror UTF-16 code units.

/** The UTF-16 index of the `chars`-th character of `text` (clamped to its length). */
export function charToUtf16(text: string, chars: number): number {
  if (chars <= 0) return 0;
  let seen = 0;
  let i = 0;
  while (i < text.length && seen < chars) {
    const code = text.charCodeAt(i);
    i += code >= 0xd800 && code <= 0xdbff && i + 1 < text.length ? 2 : 1;
    seen += 1;
  }
  return i;
}

/**
 * Where a passage the server found at [start, end) (characters) is in `text` now: there if the
 * text there is still `expected`, else its occurrence nearest to `start`; null when it is gone.
 * Answers UTF-16 positions for the editor.
 */
export function locatePassage(text: string, start: number, end: number, expected: string | null): { from: number; to: number } | null {
  const from = charToUtf16(text, start);
  const to = charToUtf16(text, end);
  if (expected === null || text.slice(from, to) === expected) return { from, to: Math.max(from, to) };
  let best: number | null = null;
  for (let at = text.indexOf(expected); at !== -1; at = text.indexOf(expected, at + 1)) {
    if (best === null || Math.abs(at - from) < Math.abs(best - from)) best = at;
  }
  return best === null ? null : { from: best, to: best + expected.length };
}
