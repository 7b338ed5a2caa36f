/**
 * Evaluation in the paper's protocol: for each dataset and draw, the draw's seeded test
 * sample; for each format of the configuration the dataset allows, extract from every test
 * document, score against gold, and write one run file into the results layout (lib/report).
 */
import path from 'node:path';
import { getFormat, type FormatName } from '../formats/index.ts';
import { loadDataset, type LoadedDataset } from '../corpus/registry.ts';
import { sampleSplit } from '../corpus/sample.ts';
import { configurationFormats, datasetAllows } from '../prompt/configurations.ts';
import { buildRun, writeRun, paperTables, tableToMarkdown, table3, type RunFile, type RunPrediction, type RunThreshold } from '../report/index.ts';
import { prf } from '../metrics/prf.ts';
import { chooseThreshold, keepConfident } from '../metrics/threshold.ts';
import type { GoldDocument } from '../metrics/types.ts';
import { alnumEdged } from '../decode/spec.ts';
import { Model } from '../native/index.ts';
import { extract, type ExtractOptions, type ExtractSummary } from './extract.ts';

export interface EvaluationOptions {
  /** A GGUF path or a loaded model (left open). */
  model: string | Model;
  adapter?: string;
  /** The model's name in the results (default: file name without .gguf, plus the adapter's). */
  modelName?: string;
  datasets: readonly string[];
  /** `all`, `7best`, `term_ner`, `only:<format>` (run files record it). */
  configuration: string;
  /** Which draws (the paper: 1, 2, 3). */
  draws: readonly number[];
  /** Test sample size (default: the paper's 300). */
  testCap?: number;
  /** Results directory. */
  out: string;
  root?: string;
  /** Keep raw answers in the run files (default true: corpora are public; answers help analysis). */
  keepAnswers?: boolean;
  extract?: Partial<Pick<ExtractOptions, 'constraint' | 'batchSize' | 'maxTokens' | 'contextSize' | 'threads' | 'chatTemplate' | 'signal'>>;
  /**
   * Also score each run with a confidence threshold chosen on the draw's dev sample
   * (lib/metrics/threshold.ts), as a second model named `<model>+dev-threshold`.
   */
  devThreshold?: boolean;
  /** Dev sample size for the threshold (default the paper's 200). */
  devCap?: number;
  onNote?: (note: string) => void;
  onProgress?: (p: { run: number; runs: number; dataset: string; format: string; draw: number; elapsedMs: number }) => void;
}

export interface EvaluatedRun {
  run: RunFile;
  file: string;
  summary: { model: string; dataset: string; format: string; draw: number; file: string; f1: number; precision: number; recall: number; documents: number; errors: number; seconds: number; constraint: string };
}

/** One run of the plan: a dataset, a format, a draw, and the dataset's constraint rules. */
interface PlannedRun {
  data: LoadedDataset;
  format: FormatName;
  draw: number;
  textOrder: boolean;
  alnumEdges: boolean;
}

/** Whether any document of the dataset has a nested mention (then items may overlap). */
function hasNested(data: LoadedDataset): boolean {
  return Object.values(data.splits).some((docs) => docs.some((d) => d.entities.some((e) => e.nested)));
}

/**
 * Whether (nearly) every training mention starts with a letter or digit and ends with one: then
 * the constraint may demand it (5,129 of NCBI-disease's 5,134, 9,360 of BC5CDR's 9,385). Gold
 * of the test split is not looked at.
 */
export function hasAlnumEdges(data: LoadedDataset, share = 0.99): boolean {
  let all = 0;
  let edged = 0;
  for (const d of data.splits.train) {
    for (const e of d.entities) {
      for (const [s, end] of e.spans) {
        all++;
        if (alnumEdged(d.text.slice(s, end))) edged++;
      }
    }
  }
  return all > 0 && edged >= share * all;
}

/** What `devThreshold` appends to the model name of the filtered runs. */
export const DEV_THRESHOLD_SUFFIX = '+dev-threshold';

export function modelNameOf(model: string | Model, adapter?: string): string {
  const file = typeof model === 'string' ? model : model.path;
  const base = path.basename(file).replace(/\.gguf$/iu, '');
  return adapter ? `${base}+${path.basename(adapter).replace(/\.gguf$/iu, '')}` : base;
}

