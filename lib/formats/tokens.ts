/**
 * multi_bio's tokens: whitespace-separated chunks, with every punctuation or symbol
 * character (Unicode P and S) split off as its own token unless it stands between two
 * letters or digits (Unicode L and N) — `c-fos`, `IL-2`, `3.5` stay whole, `(PHA)` is
 * `(`, `PHA`, `)`.
 */
import type { Span } from './entity.ts';
import { isCodePointBoundary } from './entity.ts';

const PUNCT = /^[\p{P}\p{S}]$/u;
const ALNUM = /^[\p{L}\p{N}]$/u;
const SPACE = /^\s$/u;

/**
 * Whether JS offset `i` of `text` stands between two letters or digits (inside a word): where
 * no entity text of the term, code and triple formats starts or ends.
 */
export function insideWord(text: string, i: number): boolean {
  if (i <= 0 || i >= text.length) return false;
  const before = String.fromCodePoint(text.codePointAt(i - 1 - (isCodePointBoundary(text, i - 1) ? 0 : 1))!);
  return ALNUM.test(before) && ALNUM.test(String.fromCodePoint(text.codePointAt(i)!));
}

export interface Token {
  start: number;
  end: number;
}

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  // Code points with their JS offsets, so characters beyond the BMP stay whole.
  const cps: Array<{ ch: string; at: number }> = [];
  for (let i = 0; i < text.length; ) {
    const ch = String.fromCodePoint(text.codePointAt(i)!);
    cps.push({ ch, at: i });
    i += ch.length;
  }
  let start = -1;
  const flush = (end: number) => {
    if (start >= 0) tokens.push({ start, end });
    start = -1;
  };
  for (let k = 0; k < cps.length; k++) {
    const { ch, at } = cps[k];
    if (SPACE.test(ch)) {
      flush(at);
      continue;
    }
    if (PUNCT.test(ch)) {
      const prev = cps[k - 1]?.ch;
      const next = cps[k + 1]?.ch;
      const joined = prev !== undefined && next !== undefined && ALNUM.test(prev) && ALNUM.test(next);
      if (!joined) {
        flush(at);
        tokens.push({ start: at, end: at + ch.length });
        continue;
      }
    }
    if (start < 0) start = at;
  }
  flush(text.length);
  return tokens;
}

/** Token indices [first, last] exactly covering a span, or undefined when a boundary falls inside a token. */
export function tokenRange(tokens: readonly Token[], [s, e]: Span, starts?: Map<number, number>, ends?: Map<number, number>): [number, number] | undefined {
  const byStart = starts ?? new Map(tokens.map((t, i) => [t.start, i]));
  const byEnd = ends ?? new Map(tokens.map((t, i) => [t.end, i]));
  const first = byStart.get(s);
  const last = byEnd.get(e);
  if (first === undefined || last === undefined || last < first) return undefined;
  return [first, last];
}
