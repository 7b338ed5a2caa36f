/**
 * The GBNF grammar of a format constraint: the same language the native engine accepts (except
 * the occurrence counting of repeated item texts, and the entity cap of the tag formats). Used as the test
 * oracle for the native masks and for users who want to read or reuse the constraint.
 * Grammars of span, BRAT and tag formats grow quadratically with the text: meant for sentences.
 */
import type { BioSpec, ConstraintSpec, ListSpec, TagSpec } from './spec.ts';

/** A GBNF string literal. */
export function lit(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out + '"';
}

const SPACE = /^\s$/u;
const isSpace = (c: number) => SPACE.test(String.fromCodePoint(c));

/** Suffix automaton over code points (same construction as native/ner-engine.h). */
class SuffixAutomaton {
  len: number[] = [0];
  link: number[] = [-1];
  next: Map<number, number>[] = [new Map()];
  lastChar: number[] = [0];

  constructor(cps: readonly number[]) {
    let last = 0;
    for (const c of cps) {
      const cur = this.add(this.len[last] + 1, -1, new Map(), c);
      let p = last;
      while (p !== -1 && !this.next[p].has(c)) {
        this.next[p].set(c, cur);
        p = this.link[p];
      }
      if (p === -1) this.link[cur] = 0;
      else {
        const q = this.next[p].get(c)!;
        if (this.len[p] + 1 === this.len[q]) this.link[cur] = q;
        else {
          const clone = this.add(this.len[p] + 1, this.link[q], new Map(this.next[q]), c);
          while (p !== -1 && this.next[p].get(c) === q) {
            this.next[p].set(c, clone);
            p = this.link[p];
          }
          this.link[q] = clone;
          this.link[cur] = clone;
        }
      }
      last = cur;
    }
  }

  private add(len: number, link: number, next: Map<number, number>, c: number): number {
    this.len.push(len);
    this.link.push(link);
    this.next.push(next);
    this.lastChar.push(c);
    return this.len.length - 1;
  }
}

/** How a text character is written inside the answer's string, or null when it cannot be. */
function spelling(c: number, json: boolean): string | null {
  const ch = String.fromCodePoint(c);
  if (!json) return ch === ';' || ch === '\n' || ch === '\r' ? null : ch;
  return JSON.stringify(ch).slice(1, -1);
}

class Rules {
  private readonly rules: string[] = [];
  add(name: string, body: string): string {
    this.rules.push(`${name} ::= ${body}`);
    return name;
  }
  toString(): string {
    return this.rules.join('\n') + '\n';
  }
}

/** Rules for "a non-empty substring of the text that starts and ends with a non-space". */
function substringRules(rules: Rules, text: string, json: boolean): string {
  const sam = new SuffixAutomaton([...text].map((c) => c.codePointAt(0)!));
  const n = sam.len.length;
  const order = [...Array(n).keys()].sort((a, b) => sam.len[b] - sam.len[a]);
  const canEnd = new Array<boolean>(n).fill(false);
  for (const v of order) {
    let ok = v !== 0 && !isSpace(sam.lastChar[v]);
    for (const [c, u] of sam.next[v]) if (!ok && spelling(c, json) !== null) ok = canEnd[u];
    canEnd[v] = ok;
  }
  // r<v>: the text so far ends with a non-space (may stop); w<v>: it ends with a space (may not).
  const alts = (v: number) => {
    const out: string[] = [];
    for (const [c, u] of [...sam.next[v]].sort((a, b) => a[0] - b[0])) {
      const sp = spelling(c, json);
      if (sp === null || !canEnd[u]) continue;
      if (v === 0 && isSpace(c)) continue;
      out.push(`${lit(sp)} ${isSpace(c) ? 'w' : 'r'}${u}`);
    }
    return out;
  };
  for (let v = 1; v < n; v++) {
    if (!canEnd[v]) continue;
    const a = alts(v);
    if (!isSpace(sam.lastChar[v])) rules.add(`r${v}`, a.length ? `( ${a.join(' | ')} )?` : '""');
    else rules.add(`w${v}`, a.join(' | '));
  }
  const first = alts(0);
  return rules.add('entity-text', first.length ? first.join(' | ') : '[^\\x00-\\U0010FFFF]');
}

/**
 * Rules for "a substring that starts at one of `starts` and ends at one of `ends`, with a
 * non-space at each end": a trie of the suffixes from the starts, stopping allowed at the ends
 * (quadratic in the text).
 */
