/**
 * The paper's protocol as one command: for each model, configuration and draw — sample the
 * training data, train, evaluate every format of the configuration on the draw's test sample,
 * then report (Tables 2–7 and plots). `smoke` runs the same code paths with tiny samples on a
 * made tiny model; `paper` is the real study.
 *
 * Training (lib/train) runs per model, configuration and draw on that draw's train sample
 * (LoRA by default, or full), and the trained weights are evaluated. When the addon was built
 * without the trainer, smoke skips the step and says so (evaluating the base model checks the
 * pipeline, not the paper's numbers); `paper` refuses rather than report base-model scores
 * under training configurations.
 */
import { existsSync } from 'node:fs';
import { madeModelPath, MfnerError, Model, type MadeArchitecture } from '../native/index.ts';
import path from 'node:path';
import { makeCorpusModel, type CorpusModelOptions } from '../train/corpus-model.ts';
import { datasetTrainingData, hasTrainer, runTraining, PAPER_DEFAULTS, type TrainingData, type TrainRunSummary } from '../train/index.ts';
import { FALLBACK_CHAT_TEMPLATE } from './extract.ts';
import { CONFIGURATION_NAMES, configurationFormats } from '../prompt/configurations.ts';
import { DATASET_NAMES } from '../corpus/registry.ts';
import { writeReport } from '../report/index.ts';
import { runEvaluation, evaluationTable, modelNameOf, type EvaluatedRun } from './evaluate.ts';

export type Scale = 'paper' | 'cpu' | 'smoke';

export interface ScalePlan {
  configurations: string[];
  datasets: string[];
  draws: number[];
  trainCap?: number;
  testCap?: number;
  maxTokens: number;
  batchSize: number;
  /** Also score each run with a confidence threshold chosen on the dev sample (evaluate.ts `devThreshold`). */
  devThreshold?: boolean;
  /** Training: dev sample cap and the trainer's settings (unset: the paper's defaults). */
  train: {
    devCap?: number;
    maxSteps?: number;
    /** Or steps per format of the configuration (an `each:` mix of four trains four times as long). */
    stepsPerFormat?: number;
    batchSize?: number;
    accumulation?: number;
    lr?: number;
    schedule?: 'constant' | 'linear' | 'cosine';
    warmupRatio?: number;
    weightDecay?: number;
    evaluate: boolean;
    contextSize?: number;
    /** Mention-replaced copies per training document (lib/train/augment.ts; default none). */
    mentionReplacement?: number;
  };
  /** Models when --models is not given, and the fine-tuning method when --method is not. */
  defaultModels: string[];
  /** Vocabulary size of a `made:corpus` model (default corpus-model.ts's). */
  corpusVocabSize?: number;
  /** Whether a `made:corpus` vocabulary's pieces keep their following space (corpus-vocab.ts). */
  corpusTrailingSpace?: boolean;
  defaultMethod: 'lora' | 'full';
}

/**
 * Optimizer steps per format at --scale cpu (batches of 8 examples): the four formats trained
 * together take 11,600 steps, about 0.30 s each on two cores with pieces that keep their space,
 * so the run takes the hour (59 min 19 s measured, docs/training.md).
 */
const CPU_STEPS_PER_FORMAT = 2900;

/**
 * Vocabulary of the --scale cpu corpus model. 12,288 against 4,096: 90 % of the entity words of
 * NCBI-disease + BC5CDR train are one token (73 % at 4,096), and multi_term F1 rose 0.17 -> 0.20
 * (NCBI-disease) and 0.05 -> 0.14 (BC5CDR) at the same steps and wall time (docs/training.md).
 */
const CPU_VOCAB = 12288;

/** A term, a tag, a span/offset format and multi_bio, trained together. */
export const CPU_CONFIGURATION = 'each:multi_term+single_tag+multi_span+multi_bio';

