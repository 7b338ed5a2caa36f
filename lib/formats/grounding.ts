/**
 * Locating predicted texts in the input, for the formats whose answers carry no offsets.
 * Tiers: the exact text, on word bounds first (`in` is the word, not the start of `induced`);
 * then the text with whitespace ignored on both sides (model and
 * corpus often disagree on spaces around punctuation); then, for several words, the words in order as
 * fragments, which is how a discontinuous entity's text reads. Nothing is ever invented:
 * an item that is not found comes back with `spans: []`, `grounded: false` and a problem.
 * Matches never start or end inside a surrogate pair: a lone surrogate in an answer (models
 * write `\ud835` escapes, and cut-offs split pairs) finds only a lone surrogate of the input.
 */
import type { Entity, Span } from './entity.ts';
import { isCodePointBoundary, makeEntity, normalizeSpans, onCodePoints } from './entity.ts';
import type { Problems } from './answer.ts';
import { insideWord } from './tokens.ts';

/** Longest stretch of other text allowed between two words of a discontinuous match. */
export const MAX_FRAGMENT_GAP = 80;

export interface TextItem {
  type: string;
  /** The text as predicted. */
  text: string;
  /** Position of the item in the answer, for problems. */
  item: number;
  /** How messages name the item when `item ${n}` is not enough (conv_term: turn and item). */
  where?: string;
}

/**
 * Next occurrence of `needle` at or after `from` whose both ends are code-point boundaries: an
 * answer holding a lone surrogate must not match one half of a surrogate pair of the input.
 */
function indexOfWhole(text: string, needle: string, from: number): number {
  for (let i = text.indexOf(needle, from); i >= 0; i = text.indexOf(needle, i + 1)) {
    if (isCodePointBoundary(text, i) && isCodePointBoundary(text, i + needle.length)) return i;
  }
  return -1;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/gu, '\\$&');
}

export class Grounder {
  private readonly used = new Map<string, Set<string>>();

  constructor(readonly text: string) {}

  *exact(needle: string): Generator<Span[]> {
    if (!needle) return;
    for (let i = indexOfWhole(this.text, needle, 0); i >= 0; i = indexOfWhole(this.text, needle, i + 1)) {
      yield [[i, i + needle.length]];
    }
  }

  /** Exact occurrences that start and end on word bounds. */
  *exactWords(needle: string): Generator<Span[]> {
    for (const spans of this.exact(needle)) {
      const [[a, b]] = spans;
      if (!insideWord(this.text, a) && !insideWord(this.text, b)) yield spans;
    }
  }

  /** Whitespace ignored on both sides: `IL-2` finds `IL - 2` and `IL - 2` finds `IL-2`. */
  *spaceInsensitive(needle: string): Generator<Span[]> {
    const pattern = [...needle.replace(/\s+/gu, '')].map(escapeRegExp).join('\\s*');
    if (!pattern) return;
    const re = new RegExp(pattern, 'gu');
    for (let m = re.exec(this.text); m; m = re.exec(this.text)) {
      const span: Span = [m.index, m.index + m[0].length];
      // A /u pattern keeps pairs whole; the check only guards that promise.
      if (onCodePoints(this.text, [span])) yield [span];
      // Step a whole code point: a /u regex moved into a surrogate pair backs up and loops.
      re.lastIndex = m.index + (this.text.codePointAt(m.index)! > 0xffff ? 2 : 1);
    }
  }

  /** The needle's words, in order, as fragments separated by at most MAX_FRAGMENT_GAP. */
  *fragments(needle: string): Generator<Span[]> {
    const words = needle.split(/\s+/u).filter((w) => w.length > 0);
    if (words.length < 2) return;
    for (const [[first]] of this.exact(words[0])) {
      const spans: Span[] = [[first, first + words[0].length]];
      let pos = first + words[0].length;
      for (let w = 1; w < words.length; w++) {
        const at = indexOfWhole(this.text, words[w], pos);
        if (at < 0 || at - pos > MAX_FRAGMENT_GAP) break;
        spans.push([at, at + words[w].length]);
        pos = at + words[w].length;
      }
      if (spans.length === words.length) yield normalizeSpans(this.text, spans);
    }
  }

  /**
   * The next unused occurrence for this (type, text): repeated items take successive
   * occurrences. `undefined` with `seen` true means every occurrence is already taken.
   */
  next(key: string, needle: string): { spans?: Span[]; seen: boolean } {
    let used = this.used.get(key);
    if (!used) this.used.set(key, (used = new Set()));
    let seen = false;
    for (const tier of [this.exactWords(needle), this.exact(needle), this.spaceInsensitive(needle), this.fragments(needle)]) {
      for (const spans of tier) {
        seen = true;
        const sig = spans.join(';');
        if (!used.has(sig)) {
          used.add(sig);
          return { spans, seen };
        }
      }
    }
    return { seen };
  }

  /** The occurrence nearest to where the answer put it (tag formats whose text drifted). */
  nearest(needle: string, approxStart: number): Span[] | undefined {
    let best: Span[] | undefined;
    for (const tier of [this.exact(needle), this.spaceInsensitive(needle), this.fragments(needle)]) {
      for (const spans of tier) {
        if (!best || Math.abs(spans[0][0] - approxStart) < Math.abs(best[0][0] - approxStart)) best = spans;
      }
      if (best) return best;
    }
    return undefined;
  }
}

/** Grounds every item in order; ungrounded items are kept with a problem. */
export function groundItems(text: string, items: readonly TextItem[], problems: Problems): Entity[] {
  const grounder = new Grounder(text);
  const out: Entity[] = [];
  for (const it of items) {
    const needle = it.text.trim();
    const where = it.where ?? `item ${it.item}`;
    if (!needle) {
      problems.add('malformed-item', `${where} has an empty text; dropped`, it.item);
      continue;
    }
    const found = grounder.next(`${it.type}\u0000${needle}`, needle);
    if (found.spans) {
      out.push(makeEntity(text, it.type, found.spans));
    } else {
      out.push({ type: it.type, spans: [], text: needle, grounded: false });
      problems.add(
        found.seen ? 'repeated' : 'ungrounded',
        found.seen
          ? `${where} is repeated more often than its text occurs in the input`
          : `${where} was not found in the input`,
        it.item,
      );
    }
  }
  return out;
}
