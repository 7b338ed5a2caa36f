/** Where the shared corpora are for these tests, and a skip-with-message when absent. */
import test from 'ava';
import { sharedFile } from '../helpers/shared.ts';
import type { CorpusDocument } from '../../lib/corpus/document.ts';

const found = sharedFile('corpora');
export const corporaRoot = found.path;
export const corporaMissing = found.missing;
/** `test` when the corpora are present, `test.skip` otherwise (the reason is printed). */
export const withCorpora = corporaMissing ? test.skip : test;
// Said once per test file, beside the skipped tests: a test registered here had no assertion
// (ava fails it) and, imported after a module with top-level await, was declared too late.
if (corporaMissing) console.warn(`corpus tests skipped: ${corporaMissing}`);

/** Every entity's spans slice to its text, spans are in order and inside the text. */
export function offsetsHold(docs: readonly CorpusDocument[]): string | undefined {
  for (const d of docs) {
    for (const e of d.entities) {
      const slices = e.spans.map(([s, x]) => d.text.slice(s, x));
      if (slices.join(' ') !== e.text) return `${d.id}: spans do not slice to the entity text`;
      if (e.spans.some(([s, x], i) => s < 0 || x > d.text.length || x <= s || (i > 0 && s <= e.spans[i - 1][1]))) {
        return `${d.id}: spans out of order or outside the text`;
      }
      if (e.discontinuous !== e.spans.length > 1) return `${d.id}: discontinuous flag wrong`;
    }
  }
  return undefined;
}

export function count(docs: readonly CorpusDocument[]) {
  const entities = docs.flatMap((d) => d.entities);
  return {
    sentences: docs.length,
    entities: entities.length,
    nested: entities.filter((e) => e.nested).length,
    discontinuous: entities.filter((e) => e.discontinuous).length,
  };
}
