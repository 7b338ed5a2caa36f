/** Tables beyond the paper's: answer health, span shifts, and paired bootstrap between formats. */
import { pairedBootstrap, type PairedUnit } from '../metrics/bootstrap.ts';
import { emptyHealth, healthShares, mergeHealth } from '../metrics/health.ts';
import { emptyShiftHistogram, mergeShiftHistograms, type ShiftHistogram } from '../metrics/span-shift.ts';
import { DEFAULT_MAX_SHIFT } from '../metrics/span-shift.ts';
import type { Counts, MatchMode } from '../metrics/types.ts';
import { compareConfigurations, distinct, summarizePrf } from './aggregate.ts';
import type { RunFile } from './run-file.ts';
import type { Cell, Column, ReportTable } from './table.ts';

/** Formats whose answers carry character offsets. */
export const SPAN_FORMATS = ['single_span', 'multi_span', 'multi_brat'];

export function healthTable(runs: readonly RunFile[]): ReportTable {
  const models = distinct(runs.map((r) => r.model));
  const columns: Column[] = [{ key: 'format', label: 'Format' }];
  for (const m of models) {
    columns.push({ key: `${m}|answers`, label: `${m} answers`, digits: 0 });
    columns.push({ key: `${m}|problems`, label: `${m} with problems` });
    columns.push({ key: `${m}|ungrounded`, label: `${m} ungrounded` });
  }
  const rows = distinct(runs.map((r) => r.format)).map((f) => {
    const row: Record<string, Cell> = { format: f };
    for (const m of models) {
      const sel = runs.filter((r) => r.model === m && r.format === f);
      const h = emptyHealth();
      for (const r of sel) mergeHealth(h, r.scores.health);
      const shares = healthShares(h);
      row[`${m}|answers`] = sel.length > 0 ? h.answers : null;
      row[`${m}|problems`] = sel.length > 0 ? shares.problemShare : null;
      row[`${m}|ungrounded`] = sel.length > 0 ? shares.ungroundedShare : null;
    }
    return row;
  });
  return {
    id: 'answer-health',
    title: 'Answer health per format',
    caption:
      'Pooled over configurations, datasets and draws: the share of answers with at least one parse problem, and the share of predicted entities not grounded in the text.',
    columns,
    rows,
  };
}

export interface ShiftRow {
  model: string;
  format: string;
  nearMisses: ShiftHistogram;
  repaired: ShiftHistogram;
}

/** Span and BRAT formats, plus any format whose parser repaired a shift. */
export function shiftRows(runs: readonly RunFile[]): ShiftRow[] {
  const out: ShiftRow[] = [];
  for (const m of distinct(runs.map((r) => r.model))) {
    for (const f of distinct(runs.filter((r) => r.model === m).map((r) => r.format))) {
      const sel = runs.filter((r) => r.model === m && r.format === f);
      const near = emptyShiftHistogram();
      const repaired = emptyShiftHistogram();
      for (const r of sel) {
        mergeShiftHistograms(near, r.scores.spanShifts.nearMisses);
        mergeShiftHistograms(repaired, r.scores.spanShifts.repaired);
      }
      if (SPAN_FORMATS.includes(f) || repaired.pairs > 0) out.push({ model: m, format: f, nearMisses: near, repaired });
    }
  }
  return out;
}

export function shiftTable(runs: readonly RunFile[]): ReportTable {
  const shifts: number[] = [];
  for (let s = -DEFAULT_MAX_SHIFT; s <= DEFAULT_MAX_SHIFT; s++) shifts.push(s);
  const columns: Column[] = [
    { key: 'model', label: 'Model' },
    { key: 'format', label: 'Format' },
    { key: 'what', label: 'Shift of' },
    { key: 'pairs', label: 'pairs', digits: 0 },
    ...shifts.map((s) => ({ key: String(s), label: s > 0 ? `+${s}` : String(s), digits: 0 })),
  ];
  const rows: Array<Record<string, Cell>> = [];
  for (const r of shiftRows(runs)) {
    for (const [source, h] of [['near miss', r.nearMisses], ['parser repaired', r.repaired]] as const) {
      // formats whose parser never moves offsets would only add rows of zeros
      if (source === 'parser repaired' && r.format !== 'multi_brat' && h.pairs === 0) continue;
      for (const side of ['start', 'end'] as const) {
        const row: Record<string, Cell> = { model: r.model, format: r.format, what: `${side} (${source})`, pairs: h.pairs };
        for (const s of shifts) row[String(s)] = h[side][s] ?? 0;
        rows.push(row);
      }
    }
  }
  return {
    id: 'span-shifts',
    title: 'Span shifts of near misses (span and BRAT formats)',
    caption: `Predicted − gold offset, in code points, for predictions that miss a gold mention of the same type by at most ${DEFAULT_MAX_SHIFT} characters at each end (near miss), and for BRAT offsets the parser moved to the text it found (parser repaired); pooled over configurations, datasets and draws.`,
    columns,
    rows,
  };
}

