/**
 * The document model every loader produces: one text (usually a sentence) with its entities,
 * each flagged as nested and/or discontinuous so statistics and format matching need no rework.
 */
import { makeEntity, sortEntities, type Entity, type Span } from '../formats/entity.ts';

export interface CorpusEntity extends Entity {
  /** Its characters are a strict subset or superset of another entity's in the same document. */
  nested: boolean;
  /** Two or more spans remain after merging fragments that touch or are separated by whitespace. */
  discontinuous: boolean;
}

export interface CorpusDocument {
  id: string;
  text: string;
  entities: CorpusEntity[];
}

/** Is every character of `inner` inside `outer`? Both span lists are normalised. */
function covers(outer: readonly Span[], inner: readonly Span[]): boolean {
  return inner.every(([s, e]) => outer.some(([os, oe]) => os <= s && e <= oe));
}

function sameSpans(a: readonly Span[], b: readonly Span[]): boolean {
  return a.length === b.length && a.every(([s, e], i) => s === b[i][0] && e === b[i][1]);
}

/**
 * Sorts entities in text order and sets both flags. Identical extents are not nesting (the
 * definition the issue fixes), whatever their types.
 */
export function flagEntities(entities: readonly Entity[]): CorpusEntity[] {
  const sorted = sortEntities(entities);
  return sorted.map((entity, i) => {
    let nested = false;
    for (let j = 0; j < sorted.length && !nested; j++) {
      if (i === j) continue;
      const other = sorted[j].spans;
      if (sameSpans(entity.spans, other)) continue;
      nested = covers(other, entity.spans) || covers(entity.spans, other);
    }
    return {
      type: entity.type,
      spans: entity.spans,
      text: entity.text,
      nested,
      discontinuous: entity.spans.length > 1,
    };
  });
}

/** Builds a document from raw fragments: normalises spans, orders and flags entities. */
export function makeDocument(
  id: string,
  text: string,
  raw: ReadonlyArray<{ type: string; spans: readonly Span[] }>,
): CorpusDocument {
  return { id, text, entities: flagEntities(raw.map((r) => makeEntity(text, r.type, r.spans))) };
}

/** Removes entities with the same type and the same spans as an earlier one; returns how many. */
export function dropDuplicateEntities<T extends Entity>(entities: T[]): { kept: T[]; dropped: number } {
  const seen = new Set<string>();
  const kept: T[] = [];
  for (const e of entities) {
    const key = `${e.type}\u0000${e.spans.map(([s, x]) => `${s}-${x}`).join(',')}`;
    if (seen.has(key)) continue;
    seen.add(key);
    kept.push(e);
  }
  return { kept, dropped: entities.length - kept.length };
}
