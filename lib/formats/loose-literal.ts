/**
 * A forgiving reader for the JSON / Python literals that models write: single or double
 * quotes, escaped quote delimiters (`[\"a\"]`), unescaped inner quotes, trailing or doubled
 * commas, bare keys, Python constants, and input cut off in the middle. It never throws.
 */

export type Literal = string | number | boolean | null | Literal[] | { [key: string]: Literal };

/** One element of a top-level list: its value, or why it could not be read. */
export type ListItem = { value: Literal } | { error: 'malformed' | 'truncated' };

export interface ListReading {
  items: ListItem[];
  /** False when the input ended before the closing bracket. */
  closed: boolean;
  /** Index just after the list (or the input length when not closed). */
  end: number;
}

class Truncated {}
class Malformed {}
const TRUNCATED = new Truncated();
const MALFORMED = new Malformed();

const CLOSERS = new Set([',', ']', '}', ':', ')']);

class Reader {
  pos: number;
  constructor(
    private readonly src: string,
    start: number,
  ) {
    this.pos = start;
  }

  private skipSpace(): void {
    while (this.pos < this.src.length && /\s/u.test(this.src[this.pos])) this.pos++;
  }

  private peek(): string | undefined {
    this.skipSpace();
    return this.src[this.pos];
  }

  value(): Literal {
    const c = this.peek();
    if (c === undefined) throw TRUNCATED;
    if (c === '[') return this.list();
    if (c === '{') return this.object();
    if (c === '"' || c === "'") return this.string(c, false);
    if (c === '\\' && (this.src[this.pos + 1] === '"' || this.src[this.pos + 1] === "'")) {
      return this.string(this.src[this.pos + 1], true);
    }
    if (/[-+\d.]/u.test(c)) return this.number();
    return this.word();
  }

  list(): Literal[] {
    this.pos++; // [
    const out: Literal[] = [];
    for (;;) {
      const c = this.peek();
      if (c === undefined) throw TRUNCATED;
      if (c === ']') {
        this.pos++;
        return out;
      }
      if (c === ',') {
        this.pos++;
        continue;
      }
      out.push(this.value());
    }
  }

  object(): { [key: string]: Literal } {
    this.pos++; // {
    const out: { [key: string]: Literal } = {};
    for (;;) {
      const c = this.peek();
      if (c === undefined) throw TRUNCATED;
      if (c === '}') {
        this.pos++;
        return out;
      }
      if (c === ',') {
        this.pos++;
        continue;
      }
      const key = this.key();
      if (this.peek() === undefined) throw TRUNCATED;
      if (this.src[this.pos] !== ':') throw MALFORMED;
      this.pos++;
      out[key] = this.value();
    }
  }

  private key(): string {
    const c = this.peek();
    if (c === '"' || c === "'") return this.string(c, false);
    if (c === '\\' && (this.src[this.pos + 1] === '"' || this.src[this.pos + 1] === "'")) {
      return this.string(this.src[this.pos + 1], true);
    }
    const m = /^[\p{L}\p{N}_$-]+/u.exec(this.src.slice(this.pos, this.pos + 200));
    if (!m) throw MALFORMED;
    this.pos += m[0].length;
    return m[0];
  }

  /**
   * A quote closes the string only when what follows could end a value; otherwise it is
   * taken as an unescaped quote inside the string (`'Crohn's disease'`).
   */
  private string(quote: string, escapedDelimiter: boolean): string {
    this.pos += escapedDelimiter ? 2 : 1;
    let out = '';
    const src = this.src;
    while (this.pos < src.length) {
      const c = src[this.pos];
      if (escapedDelimiter && c === '\\' && src[this.pos + 1] === quote) {
        if (this.closesAt(this.pos + 2)) {
          this.pos += 2;
          return out;
        }
        out += quote;
        this.pos += 2;
        continue;
      }
      if (c === quote && !escapedDelimiter) {
        if (this.closesAt(this.pos + 1)) {
          this.pos++;
          return out;
        }
        out += c;
        this.pos++;
        continue;
      }
      if (c === '\\') {
        const decoded = this.escape();
        if (decoded === undefined) throw TRUNCATED;
        out += decoded;
        continue;
      }
      out += c;
      this.pos++;
    }
    throw TRUNCATED;
  }

