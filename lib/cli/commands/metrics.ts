/** `mfner score` (one gold file against one prediction file) and `mfner report` (a results directory). */
import { Command, InvalidArgumentError, Option } from 'commander';
import {
  prf,
  readGoldJsonl,
  readPredictionJsonl,
  scoreDocuments,
  subsetRecall,
  type Counts,
  type MatchMode,
  type ScoreSet,
} from '../../metrics/index.ts';
import { writeReport } from '../../report/index.ts';
import { printJson } from '../util.ts';

function intOption(name: string, min: number) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}`);
    return n;
  };
}

function withRatios(c: Counts) {
  return { ...c, ...prf(c) };
}

export function scoreSummary(s: ScoreSet) {
  const complex = Object.fromEntries(
    (['nested', 'discontinuous', 'simple'] as const).map((k) => [k, { ...s.complex[k], recall: subsetRecall(s.complex[k]) }]),
  );
  return {
    mode: s.mode,
    documents: s.documents.length,
    micro: withRatios(s.counts),
    perType: Object.fromEntries(Object.entries(s.perType).map(([k, c]) => [k, withRatios(c)])),
    complex,
  };
}

function scoreText(s: ScoreSet): string {
  const rows = [...Object.entries(s.perType), ['micro', s.counts] as const];
  const width = Math.max(5, ...rows.map(([k]) => k.length));
  const line = (k: string, c: Counts) => {
    const r = prf(c);
    return `${k.padEnd(width)}  ${r.precision.toFixed(4)}  ${r.recall.toFixed(4)}  ${r.f1.toFixed(4)}  ${String(c.tp).padStart(6)} ${String(c.fp).padStart(6)} ${String(c.fn).padStart(6)}`;
  };
  const out = [`${'type'.padEnd(width)}  P       R       F1          tp     fp     fn`, ...rows.map(([k, c]) => line(k, c))];
  out.push('', `matching: ${s.mode}; ${s.documents.length} documents`);
  for (const k of ['nested', 'discontinuous', 'simple'] as const) {
    const r = s.complex[k];
    out.push(`recall on ${k} gold entities: ${r.gold === 0 ? '–' : subsetRecall(r).toFixed(4)} (${r.found}/${r.gold})`);
  }
  return `${out.join('\n')}\n`;
}

export function register(program: Command): void {
  program
    .command('score')
    .description('Score predictions against gold (JSONL, code-point offsets): per-type and micro P/R/F1, complex-entity recall.')
    .requiredOption('--gold <file>', 'gold JSONL: {"id","text","entities":[{"type","spans":[[s,e],…]}]}')
    .requiredOption('--pred <file>', 'predictions JSONL, same ids; an entity with "spans": [] is ungrounded and needs "text"')
    .addOption(new Option('--mode <mode>', 'matching mode').choices(['text', 'strict']).default('text'))
    .option('--json', 'print one JSON object')
    .addHelpText('after', `
The gold file can be mfner corpus sample's output and the prediction file mfner extract's
(records are matched by id; a document without a record, or with an error record, has no prediction).

Examples:
  mfner score --gold test.jsonl --pred pred.jsonl
  mfner score --gold test.jsonl --pred pred.jsonl --mode strict --json`)
    .action((opts: { gold: string; pred: string; mode: MatchMode; json?: boolean }) => {
      const gold = readGoldJsonl(opts.gold);
      const pred = readPredictionJsonl(opts.pred, gold);
      const s = scoreDocuments(gold, pred, opts.mode);
      if (opts.json) printJson(scoreSummary(s));
      else process.stdout.write(scoreText(s));
    });

  program
    .command('report')
    .description('Tables 2–7 (Markdown, CSV, JSON), answer health, span shifts, paired bootstrap and SVG plots from a results directory.')
    .argument('<results-dir>', 'directory with runs/…/draw-<k>.json files')
    .option('--out <dir>', 'where to write (default: <results-dir>/report)')
    .addOption(new Option('--mode <mode>', 'matching mode').choices(['text', 'strict']).default('text'))
    .option('--table6-format <format>', 'the format Table 6 breaks down', 'multi_triple')
    .option('--bootstrap-iterations <n>', 'paired bootstrap resamples', intOption('--bootstrap-iterations', 1), 1000)
    .option('--seed <n>', 'bootstrap seed', intOption('--seed', 0), 1)
    .option('--no-plots', 'skip the SVG plots')
    .option('--json', 'print the files written as a JSON list')
    .addHelpText('after', `
Examples:
  mfner report results/
  mfner report study/ --mode strict --out study/report-strict --no-plots`)
    .action(
      async (
        dir: string,
        opts: { out?: string; mode: MatchMode; table6Format: string; bootstrapIterations: number; seed: number; plots: boolean; json?: boolean },
      ) => {
        const { files } = await writeReport(dir, {
          outDir: opts.out,
          mode: opts.mode,
          table6Format: opts.table6Format,
          bootstrap: { iterations: opts.bootstrapIterations, seed: opts.seed },
          plots: opts.plots,
        });
        if (opts.json) printJson(files);
        else process.stdout.write(`${files.join('\n')}\n`);
      },
    );
}
