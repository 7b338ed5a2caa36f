/**
 * Splitting texts that do not fit the model's context into chunks, at sentence boundaries
 * where possible, else at whitespace, else between code points. Chunks do not overlap; each
 * keeps its JS offset in the full text so entities found in it can be mapped back.
 */

export interface TextChunk {
  /** JS index of the chunk's first character in the full text. */
  start: number;
  /** JS index one past its last character. */
  end: number;
  text: string;
}

/** Counts the tokens a piece of text takes (the model's tokenizer, without BOS). */
export type TokenCounter = (text: string) => number;

/** Sentence ends: `.`, `!`, `?` or `;` (optionally closed by quotes/brackets) followed by whitespace, and line breaks. */
const SENTENCE_END = /[.!?;]["'”’)\]]*\s+|\n\s*/gu;
const WHITESPACE = /\s+/gu;

/** [start, end) pieces of `text` ending after each match of `re` (the last piece takes the rest). */
function pieces(text: string, from: number, to: number, re: RegExp): Array<[number, number]> {
  const slice = text.slice(from, to);
  const out: Array<[number, number]> = [];
  let last = 0;
  re.lastIndex = 0;
  for (let m = re.exec(slice); m; m = re.exec(slice)) {
    const cut = m.index + m[0].length;
    if (cut > last && cut < slice.length) {
      out.push([from + last, from + cut]);
      last = cut;
    }
    if (m[0].length === 0) re.lastIndex++;
  }
  out.push([from + last, to]);
  return out;
}

/** The longest prefix of [from, to) (whole code points, at least one) that fits `max` tokens. */
function hardCut(text: string, from: number, to: number, max: number, count: TokenCounter): number {
  const bounds: number[] = [];
  for (let i = from; i < to; ) {
    i += text.codePointAt(i)! > 0xffff ? 2 : 1;
    bounds.push(Math.min(i, to));
  }
  let lo = 0; // bounds[lo] is taken even if it does not fit: progress is guaranteed
  let hi = bounds.length - 1;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (count(text.slice(from, bounds[mid])) <= max) lo = mid;
    else hi = mid - 1;
  }
  return bounds[lo];
}

/**
 * Splits `text` into chunks of at most `maxTokens` tokens each. Returns one chunk (the whole
 * text) when it fits. Leading and trailing whitespace of each chunk is left out of it.
 */
export function splitText(text: string, maxTokens: number, count: TokenCounter): TextChunk[] {
  if (maxTokens < 1) throw new RangeError(`maxTokens must be ≥ 1, got ${maxTokens}`);
  if (count(text) <= maxTokens) return [{ start: 0, end: text.length, text }];
  const ranges: Array<[number, number]> = [];
  const fits = (s: number, e: number) => count(text.slice(s, e)) <= maxTokens;

  // Greedy packing of units (sentences, then words, then code-point runs) into chunks.
  const pack = (units: Array<[number, number]>, level: number) => {
    let cur: [number, number] | undefined;
    for (const u of units) {
      if (cur && fits(cur[0], u[1])) {
        cur[1] = u[1];
        continue;
      }
      if (cur) ranges.push(cur);
      cur = undefined;
      if (fits(u[0], u[1])) {
        cur = [u[0], u[1]];
      } else if (level === 0) {
        pack(pieces(text, u[0], u[1], WHITESPACE), 1);
      } else {
        // One word longer than a chunk: cut it between code points.
        let s = u[0];
        while (s < u[1]) {
          const e = hardCut(text, s, u[1], maxTokens, count);
          ranges.push([s, e]);
          s = e;
        }
      }
    }
    if (cur) ranges.push(cur);
  };
  pack(pieces(text, 0, text.length, SENTENCE_END), 0);

  const out: TextChunk[] = [];
  for (let [s, e] of ranges) {
    while (s < e && /\s/u.test(text[s])) s++;
    while (e > s && /\s/u.test(text[e - 1])) e--;
    if (e > s) out.push({ start: s, end: e, text: text.slice(s, e) });
  }
  return out;
}
