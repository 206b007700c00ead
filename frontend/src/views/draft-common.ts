// Shared pieces of the drafting room: pure helpers and the types the live room reports with.

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
}