  private closesAt(i: number): boolean {
    while (i < this.src.length && /\s/u.test(this.src[i])) i++;
    if (i >= this.src.length) return true;
    return CLOSERS.has(this.src[i]);
  }

  private escape(): string | undefined {
    const src = this.src;
    const n = src[this.pos + 1];
    if (n === undefined) return undefined;
    const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', '0': '\0' };
    if (n === 'u' || n === 'x' || n === 'U') {
      const len = n === 'u' ? 4 : n === 'x' ? 2 : 8;
      const hex = src.slice(this.pos + 2, this.pos + 2 + len);
      if (hex.length < len) return undefined;
      if (/^[0-9a-fA-F]+$/u.test(hex)) {
        const code = parseInt(hex, 16);
        if (code <= 0x10ffff) {
          this.pos += 2 + len;
          return String.fromCodePoint(code);
        }
      }
      this.pos += 2;
      return n;
    }
    this.pos += 2;
    return simple[n] ?? n;
  }

  private number(): number {
    const m = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?/u.exec(this.src.slice(this.pos, this.pos + 64));
    if (!m) throw MALFORMED;
    this.pos += m[0].length;
    if (this.pos >= this.src.length) throw TRUNCATED; // digits may continue past the cut
    return Number(m[0]);
  }

  private word(): Literal {
    const m = /^[A-Za-z_]+/u.exec(this.src.slice(this.pos, this.pos + 16));
    if (!m) throw MALFORMED;
    const words: Record<string, Literal> = { true: true, True: true, false: false, False: false, null: null, None: null };
    if (!(m[0] in words)) throw MALFORMED;
    this.pos += m[0].length;
    return words[m[0]];
  }

  /** After a malformed element: the next comma or closing bracket at this depth. */
  recover(): void {
    let depth = 0;
    let quote: string | undefined;
    for (; this.pos < this.src.length; this.pos++) {
      const c = this.src[this.pos];
      if (quote) {
        if (c === '\\') this.pos++;
        else if (c === quote) quote = undefined;
        continue;
      }
      if (c === '"') quote = c;
      else if (c === '[' || c === '{') depth++;
      else if (c === '}' || c === ']') {
        if (depth === 0) return;
        depth--;
      } else if (c === ',' && depth === 0) return;
    }
  }

  topList(): ListReading {
    this.pos++; // [
    const items: ListItem[] = [];
    for (;;) {
      const c = this.peek();
      if (c === undefined) return { items, closed: false, end: this.src.length };
      if (c === ']') return { items, closed: true, end: this.pos + 1 };
      if (c === ',') {
        this.pos++;
        continue;
      }
      const before = this.pos;
      try {
        items.push({ value: this.value() });
      } catch (e) {
        if (e === TRUNCATED) {
          items.push({ error: 'truncated' });
          return { items, closed: false, end: this.src.length };
        }
        if (e !== MALFORMED) throw e;
        items.push({ error: 'malformed' });
        if (this.pos === before) this.pos++;
        this.recover();
      }
    }
  }
}

/** Reads the list whose `[` is at `start`. */
export function readList(src: string, start: number): ListReading {
  return new Reader(src, start).topList();
}

/** Reads one literal at `start`. */
export function readLiteral(
  src: string,
  start: number,
): { value: Literal; end: number } | { error: 'malformed' | 'truncated' } {
  const reader = new Reader(src, start);
  try {
    const value = reader.value();
    return { value, end: reader.pos };
  } catch (e) {
    if (e === TRUNCATED) return { error: 'truncated' };
    if (e === MALFORMED) return { error: 'malformed' };
    throw e;
  }
}
