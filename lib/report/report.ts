import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { MatchMode } from '../metrics/types.ts';
import { bootstrapTable, healthTable, shiftTable, type BootstrapSettings } from './analysis-tables.ts';
import { compareConfigurations, distinct } from './aggregate.ts';
import { f1ByFormatSpec, healthSpec, renderSvg, spanShiftSpec } from './plots.ts';
import { readResults } from './results-dir.ts';
import type { RunFile } from './run-file.ts';
import { tableToCsv, tableToMarkdown } from './render-table.ts';
import type { ReportTable } from './table.ts';
import { paperTables } from './tables.ts';

export interface ReportOptions {
  mode?: MatchMode;
  table6Format?: string;
  bootstrap?: Partial<BootstrapSettings>;
}

export interface Report {
  mode: MatchMode;
  summary: { runs: number; models: string[]; datasets: string[]; configurations: string[]; formats: string[]; draws: number[] };
  tables: ReportTable[];
}

export function buildReport(runs: readonly RunFile[], options: ReportOptions = {}): Report {
  const mode = options.mode ?? 'text';
  const bootstrap = { iterations: options.bootstrap?.iterations ?? 1000, seed: options.bootstrap?.seed ?? 1 };
  const tables = [
    ...paperTables(runs, { mode, table6Format: options.table6Format ?? 'multi_triple' }),
    healthTable(runs),
    shiftTable(runs),
    bootstrapTable(runs, mode, bootstrap),
  ];
  return {
    mode,
    summary: {
      runs: runs.length,
      models: distinct(runs.map((r) => r.model)),
      datasets: distinct(runs.map((r) => r.dataset)),
      configurations: distinct(runs.map((r) => r.configuration), compareConfigurations),
      formats: distinct(runs.map((r) => r.format)),
      draws: [...new Set(runs.map((r) => r.draw))].sort((a, b) => a - b),
    },
    tables,
  };
}

export function reportToMarkdown(report: Report): string {
  const s = report.summary;
  const intro = [
    '# mfner report',
    '',
    `${s.runs} runs. Models: ${s.models.join(', ')}. Datasets: ${s.datasets.join(', ')}. Configurations: ${s.configurations.join(', ')}. Formats: ${s.formats.join(', ')}. Draws: ${s.draws.join(', ')}.`,
    '',
    `Matching: ${report.mode}. Scores are micro averages from summed counts; "mean (±std)" is over draws, with the sample standard deviation (n − 1); a single draw shows no ±. A dash: no run for that cell.`,
    '',
  ].join('\n');
  return [intro, ...report.tables.map(tableToMarkdown)].join('\n');
}

export interface WrittenReport {
  files: string[];
}

export interface WriteReportOptions extends ReportOptions {
  /** Default: `<results-dir>/report`. */
  outDir?: string;
  plots?: boolean;
}

/** Reads a results directory and writes report.md, report.json, one CSV per table and the SVG plots. */
export async function writeReport(resultsDir: string, options: WriteReportOptions = {}): Promise<WrittenReport> {
  const runs = readResults(resultsDir);
  if (runs.length === 0) throw new Error(`${resultsDir}: no runs to report on`);
  const report = buildReport(runs, options);
  const out = options.outDir ?? path.join(resultsDir, 'report');
  mkdirSync(out, { recursive: true });
  const files: string[] = [];
  const put = (name: string, content: string) => {
    const file = path.join(out, name);
    writeFileSync(file, content);
    files.push(file);
  };
  put('report.md', reportToMarkdown(report));
  put('report.json', `${JSON.stringify(report, null, 2)}\n`);
  for (const t of report.tables) put(`${t.id}.csv`, tableToCsv(t));
  if (options.plots !== false) {
    put('f1-by-format.svg', await renderSvg(f1ByFormatSpec(runs, report.mode)));
    put('span-shifts.svg', await renderSvg(spanShiftSpec(runs)));
    put('answer-health.svg', await renderSvg(healthSpec(runs)));
  }
  return { files };
}