export interface BootstrapSettings {
  iterations: number;
  seed: number;
}

function docCounts(run: RunFile, mode: MatchMode): Map<string, Counts> {
  return new Map(run.scores[mode].documents.map((d) => [`${run.dataset}\u0000${run.draw}\u0000${d.id}`, d]));
}

/**
 * For each model and configuration with two formats or more: the best format (highest mean
 * F1) against each other one, paired over the test documents both were scored on.
 */
export function bootstrapTable(runs: readonly RunFile[], mode: MatchMode, settings: BootstrapSettings): ReportTable {
  const columns: Column[] = [
    { key: 'model', label: 'Model' },
    { key: 'configuration', label: 'Configuration' },
    { key: 'a', label: 'Best format A' },
    { key: 'b', label: 'Format B' },
    { key: 'documents', label: 'documents', digits: 0 },
    { key: 'f1A', label: 'F1 A', digits: 3 },
    { key: 'f1B', label: 'F1 B', digits: 3 },
    { key: 'delta', label: 'Δ F1', digits: 3 },
    { key: 'low', label: 'CI low', digits: 3 },
    { key: 'high', label: 'CI high', digits: 3 },
    { key: 'p', label: 'p (A ≤ B)', digits: 3 },
  ];
  const rows: Array<Record<string, Cell>> = [];
  for (const m of distinct(runs.map((r) => r.model))) {
    for (const c of distinct(runs.filter((r) => r.model === m).map((r) => r.configuration), compareConfigurations)) {
      const sel = runs.filter((r) => r.model === m && r.configuration === c);
      const formats = distinct(sel.map((r) => r.format));
      if (formats.length < 2) continue;
      const meanF1 = (f: string) => summarizePrf(sel.filter((r) => r.format === f), mode)!.f1.mean;
      // ties broken by name so the choice is stable
      const best = [...formats].sort((x, y) => meanF1(y) - meanF1(x) || (x < y ? -1 : 1))[0];
      const counts = (f: string) => {
        const all = new Map<string, Counts>();
        for (const r of sel.filter((r) => r.format === f)) for (const [k, v] of docCounts(r, mode)) all.set(k, v);
        return all;
      };
      const a = counts(best);
      for (const f of formats) {
        if (f === best) continue;
        const b = counts(f);
        const units: PairedUnit[] = [];
        for (const [k, ca] of a) {
          const cb = b.get(k);
          if (cb) units.push({ a: ca, b: cb });
        }
        const row: Record<string, Cell> = { model: m, configuration: c, a: best, b: f, documents: units.length };
        if (units.length === 0) {
          for (const k of ['f1A', 'f1B', 'delta', 'low', 'high', 'p']) row[k] = null;
        } else {
          const res = pairedBootstrap(units, { iterations: settings.iterations, seed: settings.seed });
          Object.assign(row, { f1A: res.f1A, f1B: res.f1B, delta: res.delta, low: res.ci[0], high: res.ci[1], p: res.pValue });
        }
        rows.push(row);
      }
    }
  }
  return {
    id: 'bootstrap',
    title: 'Paired bootstrap: does the best format beat each other one on the same test documents?',
    caption: `Micro F1 (${mode} matching) on the documents both formats were scored on (all datasets and draws), ${settings.iterations} resamples of documents with replacement, seed ${settings.seed}; 95% percentile interval of Δ F1 = F1(A) − F1(B); one-sided p = share of resamples where A does not beat B (add-one).`,
    columns,
    rows,
  };
}