export async function runEvaluation(options: EvaluationOptions): Promise<EvaluatedRun[]> {
  const started = Date.now();
  const model = typeof options.model === 'string' ? await Model.load(options.model) : options.model;
  const name = options.modelName ?? modelNameOf(options.model, options.adapter);
  const notes = new Set<string>();
  const note = (n: string) => {
    if (notes.has(n)) return;
    notes.add(n);
    options.onNote?.(n);
  };
  try {
    const loaded: LoadedDataset[] = [];
    for (const d of options.datasets) loaded.push(await loadDataset(d, { root: options.root }));
    const plan: PlannedRun[] = [];
    for (const data of loaded) {
      const formats = configurationFormats(options.configuration).filter((f) => datasetAllows(getFormat(f), data.hasDiscontinuous));
      // Listing 1 asks for mentions in text order; nested ones may overlap.
      const textOrder = !hasNested(data);
      const alnumEdges = hasAlnumEdges(data);
      for (const draw of options.draws) for (const format of formats) plan.push({ data, format, draw, textOrder, alnumEdges });
    }
    // Extraction of one sample: predictions in gold order, failed documents counted.
    const predict = async (gold: readonly GoldDocument[], { data, format, textOrder, alnumEdges }: PlannedRun) => {
      const predictions: RunPrediction[] = [];
      const summary: ExtractSummary = { constraint: 'none', notes: [] };
      let errors = 0;
      const docs = gold.map((g) => ({ id: g.id, text: g.text }));
      for await (const r of extract(
        docs,
        {
          ...options.extract,
          model,
          adapter: options.adapter,
          format,
          types: data.spec.labels,
          guideline: data.spec.guidelineName,
          textOrder,
          alnumEdges,
          keepAnswers: options.keepAnswers ?? true,
          onNote: note,
        },
        summary,
      )) {
        if (r.error) {
          errors++;
          predictions.push({ id: r.id, entities: [], answers: [{ problems: [{ kind: 'no-answer', message: `extraction failed: ${r.error.code}` }] }] });
          continue;
        }
        predictions.push({
          id: r.id,
          entities: r.entities,
          answers: r.answers.map((a) => (a.text === undefined ? { problems: a.problems } : { problems: a.problems, raw: a.text })),
        });
      }
      return { predictions, summary, errors };
    };
    const out: EvaluatedRun[] = [];
    const record = (run: RunFile, started: number, errors: number, constraint: string) => {
      const file = writeRun(options.out, run);
      const score = prf(run.scores.text.counts);
      out.push({ run, file, summary: { model: run.model, dataset: run.dataset, format: run.format, draw: run.draw, file, ...score, documents: run.scores.gold.documents, errors, seconds: (Date.now() - started) / 1000, constraint } });
    };
    for (const [i, planned] of plan.entries()) {
      const { data, format, draw } = planned;
      const runStarted = Date.now();
      options.onProgress?.({ run: i + 1, runs: plan.length, dataset: data.spec.name, format, draw, elapsedMs: runStarted - started });
      // The threshold is chosen on the draw's dev sample before the test sample is decoded.
      let threshold: RunThreshold | undefined;
      if (options.devThreshold) {
        const devGold = sampleSplit(data.splits.dev, data.spec.name, 'dev', draw, options.devCap ?? 200);
        if (devGold.length === 0) note(`${data.spec.name} has no dev documents: no confidence threshold for its runs`);
        else {
          const choice = chooseThreshold(devGold, (await predict(devGold, planned)).predictions);
          threshold = { minConfidence: choice.minConfidence, devDocuments: devGold.length, dev: choice.counts, devUnfiltered: choice.unfiltered };
        }
      }
      const gold = sampleSplit(data.splits.test, data.spec.name, 'test', draw, options.testCap);
      const { predictions, summary, errors } = await predict(gold, planned);
      const identity = { configuration: options.configuration, dataset: data.spec.name, format, draw, gold };
      record(buildRun({ ...identity, model: name, predictions }), runStarted, errors, summary.constraint);
      if (threshold) {
        const run = buildRun({ ...identity, model: `${name}${DEV_THRESHOLD_SUFFIX}`, predictions: keepConfident(predictions, threshold.minConfidence) });
        run.threshold = threshold;
        record(run, runStarted, errors, summary.constraint);
      }
    }
    return out;
  } finally {
    if (typeof options.model === 'string') await model.dispose();
  }
}

/** The paper-style table of what was just evaluated: F1 per format (Table 3) and per dataset (Table 5). */
export function evaluationTable(runs: readonly RunFile[]): string {
  if (runs.length === 0) return 'no runs\n';
  const o = { mode: 'text' as const, table6Format: 'multi_triple' };
  const tables = [table3(runs, o), ...paperTables(runs, o).filter((t) => t.id.startsWith('table5'))];
  return `${tables.map(tableToMarkdown).join('\n')}`;
}
