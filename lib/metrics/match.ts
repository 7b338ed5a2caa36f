import type { Entity, Span } from '../formats/entity.ts';
import type { Counts, MatchMode } from './types.ts';

/** Whitespace runs collapsed to one space, trimmed; case is kept. */
export function normalizeSurface(text: string): string {
  return text.replace(/\s+/gu, ' ').trim();
}

function spansKey(spans: readonly Span[]): string {
  return spans.map(([s, e]) => `${s}-${e}`).join(',');
}

/**
 * The identity of an entity under a matching mode, or undefined when it can match nothing
 * (a strict-mode prediction without spans).
 */
export function matchKey(entity: Entity, mode: MatchMode): string | undefined {
  if (mode === 'strict') {
    return entity.spans.length === 0 ? undefined : `${entity.type}\u0000${spansKey(entity.spans)}`;
  }
  return `${entity.type}\u0000${normalizeSurface(entity.text)}`;
}

export interface DocumentMatch extends Counts {
  /** For each gold entity, whether a prediction was paired with it. */
  goldMatched: boolean[];
  /** For each predicted entity, whether it was paired with a gold entity. */
  predMatched: boolean[];
}

/**
 * Multiset matching within one document: under each key, min(#gold, #pred) pairs are true
 * positives, so duplicates count on both sides.
 *
 * Which gold entities of a key are the paired ones only matters for subset recall (nested,
 * discontinuous). In text mode a key can hold gold mentions at different positions, so
 * predictions are first paired with gold mentions at exactly their spans, then the rest in text
 * order; this keeps the choice deterministic and faithful where the prediction is grounded.
 */
export function matchDocument(gold: readonly Entity[], pred: readonly Entity[], mode: MatchMode): DocumentMatch {
  const goldMatched = gold.map(() => false);
  const predMatched = pred.map(() => false);
  const goldByKey = new Map<string, number[]>();
  gold.forEach((g, i) => {
    const key = matchKey(g, mode);
    if (key === undefined) return; // gold always has spans; kept for symmetry
    const list = goldByKey.get(key);
    if (list) list.push(i);
    else goldByKey.set(key, [i]);
  });
  const predByKey = new Map<string, number[]>();
  pred.forEach((p, i) => {
    const key = matchKey(p, mode);
    if (key === undefined) return;
    const list = predByKey.get(key);
    if (list) list.push(i);
    else predByKey.set(key, [i]);
  });

  let tp = 0;
  for (const [key, predIdx] of predByKey) {
    const goldIdx = goldByKey.get(key);
    if (!goldIdx) continue;
    const freeGold = new Set(goldIdx);
    const waiting: number[] = [];
    for (const p of predIdx) {
      const exact = goldIdx.find((g) => freeGold.has(g) && sameSpans(gold[g].spans, pred[p].spans));
      if (exact === undefined) {
        waiting.push(p);
      } else {
        freeGold.delete(exact);
        goldMatched[exact] = predMatched[p] = true;
        tp++;
      }
    }
    for (const p of waiting) {
      const next = goldIdx.find((g) => freeGold.has(g));
      if (next === undefined) break;
      freeGold.delete(next);
      goldMatched[next] = predMatched[p] = true;
      tp++;
    }
  }
  return { tp, fp: pred.length - tp, fn: gold.length - tp, goldMatched, predMatched };
}

function sameSpans(a: readonly Span[], b: readonly Span[]): boolean {
  return a.length === b.length && a.every(([s, e], i) => s === b[i][0] && e === b[i][1]);
}
