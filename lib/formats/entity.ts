/**
 * The entity model shared by every layer.
 *
 * Offsets are JS string indices (UTF-16 code units) into the document text, end exclusive.
 * Anything that crosses the process boundary (files, CLI JSON, model answers) uses Unicode
 * code points instead; `OffsetMap` converts between the two exactly.
 */

/** A character range `[start, end)`. */
export type Span = [start: number, end: number];

export interface Entity {
  type: string;
  /** Fragments in text order, normalised by {@link normalizeSpans}; empty when not grounded. */
  spans: Span[];
  /** Fragments in text order joined by one space (or the predicted text when ungrounded). */
  text: string;
  /** False when a predicted text could not be located in the input. */
  grounded?: boolean;
}

const WHITESPACE_ONLY = /^\s*$/u;

/**
 * Sorts fragments and merges those that overlap, touch, or are separated only by whitespace,
 * so that an entity is discontinuous exactly when two or more spans remain.
 */
export function normalizeSpans(text: string, spans: readonly Span[]): Span[] {
  const sorted = spans
    .map(([s, e]) => [s, e] as Span)
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const out: Span[] = [];
  for (const span of sorted) {
    const last = out[out.length - 1];
    if (last && (span[0] <= last[1] || WHITESPACE_ONLY.test(text.slice(last[1], span[0])))) {
      last[1] = Math.max(last[1], span[1]);
    } else {
      out.push(span);
    }
  }
  return out;
}

/** The surface text of a span list: fragments in text order joined by one space. */
export function spanText(text: string, spans: readonly Span[]): string {
  return spans.map(([s, e]) => text.slice(s, e)).join(' ');
}

/**
 * True when JS index `i` of `text` is a code-point boundary: not between the high and the low
 * half of a surrogate pair. Lone surrogates are code points of their own, so both sides of one
 * are boundaries.
 */
export function isCodePointBoundary(text: string, i: number): boolean {
  if (i <= 0 || i >= text.length) return true;
  const c = text.charCodeAt(i);
  const p = text.charCodeAt(i - 1);
  return !(c >= 0xdc00 && c <= 0xdfff && p >= 0xd800 && p <= 0xdbff);
}

/** Spans widened, where needed, to whole code points (a boundary inside a pair moves outward). */
export function wholeCodePoints(text: string, spans: readonly Span[]): Span[] {
  return spans.map(([s, e]) => [isCodePointBoundary(text, s) ? s : s - 1, isCodePointBoundary(text, e) ? e : e + 1]);
}

/** True when no span boundary splits a surrogate pair. */
export function onCodePoints(text: string, spans: readonly Span[]): boolean {
  return spans.every(([s, e]) => isCodePointBoundary(text, s) && isCodePointBoundary(text, e));
}

/**
 * Builds a grounded entity from raw fragments (in any order). A boundary that splits a
 * surrogate pair is widened to the whole code point: every parser builds its entities here, so
 * no entity can cut a character in two (the parsers that can meet such a boundary also record
 * a problem).
 */
export function makeEntity(text: string, type: string, spans: readonly Span[]): Entity {
  const norm = normalizeSpans(text, wholeCodePoints(text, spans));
  return { type, spans: norm, text: spanText(text, norm) };
}

export function isDiscontinuous(entity: Entity): boolean {
  return entity.spans.length > 1;
}

/** First and last character covered, or undefined for an ungrounded entity. */
export function extent(entity: Entity): Span | undefined {
  if (entity.spans.length === 0) return undefined;
  return [entity.spans[0][0], entity.spans[entity.spans.length - 1][1]];
}

/**
 * Text order: by start, longer first, then by type name; ungrounded entities last, by text.
 */
export function compareEntities(a: Entity, b: Entity): number {
  const ea = extent(a);
  const eb = extent(b);
  if (!ea || !eb) {
    if (ea) return -1;
    if (eb) return 1;
    return cmp(a.text, b.text) || cmp(a.type, b.type);
  }
  return ea[0] - eb[0] || eb[1] - ea[1] || cmp(a.type, b.type) || compareSpanLists(a.spans, b.spans);
}

export function sortEntities<T extends Entity>(entities: readonly T[]): T[] {
  return [...entities].sort(compareEntities);
}

function compareSpanLists(a: readonly Span[], b: readonly Span[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const d = a[i][0] - b[i][0] || a[i][1] - b[i][1];
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Exact conversion between JS string indices and code-point indices for one text.
 * Built once per text in O(n); each lookup is O(1).
 */
export class OffsetMap {
  /** jsToCp[i] = code points before JS index i (length n+1). */
  private readonly jsToCp: Uint32Array;
  /** cpToJs[k] = JS index of code point k (length cpCount+1). */
  private readonly cpToJs: Uint32Array;

  constructor(readonly text: string) {
    const n = text.length;
    this.jsToCp = new Uint32Array(n + 1);
    const cpToJs: number[] = [];
    let cp = 0;
    for (let i = 0; i < n; ) {
      cpToJs.push(i);
      const code = text.codePointAt(i)!;
      const width = code > 0xffff ? 2 : 1;
      this.jsToCp[i] = cp;
      if (width === 2) this.jsToCp[i + 1] = cp; // inside a surrogate pair: not a boundary
      i += width;
      cp++;
    }
    this.jsToCp[n] = cp;
    cpToJs.push(n);
    this.cpToJs = Uint32Array.from(cpToJs);
  }

  get codePointLength(): number {
    return this.cpToJs.length - 1;
  }

  /** True when `jsIndex` does not split a surrogate pair. */
  isBoundary(jsIndex: number): boolean {
    if (jsIndex <= 0 || jsIndex >= this.text.length) return jsIndex === 0 || jsIndex === this.text.length;
    return isCodePointBoundary(this.text, jsIndex);
  }

  toCodePoint(jsIndex: number): number {
    if (!Number.isInteger(jsIndex) || jsIndex < 0 || jsIndex > this.text.length) {
      throw new RangeError(`JS offset ${jsIndex} is outside a text of length ${this.text.length}`);
    }
    return this.jsToCp[jsIndex];
  }

  toJs(codePointIndex: number): number {
    if (!Number.isInteger(codePointIndex) || codePointIndex < 0 || codePointIndex > this.codePointLength) {
      throw new RangeError(
        `code-point offset ${codePointIndex} is outside a text of ${this.codePointLength} code points`,
      );
    }
    return this.cpToJs[codePointIndex];
  }

  spanToCodePoints([s, e]: Span): Span {
    return [this.toCodePoint(s), this.toCodePoint(e)];
  }

  spanToJs([s, e]: Span): Span {
    return [this.toJs(s), this.toJs(e)];
  }
}

/** Entity spans in code points (for files and the CLI). */
export function entityToCodePoints(map: OffsetMap, entity: Entity): Entity {
  return { ...entity, spans: entity.spans.map((s) => map.spanToCodePoints(s)) };
}

/** Entity spans from code points back to JS indices. */
export function entityToJs(map: OffsetMap, entity: Entity): Entity {
  return { ...entity, spans: entity.spans.map((s) => map.spanToJs(s)) };
}