function boundedSubstringRules(rules: Rules, text: string, json: boolean, starts: readonly number[], ends: readonly number[]): string {
  const cps = [...text].map((c) => c.codePointAt(0)!);
  const flags = (at: readonly number[]) => {
    const f = new Array<boolean>(cps.length + 1).fill(false);
    for (const b of at) if (b >= 0 && b <= cps.length) f[b] = true;
    return f;
  };
  const isStart = flags(starts);
  const isEnd = flags(ends);
  const next: Array<Map<number, number>> = [new Map()];
  const stop: boolean[] = [false];
  for (let i = 0; i < cps.length; i++) {
    if (!isStart[i] || isSpace(cps[i])) continue;
    let v = 0;
    for (let j = i; j < cps.length && spelling(cps[j], json) !== null; j++) {
      let u = next[v].get(cps[j]);
      if (u === undefined) {
        u = next.length;
        next.push(new Map());
        stop.push(false);
        next[v].set(cps[j], u);
      }
      v = u;
      if (isEnd[j + 1] && !isSpace(cps[j])) stop[v] = true;
    }
  }
  // Children are made after their parents, so a reverse scan sees them first.
  const live = stop.slice();
  for (let v = next.length - 1; v >= 0; v--) for (const u of next[v].values()) live[v] ||= live[u];
  const alts = (v: number) =>
    [...next[v]]
      .filter(([, u]) => live[u])
      .sort((a, b) => a[0] - b[0])
      .map(([c, u]) => `${lit(spelling(c, json)!)} b${u}`);
  for (let v = 1; v < next.length; v++) {
    if (!live[v]) continue;
    const a = alts(v);
    rules.add(`b${v}`, stop[v] ? (a.length ? `( ${a.join(' | ')} )?` : '""') : a.join(' | '));
  }
  const first = alts(0);
  return rules.add('entity-text', first.length ? first.join(' | ') : '[^\\x00-\\U0010FFFF]');
}

function listGrammar(spec: ListSpec): string {
  const rules = new Rules();
  const cps = [...spec.text];
  const fields = spec.item;
  const slot = (name: string) => fields.findIndex((f) => typeof f !== 'string' && f.slot === name);
  const textRule =
    slot('text') < 0
      ? ''
      : spec.textStarts && spec.textEnds
        ? boundedSubstringRules(rules, spec.text, spec.jsonStrings, spec.textStarts, spec.textEnds)
        : substringRules(rules, spec.text, spec.jsonStrings);
  const labelRule = slot('label') >= 0 ? rules.add('label', spec.labels.map(lit).join(' | ')) : '';
  const iStart = slot('start');
  const iEnd = slot('end');
  const iSlice = slot('slice');
  const hasId = slot('id') >= 0;
  // The offsets (and the BRAT text they force) as one rule: start, literals, end [, literals, slice].
  let offsetsRule = '';
  const offsetsLast = iSlice >= 0 ? iSlice : iEnd;
  if (iStart >= 0) {
    const between = fields.slice(iStart + 1, iEnd).join('');
    const after = iSlice >= 0 ? fields.slice(iEnd + 1, iSlice).join('') : '';
    const breakAt = (s: number) => {
      for (let i = s; i < cps.length; i++) if (cps[i] === '\n' || cps[i] === '\r') return i;
      return cps.length;
    };
    const starts = [...new Set(spec.starts)].sort((a, b) => a - b);
    const ends = [...new Set(spec.ends)].sort((a, b) => a - b);
    const perStart: string[] = [];
    for (const s of starts) {
      const alts = ends
        .filter((e) => e > s && e <= breakAt(s))
        .map((e) => lit(`${e}${iSlice >= 0 ? after + cps.slice(s, e).join('') : ''}`));
      if (alts.length) perStart.push(`${lit(`${s}${between}`)} ( ${alts.join(' | ')} )`);
    }
    offsetsRule = rules.add('offsets', perStart.join(' | '));
  }
  const item = (k: number) => {
    const parts: string[] = [];
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i];
      if (i === iStart) {
        parts.push(offsetsRule);
        i = offsetsLast;
        continue;
      }
      if (typeof f === 'string') parts.push(lit(f));
      else if (f.slot === 'text') parts.push(textRule);
      else if (f.slot === 'label') parts.push(labelRule);
      else if (f.slot === 'id') parts.push(lit(String(k)));
    }
    return parts.join(' ');
  };
  const cap = spec.maxEntities;
  const sep = spec.separator ? `${lit(spec.separator)} ` : '';
  if (hasId) {
    // ids count up: one rule per position
    for (let k = cap; k >= 2; k--) rules.add(`items${k}`, `${sep}${item(k)}${k < cap ? ` items${k + 1}?` : ''}`);
    rules.add('items1', `${item(1)}${cap >= 2 ? ' items2?' : ''}`);
  } else {
    const one = rules.add('item', item(1));
    rules.add('items1', cap >= 2 ? `${one} ( ${sep}${one} ){0,${cap - 1}}` : one);
  }
  rules.add('root', `${lit(spec.prefix)} items1?${spec.suffix ? ` ${lit(spec.suffix)}` : ''}`);
  return rules.toString();
}

