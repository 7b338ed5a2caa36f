/**
 * A confidence threshold chosen on held-out data the test never sees (a dev sample): the
 * predictions of a run keep the entities whose confidence (lib/pipeline/confidence.ts) is at
 * least the threshold. Greedy decoding writes every mention whose words it prefers, however
 * weakly; a small model trained for minutes writes many such mentions, and dropping the weakest
 * trades recall for precision where that raises F1.
 */
import type { Entity } from '../formats/entity.ts';
import { prf } from './prf.ts';
import { scoreDocuments } from './score.ts';
import type { Counts, GoldDocument, MatchMode } from './types.ts';

/** An entity as extraction gives it: a confidence in (0, 1], or none (then it is always kept). */
export type ScoredEntity = Entity & { confidence?: number };

export interface ConfidentDocument {
  id: string;
  entities: ScoredEntity[];
}

export interface ThresholdChoice {
  /** Keep entities with confidence >= this (0 keeps every entity). */
  minConfidence: number;
  /** Counts on the calibration data at that threshold, and with every entity kept. */
  counts: Counts;
  unfiltered: Counts;
  /** How many thresholds were tried (0 and each distinct confidence). */
  candidates: number;
}

/** The documents' entities with confidence >= `minConfidence` (those without one are kept). */
export function keepConfident<D extends ConfidentDocument>(docs: readonly D[], minConfidence: number): D[] {
  return docs.map((d) => ({ ...d, entities: d.entities.filter((e) => e.confidence === undefined || e.confidence >= minConfidence) }));
}

/**
 * The threshold with the best micro F1 on `gold` (every distinct confidence is tried, and 0). Ties
 * go to the lower threshold, which drops less: with no gain on the calibration data nothing is
 * dropped.
 */
export function chooseThreshold(gold: readonly GoldDocument[], pred: readonly ConfidentDocument[], mode: MatchMode = 'text'): ThresholdChoice {
  const values = [...new Set(pred.flatMap((d) => d.entities.flatMap((e) => (e.confidence === undefined ? [] : [e.confidence]))))].sort((a, b) => a - b);
  const unfiltered = scoreDocuments(gold, pred, mode).counts;
  let best: ThresholdChoice = { minConfidence: 0, counts: unfiltered, unfiltered, candidates: values.length + 1 };
  let bestF1 = prf(unfiltered).f1;
  for (const v of values) {
    const counts = scoreDocuments(gold, keepConfident(pred, v), mode).counts;
    const f1 = prf(counts).f1;
    if (f1 > bestF1) {
      bestF1 = f1;
      best = { ...best, minConfidence: v, counts };
    }
  }
  return best;
}
