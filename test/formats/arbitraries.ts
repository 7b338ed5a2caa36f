/** fast-check generators shaped like the corpora: punctuation-split tokens, non-ASCII, nesting. */
import fc from 'fast-check';
import type { Entity, Format, Span } from '../../lib/formats/index.ts';
import { makeEntity, tokenize } from '../../lib/formats/index.ts';

const WORDS = [
  'BCL6', 'IL-2', 'c-fos', 'gene', 'cells', 'lymphocytes', 'T', 'of', 'the', '3.5', 'µM', 'β-actin', '𝛼',
  '𝛼-actin', 'NF-κB', 'été', '患者', 'Crohn\'s', 'p', '<', '>', '=', '0.05', '(', ')', ',', '.', ';', ':', '"', '/',
  '+', '%', '[', ']', '-', '\\',
];
const SEPARATORS = [' ', ' ', ' ', ' ', '', '  ', '\n', '\t'];

export const TYPES = ['protein', 'DNA', 'cell_type', 'Gene or gene product'] as const;

export const text: fc.Arbitrary<string> = fc
  .array(fc.tuple(fc.oneof(fc.constantFrom(...WORDS), fc.stringMatching(/^[a-zA-Z]{1,6}$/u)), fc.constantFrom(...SEPARATORS)), {
    minLength: 1,
    maxLength: 24,
  })
  .map((parts) => parts.map(([w, s]) => w + s).join('').trim())
  .filter((t) => tokenize(t).length > 0);

interface Draft {
  type: number;
  first: number;
  length: number;
  /** A second fragment, when discontinuous entities are wanted. */
  gap?: number;
  second?: number;
}

const draft = (discontinuous: boolean): fc.Arbitrary<Draft> =>
  fc.record({
    type: fc.nat({ max: TYPES.length - 1 }),
    first: fc.nat({ max: 40 }),
    length: fc.integer({ min: 1, max: 4 }),
    ...(discontinuous ? { gap: fc.integer({ min: 1, max: 3 }), second: fc.integer({ min: 1, max: 2 }) } : {}),
  }, { requiredKeys: ['type', 'first', 'length'] });

/** Entities over whole tokens: nested, overlapping, duplicated and (optionally) discontinuous. */
function entitiesOn(t: string, drafts: readonly Draft[]): Entity[] {
  const tokens = tokenize(t);
  const out: Entity[] = [];
  for (const d of drafts) {
    const first = d.first % tokens.length;
    const last = Math.min(tokens.length - 1, first + d.length - 1);
    const spans: Span[] = [[tokens[first].start, tokens[last].end]];
    if (d.gap !== undefined && d.second !== undefined) {
      const a = last + d.gap + 1;
      const b = Math.min(tokens.length - 1, a + d.second - 1);
      if (a < tokens.length) spans.push([tokens[a].start, tokens[b].end]);
    }
    out.push(makeEntity(t, TYPES[d.type], spans));
  }
  return out;
}

/**
 * A text and entities the format can render: drafts are kept one by one while the format
 * still accepts the set (the tag formats refuse crossings, for instance).
 */
export function sample(format: Format): fc.Arbitrary<{ text: string; entities: Entity[] }> {
  return fc
    .tuple(text, fc.array(draft(format.capabilities.discontinuous), { maxLength: 8 }), fc.boolean())
    .map(([t, drafts, withDuplicate]) => {
      const kept: Entity[] = [];
      for (const e of entitiesOn(t, drafts)) if (format.canRender(t, [...kept, e])) kept.push(e);
      if (withDuplicate && kept.length > 0) kept.push({ ...kept[0], spans: kept[0].spans.map((s) => [...s] as Span) });
      return { text: t, entities: kept };
    });
}

/** Unfiltered: what a corpus might hand any format, renderable or not. */
export const anySample: fc.Arbitrary<{ text: string; entities: Entity[] }> = fc
  .tuple(fc.oneof(text, text.map((t) => `#${t}@`)), fc.array(draft(true), { maxLength: 6 }))
  .map(([t, drafts]) => ({ text: t, entities: entitiesOn(t, drafts) }));
