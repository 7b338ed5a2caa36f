/**
 * The paper's protocol as one command: for each model, configuration and draw — sample the
 * training data, train, evaluate every format of the configuration on the draw's test sample,
 * then report (Tables 2–7 and plots). `smoke` runs the same code paths with tiny samples on a
 * made tiny model; `paper` is the real study.
 *
 * Training is not wired in yet (lib/train, issue 7, is being built): the train step says so
 * and is skipped; smoke then evaluates the untrained model, which checks the pipeline, not the
 * paper's numbers. `paper` refuses to run without training rather than report base-model
 * scores under training configurations.
 */
import { existsSync } from 'node:fs';
import { madeModelPath, MfnerError, Model, type MadeArchitecture } from '../native/index.ts';
import { prepareExamples } from '../prompt/prepare.ts';
import { CONFIGURATION_NAMES } from '../prompt/configurations.ts';
import { DATASET_NAMES } from '../corpus/registry.ts';
import { writeReport } from '../report/index.ts';
import { runEvaluation, evaluationTable, modelNameOf, type EvaluatedRun } from './evaluate.ts';

export type Scale = 'paper' | 'smoke';

export interface ScalePlan {
  configurations: string[];
  datasets: string[];
  draws: number[];
  trainCap?: number;
  testCap?: number;
  maxTokens: number;
  batchSize: number;
}

export const SCALES: Record<Scale, ScalePlan> = {
  smoke: { configurations: ['term_ner'], datasets: ['NCBI-disease', 'BC5CDR'], draws: [1], trainCap: 16, testCap: 4, maxTokens: 32, batchSize: 4 },
  paper: {
    configurations: [...CONFIGURATION_NAMES],
    datasets: [...DATASET_NAMES],
    draws: [1, 2, 3],
    maxTokens: 512,
    batchSize: 8,
  },
};

export const TRAIN_PENDING = 'training is not wired in yet (lib/train, issue 7): the train step is skipped';

export interface ReproduceOptions {
  /** GGUF paths or `made:<arch>-tiny`. Default for smoke: made:qwen2-tiny. */
  models?: readonly string[];
  out: string;
  scale: Scale;
  datasets?: readonly string[];
  configurations?: readonly string[];
  threads?: number;
  root?: string;
  signal?: AbortSignal;
  log?: (line: string) => void;
  onProgress?: (text: string) => void;
}

export interface ReproduceSummary {
  scale: Scale;
  models: string[];
  steps: { model: string; configuration: string; draw: number; sampled: Record<string, number>; train: 'skipped'; runs: EvaluatedRun['summary'][] }[];
  notes: string[];
  reportFiles: string[];
  table: string;
  seconds: number;
}

async function resolveModel(spec: string): Promise<string> {
  const made = /^made:(qwen2|llama)-tiny$/u.exec(spec);
  if (made) return madeModelPath(made[1] as MadeArchitecture, 'tiny');
  if (!existsSync(spec)) throw new MfnerError('ERR_MODEL_MISSING', `model file not found: ${spec}`);
  return spec;
}

export async function runReproduce(options: ReproduceOptions): Promise<ReproduceSummary> {
  const started = Date.now();
  const plan = SCALES[options.scale];
  if (!plan) throw new MfnerError('ERR_INVALID_ARG', `unknown scale ${JSON.stringify(options.scale)} (paper, smoke)`);
  if (options.scale === 'paper') {
    throw new MfnerError('ERR_TRAIN_UNAVAILABLE', `--scale paper needs training, and ${TRAIN_PENDING}; use mfner eval to evaluate a model as it is`);
  }
  const log = options.log ?? (() => {});
  const notes: string[] = [TRAIN_PENDING];
  const datasets = [...(options.datasets ?? plan.datasets)];
  const configurations = [...(options.configurations ?? plan.configurations)];
  const modelSpecs = [...(options.models ?? ['made:qwen2-tiny'])];
  const summary: ReproduceSummary = { scale: options.scale, models: [], steps: [], notes, reportFiles: [], table: '', seconds: 0 };
  const allRuns: EvaluatedRun['run'][] = [];

  for (const spec of modelSpecs) {
    const file = await resolveModel(spec);
    const name = modelNameOf(file);
    summary.models.push(name);
    const model = await Model.load(file);
    try {
      for (const configuration of configurations) {
        for (const draw of plan.draws) {
          // 1. Sample: the training examples this configuration and draw would train on.
          const sampled: Record<string, number> = {};
          for (const d of datasets) {
            const prepared = await prepareExamples(d, { configuration, split: 'train', draw, cap: plan.trainCap, root: options.root });
            sampled[d] = prepared.examples.length;
          }
          log(`${name} ${configuration} draw ${draw}: sampled ${Object.entries(sampled).map(([d, n]) => `${d} ${n}`).join(', ')} training examples`);
          // 2. Train.
          log(`${name} ${configuration} draw ${draw}: ${TRAIN_PENDING}`);
          // 3. Evaluate.
          const runs = await runEvaluation({
            model,
            modelName: name,
            datasets,
            configuration,
            draws: [draw],
            testCap: plan.testCap,
            out: options.out,
            root: options.root,
            extract: { maxTokens: plan.maxTokens, batchSize: plan.batchSize, threads: options.threads, signal: options.signal },
            onNote: (n) => {
              if (!notes.includes(n)) {
                notes.push(n);
                log(`note: ${n}`);
              }
            },
            onProgress: (p) => options.onProgress?.(`reproduce: ${name} ${configuration} draw ${draw}: run ${p.run}/${p.runs} ${p.dataset} ${p.format}`),
          });
          allRuns.push(...runs.map((r) => r.run));
          summary.steps.push({ model: name, configuration, draw, sampled, train: 'skipped', runs: runs.map((r) => r.summary) });
        }
      }
    } finally {
      await model.dispose();
    }
  }
  // 4. Report.
  const written = await writeReport(options.out);
  summary.reportFiles = written.files;
  summary.table = evaluationTable(allRuns);
  summary.seconds = (Date.now() - started) / 1000;
  return summary;
}