function bioGrammar(spec: BioSpec): string {
  const rules = new Rules();
  const n = spec.tokens;
  // t<j>-<p>: labels from token j on, the previous label's type being p ("o" for none).
  for (let j = n - 1; j >= 0; j--) {
    for (const p of ['o', ...spec.labels.map((_, i) => String(i))]) {
      const cont = (q: string) => (j + 1 < n ? ` " " t${j + 1}-${q}` : '');
      const alts = [`"O"${cont('o')}`];
      spec.labels.forEach((l, i) => alts.push(`${lit(`B-${l}`)}${cont(String(i))}`));
      if (p !== 'o') alts.push(`${lit(`I-${spec.labels[Number(p)]}`)}${cont(p)}`);
      rules.add(`t${j}-${p}`, alts.join(' | '));
    }
  }
  let body = '';
  for (let k = spec.maxLayers; k >= 1; k--) {
    const layer = `${lit(`${k === 1 ? '' : '\n'}Layer ${k}: `)} t0-o`;
    body = body ? `${layer} ( ${body} )?` : layer;
  }
  rules.add('root', body);
  return rules.toString();
}

function tagGrammar(spec: TagSpec): string {
  const rules = new Rules();
  const cps = [...spec.text];
  const len = cps.length;
  const startOk = new Set(spec.starts);
  const endOk = new Set(spec.ends);
  const markupAt = (i: number) => i >= len || !(spec.multi ? cps[i] === '<' : cps[i] === '@' || cps[i] === '#');
  let lastClose = -1;
  for (let i = 0; i <= len; i++) if (endOk.has(i) && markupAt(i)) lastClose = i;
  const maxDepth = Math.min(spec.maxDepth, 4);
  const name = (pos: number, stack: number[], fresh: boolean) => `p${pos}-${stack.join('x') || 'e'}-${fresh ? 1 : 0}`;
  const seen = new Set<string>();
  const todo: Array<[number, number[], boolean]> = [[0, [], false]];
  while (todo.length) {
    const [pos, stack, fresh] = todo.pop()!;
    const me = name(pos, stack, fresh);
    if (seen.has(me)) continue;
    seen.add(me);
    const alts: string[] = [];
    const go = (markup: string, p: number, st: number[], f: boolean) => {
      alts.push(`${lit(markup)} ${name(p, st, f)}`);
      todo.push([p, st, f]);
    };
    if (pos === len && stack.length === 0) alts.push('""');
    if (pos < len && (stack.length === 0 || pos < lastClose)) go(cps[pos], pos + 1, stack, false);
    if (markupAt(pos) && startOk.has(pos) && stack.length < maxDepth && pos < lastClose) {
      if (spec.multi) spec.labels.forEach((l, i) => go(`<${l}>`, pos, [...stack, i], true));
      else go('@@', pos, [...stack, 0], true);
    }
    if (markupAt(pos) && stack.length > 0 && endOk.has(pos) && !fresh) {
      go(spec.multi ? `</${spec.labels[stack[stack.length - 1]]}>` : '##', pos, stack.slice(0, -1), false);
    }
    rules.add(me, alts.join(' | '));
  }
  rules.add('root', `"Answer: " ${name(0, [], false)}`);
  return rules.toString();
}

/** The GBNF grammar (root rule `root`) of a constraint spec. */
export function specToGbnf(spec: ConstraintSpec): string {
  if (spec.kind === 'list') return listGrammar(spec);
  if (spec.kind === 'bio') return bioGrammar(spec);
  return tagGrammar(spec);
}