export const SCALES: Record<Scale, ScalePlan> = {
  smoke: { configurations: ['term_ner'], datasets: ['NCBI-disease', 'BC5CDR'], draws: [1], trainCap: 16, testCap: 4, maxTokens: 32, batchSize: 4,
    // A few LoRA steps at a high rate: the code paths, in seconds.
    train: { devCap: 4, maxSteps: 4, batchSize: 2, accumulation: 1, lr: 1e-3, evaluate: false, contextSize: 1024 },
    defaultModels: ['made:qwen2-tiny'], defaultMethod: 'lora' },
  // The study at the size a 2-core CPU trains in about 50 minutes (docs/training.md, "--scale cpu"):
  // a model made from the corpora, fully fine-tuned per format, scored on the real test splits.
  cpu: {
    // One model for the four formats, each training sentence rendered in each (configurations.ts,
    // each:): what the formats share is learnt from all their examples (docs/training.md).
    configurations: [CPU_CONFIGURATION],
    datasets: ['NCBI-disease', 'BC5CDR'],
    draws: [1],
    testCap: 500,
    maxTokens: 256,
    batchSize: 16,
    // Each run also with a confidence threshold chosen on the dev sample (docs/pipeline.md, `mfner eval`).
    devThreshold: true,
    // lr 1e-3: at 3e-3 the same model never learnt to copy a word from the prompt (docs/training.md).
    train: { devCap: 0, stepsPerFormat: CPU_STEPS_PER_FORMAT, batchSize: 8, accumulation: 1, lr: 1e-3, schedule: 'cosine', warmupRatio: 0.05, weightDecay: 0.01, evaluate: false, contextSize: 1024 },
    defaultModels: ['made:corpus'], defaultMethod: 'full', corpusVocabSize: CPU_VOCAB, corpusTrailingSpace: true },
  paper: {
    configurations: [...CONFIGURATION_NAMES],
    datasets: [...DATASET_NAMES],
    draws: [1, 2, 3],
    maxTokens: 512,
    batchSize: 8,
    train: { evaluate: true },
    defaultModels: ['made:qwen2-tiny'],
    defaultMethod: 'lora',
  },
};

export const TRAIN_PENDING = 'this build of the addon has no trainer (lib/train): the train step is skipped';

export interface ReproduceOptions {
  /**
   * GGUF paths, `made:<arch>-tiny`, or `made:corpus` (a model with a vocabulary learnt from the
   * datasets' training text: lib/train/corpus-model.ts). Default: the scale's (cpu: made:corpus).
   */
  models?: readonly string[];
  out: string;
  scale: Scale;
  /** LoRA or full fine-tuning (needs F32 weights); default the scale's (cpu: full, else LoRA). */
  method?: 'lora' | 'full';
  /** Skip training and evaluate the models as they are (smoke only). */
  noTrain?: boolean;
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
  steps: {
    model: string;
    configuration: string;
    draw: number;
    sampled: Record<string, number>;
    train: 'skipped' | Pick<TrainRunSummary, 'method' | 'steps' | 'finalLoss' | 'bestScore' | 'skippedExamples' | 'tokensPerSecond' | 'seconds' | 'result'>;
    runs: EvaluatedRun['summary'][];
  }[];
  notes: string[];
  reportFiles: string[];
  table: string;
  seconds: number;
}

async function resolveModel(spec: string, corpus: Pick<CorpusModelOptions, 'datasets' | 'configurations' | 'root' | 'vocabSize' | 'trailingSpace'>, out: string, log: (line: string) => void): Promise<string> {
  const made = /^made:(qwen2|llama)-tiny$/u.exec(spec);
  if (made) return madeModelPath(made[1] as MadeArchitecture, 'tiny');
  if (spec === 'made:corpus') {
    const m = await makeCorpusModel({ ...corpus, dir: path.join(out, 'models') });
    log(`made:corpus: ${m.reused ? 'reused' : 'made'} ${m.path} (vocabulary ${m.vocabularySize} tokens from ${m.texts} training texts, ${m.shape.nLayer} layers x ${m.shape.nEmbd})`);
    return m.path;
  }
  if (!existsSync(spec)) throw new MfnerError('ERR_MODEL_MISSING', `model file not found: ${spec}`);
  return spec;
}

