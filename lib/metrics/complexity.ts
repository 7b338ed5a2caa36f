import type { GoldEntity } from './types.ts';

/**
 * Fills `nested` and `discontinuous` where the corpus layer did not, with the corpus issue's
 * definitions: nested = the entity's character set is a strict subset or superset of another
 * entity's in the same document (identical extents are not nesting); discontinuous = two or more
 * spans. Flags already present are kept.
 */
export function withComplexity<T extends GoldEntity>(entities: readonly T[]): T[] {
  const sets = entities.map((e) => charSet(e));
  return entities.map((e, i) => {
    const discontinuous = e.discontinuous ?? e.spans.length > 1;
    let nested = e.nested;
    if (nested === undefined) {
      nested = false;
      for (let j = 0; j < entities.length && !nested; j++) {
        if (j !== i && strictlyRelated(sets[i], sets[j])) nested = true;
      }
    }
    return { ...e, nested, discontinuous };
  });
}

function charSet(e: GoldEntity): Set<number> {
  const s = new Set<number>();
  for (const [a, b] of e.spans) for (let k = a; k < b; k++) s.add(k);
  return s;
}

function strictlyRelated(a: Set<number>, b: Set<number>): boolean {
  if (a.size === b.size) return false;
  const [small, big] = a.size < b.size ? [a, b] : [b, a];
  for (const k of small) if (!big.has(k)) return false;
  return small.size > 0;
}
