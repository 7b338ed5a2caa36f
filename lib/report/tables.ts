/**
 * The paper's Tables 2–7, laid out as the paper lays them out, filled from a results
 * directory. Where the paper leaves a choice open, the choice is stated in the caption.
 */
import { paperBaseline, PAPER_TABLE5_SOURCE } from './paper-baselines.ts';
import {
  compareConfigurations,
  configGroup,
  discontinuousDatasets,
  distinct,
  ONLY_PREFIX,
  summarizeComplex,
  summarizePrf,
} from './aggregate.ts';
import type { MatchMode } from '../metrics/types.ts';
import type { RunFile } from './run-file.ts';
import type { Cell, Column, ReportTable } from './table.ts';

export interface TableOptions {
  mode: MatchMode;
  /** The format Table 6 breaks down (the paper: multi_triple). */
  table6Format: string;
}

const where = (runs: readonly RunFile[], p: (r: RunFile) => boolean) => runs.filter(p);

function modeNote(mode: MatchMode): string {
  return `Micro scores (${mode} matching), mean (±sample std) over draws.`;
}

export function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

/** Table 2: P, R, F1 per configuration (rows) and model, micro over every dataset and format. */
export function table2(runs: readonly RunFile[], o: TableOptions): ReportTable {
  const models = distinct(runs.map((r) => r.model));
  const configs = distinct(runs.map((r) => r.configuration), compareConfigurations);
  const columns: Column[] = [{ key: 'configuration', label: 'Configuration' }];
  for (const m of models) for (const s of ['P', 'R', 'F1']) columns.push({ key: `${m}|${s}`, label: `${m} ${s}` });
  const rows = configs.map((c) => {
    const row: Record<string, Cell> = { configuration: c };
    for (const m of models) {
      const s = summarizePrf(where(runs, (r) => r.model === m && r.configuration === c), o.mode);
      row[`${m}|P`] = s?.precision ?? null;
      row[`${m}|R`] = s?.recall ?? null;
      row[`${m}|F1`] = s?.f1 ?? null;
    }
    return row;
  });
  return {
    id: 'table2',
    title: 'Table 2: precision, recall and F1 per model and configuration',
    caption: `${modeNote(o.mode)} Each cell pools every dataset and every format tested in the configuration.`,
    columns,
    rows,
  };
}

function formatByGroupTable(runs: readonly RunFile[], o: TableOptions, id: string, title: string, caption: string): ReportTable {
  const models = distinct(runs.map((r) => r.model));
  const groups = distinct(runs.map((r) => configGroup(r.configuration)), compareConfigurations);
  const formats = distinct(runs.map((r) => r.format));
  const columns: Column[] = [{ key: 'format', label: 'Format' }];
  for (const m of models) for (const g of groups) columns.push({ key: `${m}|${g}`, label: `${m} ${g}` });
  const rows = formats.map((f) => {
    const row: Record<string, Cell> = { format: f };
    for (const m of models) {
      for (const g of groups) {
        const sel = where(runs, (r) =>
          r.model === m && r.format === f && (g === 'only' ? r.configuration === `${ONLY_PREFIX}${f}` : r.configuration === g),
        );
        row[`${m}|${g}`] = summarizePrf(sel, o.mode)?.f1 ?? null;
      }
    }
    return row;
  });
  return { id, title, caption, columns, rows };
}

/** Table 3: F1 per format (rows), model and configuration, micro over datasets. */
export function table3(runs: readonly RunFile[], o: TableOptions): ReportTable {
  return formatByGroupTable(
    runs,
    o,
    'table3',
    'Table 3: F1 per format, model and training configuration',
    `${modeNote(o.mode)} Micro over datasets. Column "only" is the format trained alone (configuration only:<format>).`,
  );
}

/** Table 4: as Table 3, on the datasets without discontinuous entities only. */
export function table4(runs: readonly RunFile[], o: TableOptions): ReportTable {
  const excluded = discontinuousDatasets(runs);
  const kept = where(runs, (r) => !excluded.has(r.dataset));
  const t = formatByGroupTable(
    kept,
    o,
    'table4',
    'Table 4: F1 per format without the datasets that have discontinuous entities',
    `${modeNote(o.mode)} Left out (a discontinuous gold entity in some run): ${
      excluded.size > 0 ? distinct(excluded).join(', ') : 'none'
    }.`,
  );
  return t;
}

