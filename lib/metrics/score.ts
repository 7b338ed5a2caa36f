import { withComplexity } from './complexity.ts';
import { matchDocument } from './match.ts';
import { addCounts, zeroCounts } from './prf.ts';
import type { ComplexRecall, Counts, GoldDocument, MatchMode, PredictedDocument } from './types.ts';

export interface DocumentCounts extends Counts {
  id: string;
}

/** Everything needed to aggregate micro scores later: counts, never ratios. */
export interface ScoreSet {
  mode: MatchMode;
  counts: Counts;
  /** Gold types and predicted types; tp and fn counted on the gold side, fp on the predicted. */
  perType: Record<string, Counts>;
  complex: ComplexRecall;
  /** Per document, in gold order: what paired bootstrap resamples. */
  documents: DocumentCounts[];
}

export function emptyComplex(): ComplexRecall {
  return { nested: { gold: 0, found: 0 }, discontinuous: { gold: 0, found: 0 }, simple: { gold: 0, found: 0 } };
}

export function mergeComplex(into: ComplexRecall, more: ComplexRecall): ComplexRecall {
  for (const k of ['nested', 'discontinuous', 'simple'] as const) {
    into[k].gold += more[k].gold;
    into[k].found += more[k].found;
  }
  return into;
}

/**
 * Pairs predictions with gold documents by id. A gold document without a prediction counts as
 * predicting nothing (every gold entity a false negative); a prediction for an unknown id is an
 * error, because it would silently drop false positives.
 */
export function pairDocuments(
  gold: readonly GoldDocument[],
  pred: readonly PredictedDocument[],
): Array<{ gold: GoldDocument; pred: PredictedDocument }> {
  const byId = new Map<string, PredictedDocument>();
  for (const p of pred) {
    if (byId.has(p.id)) throw new Error(`two predictions for document id ${JSON.stringify(p.id)}`);
    byId.set(p.id, p);
  }
  const seen = new Set<string>();
  const pairs = gold.map((g) => {
    if (seen.has(g.id)) throw new Error(`two gold documents with id ${JSON.stringify(g.id)}`);
    seen.add(g.id);
    return { gold: g, pred: byId.get(g.id) ?? { id: g.id, entities: [] } };
  });
  for (const id of byId.keys()) {
    if (!seen.has(id)) throw new Error(`prediction for document id ${JSON.stringify(id)}, which is not in the gold data`);
  }
  return pairs;
}

export function scoreDocuments(
  gold: readonly GoldDocument[],
  pred: readonly PredictedDocument[],
  mode: MatchMode = 'text',
): ScoreSet {
  const counts = zeroCounts();
  const perType: Record<string, Counts> = {};
  const complex = emptyComplex();
  const documents: DocumentCounts[] = [];
  const typeCounts = (type: string) => (perType[type] ??= zeroCounts());

  for (const pair of pairDocuments(gold, pred)) {
    const goldEntities = withComplexity(pair.gold.entities);
    const m = matchDocument(goldEntities, pair.pred.entities, mode);
    addCounts(counts, m);
    documents.push({ id: pair.gold.id, tp: m.tp, fp: m.fp, fn: m.fn });
    goldEntities.forEach((g, i) => {
      const found = m.goldMatched[i] ? 1 : 0;
      const c = typeCounts(g.type);
      c.tp += found;
      c.fn += 1 - found;
      const subsets = [];
      if (g.nested) subsets.push(complex.nested);
      if (g.discontinuous) subsets.push(complex.discontinuous);
      if (subsets.length === 0) subsets.push(complex.simple);
      for (const s of subsets) {
        s.gold++;
        s.found += found;
      }
    });
    pair.pred.entities.forEach((p, i) => {
      if (!m.predMatched[i]) typeCounts(p.type).fp++;
    });
  }
  return { mode, counts, perType: sortedRecord(perType), complex, documents };
}

function sortedRecord<T>(r: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
