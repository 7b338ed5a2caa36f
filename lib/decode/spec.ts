/**
 * The constraint of each output format, described once as data: the native engine runs it
 * (lib/native FormatConstraint) and gbnf.ts writes the same language as a GBNF grammar.
 * Offsets inside specs are code-point indices into the input text.
 */
import { CODE_SCAFFOLD_HEAD, CODE_SCAFFOLD_TAIL } from '../formats/code-formats.ts';
import { isCodePointBoundary } from '../formats/entity.ts';
import { insideWord, tokenize } from '../formats/tokens.ts';
import type { FormatName } from '../formats/types.ts';
import { FORMAT_NAMES } from '../formats/types.ts';

export interface ConstraintOptions {
  /** Most entities an answer may list (tags: opened). Default 64. */
  maxEntities?: number;
  /** multi_bio: most layers. Default 3. */
  maxLayers?: number;
  /** Tag formats: deepest nesting. Default 3 (at most 4). */
  maxDepth?: number;
  /**
   * Term, code and triple formats: an item text may be repeated only as often as it occurs
   * (per type), so no answer has a `repeated` problem. Default true; the GBNF oracle cannot
   * express it, so agreement tests turn it off.
   */
  countOccurrences?: boolean;
  /**
   * Term, code and triple formats: an item text starts and ends at a word bound (never between
   * two letters or digits), so no answer ends inside a word (`A` of `ATM`). Default true; false
   * allows any substring. Every gold entity of six corpora and 99.97 % of GENIA's sit on word
   * bounds (docs/decoding.md).
   */
  wordBounds?: boolean;
  /**
   * Term, code and triple formats with word bounds: items in text order and apart, each item text
   * starting after the previous one ends (at its first such occurrence), as Listing 1 asks ("in
   * text order, one element per mention"). A model can then no longer write a mention again with
   * an extension or as its tail. Default false: nested mentions overlap (GENIA), so the caller
   * turns it on for data without them (evaluation does, per dataset). The GBNF oracle cannot
   * express it.
   */
  textOrder?: boolean;
  /**
   * Entities start with a letter or digit and end with one (or a combining mark): item texts of
   * the term, code and triple formats, and the offsets of the span, BRAT and tag formats, start
   * and end only there, so no answer holds `- cell leukaemia .` or `.`. Default false (a user's
   * annotations may keep punctuation at an edge); evaluation turns it on for a dataset whose
   * training mentions (nearly) all have such edges: 5,129 of NCBI-disease's 5,134 do.
   * multi_bio is not affected (its constraint labels tokens one at a time).
   */
  alnumEdges?: boolean;
}

/** A field of a list item: a literal or an input-dependent slot. */
export type ItemField = string | { slot: 'text' | 'label' | 'start' | 'end' | 'slice' | 'id' };

export interface ListSpec {
  kind: 'list';
  text: string;
  prefix: string;
  separator: string;
  suffix: string;
  item: ItemField[];
  /** Labels as written in the answer (JSON-escaped inside JSON strings). */
  labels: string[];
  starts: number[];
  ends: number[];
  jsonStrings: boolean;
  countOccurrences: boolean;
  /** Where an item text may start, and where it may end (code points); absent: anywhere. */
  textStarts?: number[];
  textEnds?: number[];
  /** Items in text order (needs bounds). */
  textOrder?: boolean;
  maxEntities: number;
}

export interface BioSpec {
  kind: 'bio';
  tokens: number;
  labels: string[];
  maxLayers: number;
}

export interface TagSpec {
  kind: 'tag';
  multi: boolean;
  text: string;
  labels: string[];
  starts: number[];
  ends: number[];
  maxDepth: number;
  maxEntities: number;
}

export type ConstraintSpec = ListSpec | BioSpec | TagSpec;

const TEXT = { slot: 'text' } as const;
const LABEL = { slot: 'label' } as const;
const START = { slot: 'start' } as const;
const END = { slot: 'end' } as const;