/** Table 5: F1 per dataset for each configuration of one model, beside the paper's baselines. */
export function table5(runs: readonly RunFile[], o: TableOptions): ReportTable[] {
  const models = distinct(runs.map((r) => r.model));
  return models.map((m) => {
    const mine = where(runs, (r) => r.model === m);
    const configs = distinct(mine.map((r) => r.configuration), compareConfigurations);
    const datasets = distinct(mine.map((r) => r.dataset));
    const columns: Column[] = [{ key: 'dataset', label: 'Dataset' }];
    for (const c of configs) columns.push({ key: `ours|${c}`, label: c });
    const paperColumns: Array<[string, string]> = [
      ['ours7best', 'paper 7best'],
      ['oursConvTerm', 'paper conv_term'],
      ['base', 'Base (sup.)'],
      ['uie', 'UIE (sup.)'],
      ['uninerSupervised', 'UniNER (sup.)'],
      ['uninerZeroShot', 'UniNER (zero-shot)'],
      ['gliner', 'GLiNER (zero-shot)'],
    ];
    for (const [k, label] of paperColumns) columns.push({ key: `paper|${k}`, label });
    const rows = datasets.map((d) => {
      const row: Record<string, Cell> = { dataset: d };
      for (const c of configs) {
        row[`ours|${c}`] = summarizePrf(where(mine, (r) => r.dataset === d && r.configuration === c), o.mode)?.f1 ?? null;
      }
      const base = paperBaseline(d);
      for (const [k] of paperColumns) row[`paper|${k}`] = base ? (base[k as keyof typeof base] as number | null) : null;
      return row;
    });
    return {
      id: `table5-${slug(m)}`,
      title: `Table 5: F1 per dataset, ${m}, beside the paper's results and baselines`,
      caption: `${modeNote(o.mode)} Our columns pool every format tested in the configuration. Paper columns: ${PAPER_TABLE5_SOURCE}, matched by dataset name.`,
      columns,
      rows,
    };
  });
}

/** Table 6: P, R, F1 of one format per dataset and configuration (rows) and model. */
export function table6(runs: readonly RunFile[], o: TableOptions): ReportTable {
  const sel = where(runs, (r) => r.format === o.table6Format);
  const models = distinct(runs.map((r) => r.model));
  const columns: Column[] = [
    { key: 'dataset', label: 'Dataset' },
    { key: 'configuration', label: 'Configuration' },
  ];
  for (const m of models) for (const s of ['P', 'R', 'F1']) columns.push({ key: `${m}|${s}`, label: `${m} ${s}` });
  const rows: Array<Record<string, Cell>> = [];
  for (const d of distinct(sel.map((r) => r.dataset))) {
    for (const c of distinct(where(sel, (r) => r.dataset === d).map((r) => r.configuration), compareConfigurations)) {
      const row: Record<string, Cell> = { dataset: d, configuration: c };
      for (const m of models) {
        const s = summarizePrf(where(sel, (r) => r.model === m && r.dataset === d && r.configuration === c), o.mode);
        row[`${m}|P`] = s?.precision ?? null;
        row[`${m}|R`] = s?.recall ?? null;
        row[`${m}|F1`] = s?.f1 ?? null;
      }
      rows.push(row);
    }
  }
  return {
    id: 'table6',
    title: `Table 6: precision, recall and F1 of ${o.table6Format} per dataset and configuration`,
    caption: `${modeNote(o.mode)}${rows.length === 0 ? ` No run of ${o.table6Format} in these results.` : ''}`,
    columns,
    rows,
  };
}

/** Table 7: recall(simple) − recall(nested / discontinuous) per configuration and format. */
export function table7(runs: readonly RunFile[], o: TableOptions): ReportTable {
  const models = distinct(runs.map((r) => r.model));
  const columns: Column[] = [
    { key: 'configuration', label: 'Configuration' },
    { key: 'format', label: 'Format' },
  ];
  for (const m of models) {
    columns.push({ key: `${m}|nested`, label: `${m} Δ Nested` });
    columns.push({ key: `${m}|discont`, label: `${m} Δ Discont` });
  }
  const rows: Array<Record<string, Cell>> = [];
  for (const c of distinct(runs.map((r) => r.configuration), compareConfigurations)) {
    for (const f of distinct(where(runs, (r) => r.configuration === c).map((r) => r.format))) {
      const row: Record<string, Cell> = { configuration: c, format: f };
      for (const m of models) {
        const s = summarizeComplex(where(runs, (r) => r.model === m && r.configuration === c && r.format === f), o.mode);
        row[`${m}|nested`] = s?.deltaNested ?? null;
        row[`${m}|discont`] = s?.deltaDiscontinuous ?? null;
      }
      rows.push(row);
    }
  }
  return {
    id: 'table7',
    title: 'Table 7: recall on simple gold entities minus recall on nested / discontinuous ones',
    caption: `Recall (${o.mode} matching) pooled over datasets within a draw, mean (±sample std) over draws; lower is better. A dash: no such gold entity in the runs. Precision is not defined on a gold-side subset.`,
    columns,
    rows,
  };
}

export function paperTables(runs: readonly RunFile[], o: TableOptions): ReportTable[] {
  return [table2(runs, o), table3(runs, o), table4(runs, o), ...table5(runs, o), table6(runs, o), table7(runs, o)];
}