export async function runReproduce(options: ReproduceOptions): Promise<ReproduceSummary> {
  const started = Date.now();
  const plan = SCALES[options.scale];
  if (!plan) throw new MfnerError('ERR_INVALID_ARG', `unknown scale ${JSON.stringify(options.scale)} (${Object.keys(SCALES).join(', ')})`);
  const canTrain = hasTrainer();
  if (options.scale === 'paper' && (!canTrain || options.noTrain)) {
    throw new MfnerError('ERR_TRAIN_UNAVAILABLE', `--scale paper needs training${canTrain ? '' : `, and ${TRAIN_PENDING}`}; use mfner eval to evaluate a model as it is`);
  }
  const train = canTrain && !options.noTrain;
  const method = options.method ?? plan.defaultMethod;
  const log = options.log ?? (() => {});
  const notes: string[] = train ? [] : [options.noTrain ? 'training skipped (--no-train): the base models are evaluated' : TRAIN_PENDING];
  const datasets = [...(options.datasets ?? plan.datasets)];
  const configurations = [...(options.configurations ?? plan.configurations)];
  const modelSpecs = [...(options.models ?? plan.defaultModels)];
  const summary: ReproduceSummary = { scale: options.scale, models: [], steps: [], notes, reportFiles: [], table: '', seconds: 0 };
  const allRuns: EvaluatedRun['run'][] = [];

  for (const spec of modelSpecs) {
    const file = await resolveModel(spec, { datasets, configurations, root: options.root, vocabSize: plan.corpusVocabSize, trailingSpace: plan.corpusTrailingSpace }, options.out, log);
    const name = modelNameOf(file);
    summary.models.push(name);
    const model = await Model.load(file);
    try {
      for (const configuration of configurations) {
        for (const draw of plan.draws) {
          // 1. Sample: each dataset's seeded train (and dev) sample under this configuration.
          const sampled: Record<string, number> = {};
          const parts: TrainingData[] = [];
          for (const d of datasets) {
            const part = await datasetTrainingData({ datasets: [d], configuration, draw, trainCap: plan.trainCap, devCap: plan.train.devCap, mentionReplacement: train ? plan.train.mentionReplacement : undefined, root: options.root });
            sampled[d] = part.train.length;
            parts.push(part);
          }
          log(`${name} ${configuration} draw ${draw}: sampled ${Object.entries(sampled).map(([d, n]) => `${d} ${n}`).join(', ')} training examples`);
          // 2. Train.
          let trained: ReproduceSummary['steps'][number]['train'] = 'skipped';
          let evalModel: Model | string = model;
          let adapter: string | undefined;
          if (train) {
            const data: TrainingData = {
              train: parts.flatMap((p) => p.train),
              dev: parts.flatMap((p) => p.dev),
              report: { ...parts[0].report, source: `datasets ${datasets.join(',')} config ${configuration} draw ${draw}` },
            };
            const t = await runTraining({
              model: file,
              method,
              data,
              out: path.join(options.out, 'train', name, configuration, `draw-${draw}`),
              maxSteps: plan.train.maxSteps ?? (plan.train.stepsPerFormat ? plan.train.stepsPerFormat * configurationFormats(configuration).length : undefined),
              batchSize: plan.train.batchSize,
              accumulation: plan.train.accumulation,
              lr: plan.train.lr,
              schedule: plan.train.schedule,
              warmupRatio: plan.train.warmupRatio,
              weightDecay: plan.train.weightDecay,
              evaluate: plan.train.evaluate && data.dev.length > 0,
              contextSize: Math.min(plan.train.contextSize ?? PAPER_DEFAULTS.contextSize, model.metadata.contextLength || Infinity),
              threads: options.threads,
              chatTemplate: model.metadata.chatTemplate ? undefined : FALLBACK_CHAT_TEMPLATE,
              generation: { maxTokens: plan.maxTokens, batchSize: plan.batchSize },
              signal: options.signal,
              onNote: (n) => log(`note: ${n}`),
              onProgress: (p) => options.onProgress?.(`reproduce: ${name} ${configuration} draw ${draw}: step ${p.step}/${p.totalSteps}, loss ${p.loss.toFixed(3)}, ${p.tokensPerSecond.toFixed(0)} tokens/s, ${Math.round(p.etaSeconds)} s left`),
            });
            if (t.aborted || !t.result) throw new MfnerError('ERR_ABORTED', 'training was interrupted; run the same command again to resume');
            trained = { method: t.method, steps: t.steps, finalLoss: t.finalLoss, bestScore: t.bestScore, skippedExamples: t.skippedExamples, tokensPerSecond: t.tokensPerSecond, seconds: t.seconds, result: t.result };
            log(`${name} ${configuration} draw ${draw}: trained (${method}) ${t.steps} steps, final loss ${t.finalLoss?.toFixed(3) ?? 'n/a'}, ${t.seconds.toFixed(1)} s`);
            if (method === 'lora') adapter = t.result;
            else evalModel = t.result;
          } else {
            log(`${name} ${configuration} draw ${draw}: ${notes[0]}`);
          }
          // 3. Evaluate.
          const runs = await runEvaluation({
            model: evalModel,
            adapter,
            modelName: train ? `${name}+${configuration}-${method}` : name,
            datasets,
            configuration,
            draws: [draw],
            testCap: plan.testCap,
            devThreshold: plan.devThreshold,
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
          summary.steps.push({ model: name, configuration, draw, sampled, train: trained, runs: runs.map((r) => r.summary) });
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