/** JS string index -> code-point index, for every index 0..text.length. */
export function codePointIndex(text: string): Int32Array {
  const out = new Int32Array(text.length + 1);
  let cp = 0;
  for (let i = 0; i < text.length; ) {
    const w = text.codePointAt(i)! > 0xffff ? 2 : 1;
    out[i] = cp;
    if (w === 2) out[i + 1] = cp;
    i += w;
    cp++;
  }
  out[text.length] = cp;
  return out;
}

/** Code-point positions 0..length not standing between two letters or digits. */
export function wordBounds(text: string): number[] {
  const cp = codePointIndex(text);
  const out: number[] = [];
  for (let i = 0; i <= text.length; i++) if (isCodePointBoundary(text, i) && !insideWord(text, i)) out.push(cp[i]);
  return out;
}

/** Token starts and ends (multi_bio tokenisation) in code points. */
export function tokenBoundaries(text: string): { starts: number[]; ends: number[]; count: number } {
  const cp = codePointIndex(text);
  const toks = tokenize(text);
  return { starts: toks.map((t) => cp[t.start]), ends: toks.map((t) => cp[t.end]), count: toks.length };
}

const EDGE_START = /^[\p{L}\p{N}]/u;
const EDGE_END = /[\p{L}\p{N}\p{M}]$/u;

/** Whether a mention text has the edges `alnumEdges` demands: a letter or digit first, a letter, digit or combining mark last. */
export function alnumEdged(mention: string): boolean {
  return EDGE_START.test(mention) && EDGE_END.test(mention);
}

/**
 * With `alnum`, only the starts before a letter or digit and the ends after one (or a combining
 * mark), and of those only starts with some end after them on their line, so no item is opened
 * that cannot be closed. Positions are code points.
 */
function edgeFilter<T extends { starts: number[]; ends: number[] }>(text: string, b: T, alnum: boolean): T {
  if (!alnum) return b;
  const cps = [...text];
  const ends = b.ends.filter((e) => e > 0 && EDGE_END.test(cps[e - 1]));
  const endSet = new Set(ends);
  // The first end at or after each position that no line break separates from it.
  const nextEnd = new Array<number>(cps.length + 2).fill(Infinity);
  for (let p = cps.length; p >= 0; p--) {
    nextEnd[p] = endSet.has(p) ? p : p < cps.length && (cps[p] === '\n' || cps[p] === '\r') ? Infinity : nextEnd[p + 1];
  }
  const starts = b.starts.filter((s) => s < cps.length && EDGE_START.test(cps[s]) && nextEnd[s + 1] !== Infinity);
  return { ...b, starts, ends };
}

function jsonInner(s: string): string {
  return JSON.stringify(s).slice(1, -1);
}

function checkLabels(format: FormatName, types: readonly string[], bad: RegExp): void {
  if (types.length === 0) throw new TypeError(`${format}: at least one entity type is needed`);
  if (types.length > 30) throw new TypeError(`${format}: the format constraint takes at most 30 types`);
  if (new Set(types).size !== types.length) throw new TypeError(`${format}: entity types must be distinct`);
  types.forEach((t, i) => {
    if (!t || bad.test(t)) throw new TypeError(`${format}: entity type ${i} is empty or holds a character the format uses as a delimiter`);
  });
}

/**
 * The constraint of `format` for one input text. Single-type formats (single_*, conv_term) take
 * their one type in `types` (conv_term's spec is the same for every turn).
 */
