/**
 * From runs to table cells. A cell selects runs (say: one model, one configuration, every
 * dataset and format); within each draw the selected runs' counts are summed into one micro
 * score, and the cell reports the mean and sample deviation of those per-draw scores, as the
 * paper reports "mean (±std) over the 3 draws".
 */
import { summarizeDraws, type DrawSummary } from '../metrics/draws.ts';
import { addCounts, prf, subsetRecall, zeroCounts } from '../metrics/prf.ts';
import { emptyComplex, mergeComplex } from '../metrics/score.ts';
import type { ComplexRecall, Counts, MatchMode } from '../metrics/types.ts';
import type { RunFile } from './run-file.ts';

export interface PrfSummary {
  precision: DrawSummary;
  recall: DrawSummary;
  f1: DrawSummary;
}

function byDraw(runs: readonly RunFile[]): Map<number, RunFile[]> {
  const m = new Map<number, RunFile[]>();
  for (const r of runs) {
    const list = m.get(r.draw);
    if (list) list.push(r);
    else m.set(r.draw, [r]);
  }
  return new Map([...m].sort(([a], [b]) => a - b));
}

export function microCounts(runs: readonly RunFile[], mode: MatchMode): Counts {
  const c = zeroCounts();
  for (const r of runs) addCounts(c, r.scores[mode].counts);
  return c;
}

/** Undefined when no run is selected (the table shows a dash). */
export function summarizePrf(runs: readonly RunFile[], mode: MatchMode): PrfSummary | undefined {
  if (runs.length === 0) return undefined;
  const perDraw = [...byDraw(runs).values()].map((rs) => prf(microCounts(rs, mode)));
  return {
    precision: summarizeDraws(perDraw.map((s) => s.precision)),
    recall: summarizeDraws(perDraw.map((s) => s.recall)),
    f1: summarizeDraws(perDraw.map((s) => s.f1)),
  };
}

export interface ComplexSummary {
  /** recall(simple) − recall(nested), over the draws that have nested gold entities. */
  deltaNested?: DrawSummary;
  deltaDiscontinuous?: DrawSummary;
  /** Pooled over all draws, for the JSON report. */
  pooled: ComplexRecall;
}

export function summarizeComplex(runs: readonly RunFile[], mode: MatchMode): ComplexSummary | undefined {
  if (runs.length === 0) return undefined;
  const pooled = emptyComplex();
  const nested: number[] = [];
  const disc: number[] = [];
  for (const rs of byDraw(runs).values()) {
    const c = emptyComplex();
    for (const r of rs) mergeComplex(c, r.scores[mode].complex);
    mergeComplex(pooled, c);
    const simple = subsetRecall(c.simple);
    if (c.nested.gold > 0) nested.push(simple - subsetRecall(c.nested));
    if (c.discontinuous.gold > 0) disc.push(simple - subsetRecall(c.discontinuous));
  }
  return {
    deltaNested: nested.length > 0 ? summarizeDraws(nested) : undefined,
    deltaDiscontinuous: disc.length > 0 ? summarizeDraws(disc) : undefined,
    pooled,
  };
}

/** Datasets that have a discontinuous gold entity in any run (the paper's Table 4 leaves them out). */
export function discontinuousDatasets(runs: readonly RunFile[]): Set<string> {
  return new Set(runs.filter((r) => r.scores.gold.discontinuous > 0).map((r) => r.dataset));
}

const CONFIG_ORDER = ['all', '7best', 'term_ner'];

/** all, 7best, term_ner, then only:<format> and any others, alphabetically. */
export function compareConfigurations(a: string, b: string): number {
  const ia = CONFIG_ORDER.indexOf(a);
  const ib = CONFIG_ORDER.indexOf(b);
  if (ia >= 0 || ib >= 0) return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib);
  return a < b ? -1 : a > b ? 1 : 0;
}

export function distinct(values: Iterable<string>, compare?: (a: string, b: string) => number): string[] {
  return [...new Set(values)].sort(compare ?? ((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : a.toLowerCase() > b.toLowerCase() ? 1 : a < b ? -1 : a > b ? 1 : 0)));
}

export const ONLY_PREFIX = 'only:';

/** The paper's "only" column: a format trained alone, i.e. configuration `only:<format>`. */
export function configGroup(configuration: string): string {
  return configuration.startsWith(ONLY_PREFIX) ? 'only' : configuration;
}
