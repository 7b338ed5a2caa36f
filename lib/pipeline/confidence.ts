/**
 * Entity confidence from the model's token probabilities under the constraint.
 *
 * The native layer gives, per generated token, the log-probability of the sampled token
 * renormalised over the tokens the constraint allowed (before temperature); a token the
 * constraint forced has log-probability 0. An entity's confidence is the probability of the
 * weakest decision that wrote it:
 *
 *     confidence = exp(min logprob) over the answer tokens that spell the entity, plus the
 *                  token right after them (the decision to end the mention there)
 *
 * so it is in (0, 1], is 1 exactly when every such token was forced (or certain), and is
 * deterministic given the tokens. The minimum rather than a mean: one uncertain token is
 * enough to send a case to review, and forced tokens (p = 1) would dilute a mean.
 *
 * Where the entity is spelled in the answer depends on the format:
 * - term, code, triple, BRAT and conv_term answers quote the entity's text: its words are
 *   found in order (markers or punctuation may sit between them), at the first occurrence not
 *   already given to another entity of the same answer;
 * - tag formats copy the text with markers inserted: the same, searched from the entity's
 *   offset on (the copy cannot come earlier), so an earlier untagged mention is not taken;
 * - span formats write code-point offsets: each fragment's `start, end]` is found;
 * - multi_bio writes labels, not text: the weakest token of the whole answer (conservative).
 * An entity that cannot be located (e.g. JSON escapes in its text) also gets the answer's
 * weakest token.
 */
import { OffsetMap, type Entity } from '../formats/entity.ts';
import type { FormatName } from '../formats/index.ts';

export interface AnswerTokens {
  /** The answer as decoded (the generated tokens' bytes as UTF-8). */
  text: string;
  /** Each generated token's bytes. */
  pieces: readonly Uint8Array[];
  /** Each generated token's log-probability under the constraint. */
  logprobs: Float32Array;
}

type Range = [number, number];

/** exp(min logprob) over token indices [from, to), clamped to (0, 1]. */
function weakest(logprobs: Float32Array, from: number, to: number): number {
  let min = 0;
  for (let i = from; i < to; i++) if (logprobs[i] < min) min = logprobs[i];
  if (Number.isNaN(min)) return Number.MIN_VALUE;
  return Math.min(1, Math.max(Number.MIN_VALUE, Math.exp(min)));
}

/** The answer's weakest token: the fallback confidence. */
export function answerConfidence(a: AnswerTokens): number {
  return weakest(a.logprobs, 0, a.logprobs.length);
}

/**
 * Confidences of `entities` parsed from one answer (offsets relative to `text`, the chunk the
 * answer is about), in the order given.
 */
export function entityConfidences(format: FormatName, a: AnswerTokens, text: string, entities: readonly Entity[]): number[] {
  const fallback = answerConfidence(a);
  const n = a.pieces.length;
  if (n === 0 || a.logprobs.length !== n) return entities.map(() => fallback);
  // Token byte ends, and JS index -> byte offset of the answer.
  const ends = new Uint32Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) ends[i] = total += a.pieces[i].length;
  const jsToByte = new Uint32Array(a.text.length + 1);
  let b = 0;
  for (let i = 0; i < a.text.length; i++) {
    jsToByte[i] = b;
    const c = a.text.charCodeAt(i);
    b += c < 0x80 ? 1 : c < 0x800 ? 2 : c >= 0xd800 && c <= 0xdbff ? 4 : c >= 0xdc00 && c <= 0xdfff ? 0 : 3;
  }
  jsToByte[a.text.length] = b;
  // The answer's bytes must be the tokens' (no replacement characters), else no alignment.
  const aligned = b === total;
  const used: Range[] = [];
  const map = format === 'single_span' || format === 'multi_span' ? new OffsetMap(text) : undefined;
  return entities.map((e) => {
    if (!aligned || format === 'multi_bio') return fallback;
    const ranges = map ? locateSpans(a.text, map, e, used) : locateWords(a.text, e.text, format.endsWith('_tag') ? (e.spans[0]?.[0] ?? 0) : 0, used);
    if (!ranges) return fallback;
    used.push(...ranges);
    let min = 1;
    for (const [s, t] of ranges) {
      const bs = jsToByte[s];
      const bt = jsToByte[t];
      // Tokens overlapping [bs, bt), and the one after them.
      let first = 0;
      while (first < n && ends[first] <= bs) first++;
      let last = first;
      while (last < n && (last === 0 ? 0 : ends[last - 1]) < bt) last++;
      min = Math.min(min, weakest(a.logprobs, first, Math.min(n, last + 1)));
    }
    return min;
  });
}

const overlaps = (used: readonly Range[], s: number, t: number) => used.some(([a, b]) => s < b && a < t);

/** The words of `entityText`, in order, each within 64 characters of the previous one. */
function locateWords(answer: string, entityText: string, from: number, used: readonly Range[]): Range[] | null {
  const words = entityText.split(/\s+/u).filter(Boolean);
  if (words.length === 0) return null;
  for (let p = answer.indexOf(words[0], from); p >= 0; p = answer.indexOf(words[0], p + 1)) {
    let end = p + words[0].length;
    let ok = true;
    for (const w of words.slice(1)) {
      const q = answer.indexOf(w, end);
      if (q < 0 || q - end > 64) {
        ok = false;
        break;
      }
      end = q + w.length;
    }
    if (ok && !overlaps(used, p, end)) return [[p, end]];
  }
  return null;
}

/** Each fragment's code-point offsets as the span formats write them: `start, end]`. */
function locateSpans(answer: string, map: OffsetMap, e: Entity, used: readonly Range[]): Range[] | null {
  const out: Range[] = [];
  for (const span of e.spans) {
    const [s, t] = map.spanToCodePoints(span);
    const needle = `${s}, ${t}]`;
    let p = answer.indexOf(needle);
    // Not inside a longer number ("127, 31]" for "27, 31]"), not taken.
    while (p >= 0 && ((p > 0 && /\d/u.test(answer[p - 1])) || overlaps(used, p, p + needle.length) || overlaps(out, p, p + needle.length))) p = answer.indexOf(needle, p + 1);
    if (p < 0) return null;
    out.push([p, p + needle.length]);
  }
  return out.length ? out : null;
}