export function buildSpec(format: FormatName, text: string, types: readonly string[], options: ConstraintOptions = {}): ConstraintSpec {
  if (!FORMAT_NAMES.includes(format)) throw new TypeError(`unknown format ${String(format)}`);
  const maxEntities = options.maxEntities ?? 64;
  if (!Number.isInteger(maxEntities) || maxEntities < 1) throw new TypeError('maxEntities must be a positive integer');
  const countOccurrences = options.countOccurrences ?? true;
  const bounds = edgeFilter(text, tokenBoundaries(text), options.alnumEdges === true);
  const list = (p: Partial<ListSpec> & Pick<ListSpec, 'prefix' | 'separator' | 'suffix' | 'item'>): ListSpec => {
    const spec: ListSpec = {
      kind: 'list',
      text,
      labels: [],
      starts: bounds.starts,
      ends: bounds.ends,
      jsonStrings: true,
      countOccurrences,
      maxEntities,
      ...p,
    };
    const hasText = spec.item.some((f) => typeof f !== 'string' && f.slot === 'text');
    if (hasText && options.wordBounds !== false) {
      const at = wordBounds(text);
      const words = edgeFilter(text, { starts: at, ends: at }, options.alnumEdges === true);
      spec.textStarts = words.starts;
      spec.textEnds = words.ends;
      if (options.textOrder) spec.textOrder = true;
    }
    return spec;
  };
  const jsonLabels = () => {
    checkLabels(format, types, /[\u0000-\u001f]/u);
    return types.map(jsonInner);
  };
  const rawLabels = (bad: RegExp) => {
    checkLabels(format, types, bad);
    return [...types];
  };
  const codePrefix = ['Answer:', ...CODE_SCAFFOLD_HEAD].join('\n') + '\n';
  const codeSuffix = CODE_SCAFFOLD_TAIL.join('\n');
  switch (format) {
    case 'single_term':
    case 'conv_term':
      return list({ prefix: 'Answer: [', separator: ', ', suffix: ']', item: ['"', TEXT, '"'] });
    case 'multi_term':
      return list({ prefix: 'Answer: [', separator: ', ', suffix: ']', item: ['{"text": "', TEXT, '", "type": "', LABEL, '"}'], labels: jsonLabels() });
    case 'single_code':
      return list({ prefix: codePrefix, separator: '', suffix: codeSuffix, item: ['    entity_list.append("', TEXT, '")\n'] });
    case 'multi_code':
      return list({
        prefix: codePrefix,
        separator: '',
        suffix: codeSuffix,
        item: ['    entity_list.append({"text": "', TEXT, '", "type": "', LABEL, '"})\n'],
        labels: jsonLabels(),
      });
    case 'single_span':
      return list({ prefix: 'Answer: [', separator: ', ', suffix: ']', item: ['[', START, ', ', END, ']'], countOccurrences: false });
    case 'multi_span':
      return list({
        prefix: 'Answer: [',
        separator: ', ',
        suffix: ']',
        item: ['{"span": [', START, ', ', END, '], "type": "', LABEL, '"}'],
        labels: jsonLabels(),
        countOccurrences: false,
      });
    case 'multi_triple':
      return list({ prefix: 'Answer:', separator: '', suffix: '', item: ['\n', TEXT, '; is a; ', LABEL], labels: rawLabels(/[\n\r;]|^\s|\s$/u), jsonStrings: false });
    case 'multi_brat':
      return list({
        prefix: 'Answer:',
        separator: '',
        suffix: '',
        item: ['\nT', { slot: 'id' }, ' ', LABEL, ' ', START, ' ', END, ' ', { slot: 'slice' }],
        labels: rawLabels(/\s/u),
        countOccurrences: false,
      });
    case 'multi_bio':
      if (bounds.count === 0) throw new TypeError('multi_bio: the text has no token to label');
      return { kind: 'bio', tokens: bounds.count, labels: rawLabels(/\s/u), maxLayers: options.maxLayers ?? 3 };
    case 'single_tag':
      if (types.length !== 1) throw new TypeError('single_tag: exactly one entity type');
      return { kind: 'tag', multi: false, text, labels: [...types], starts: bounds.starts, ends: bounds.ends, maxDepth: options.maxDepth ?? 3, maxEntities };
    case 'multi_tag':
      return {
        kind: 'tag',
        multi: true,
        text,
        labels: rawLabels(/[<>/\s]/u),
        starts: bounds.starts,
        ends: bounds.ends,
        maxDepth: options.maxDepth ?? 3,
        maxEntities,
      };
  }
}
