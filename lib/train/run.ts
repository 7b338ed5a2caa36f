/**
 * One training run as `mfner train` performs it: load the model, train (LoRA or full) with the
 * paper's defaults, evaluate dev micro-F1 every ¼ epoch keeping the best weights, resume an
 * interrupted run from its checkpoint, and optionally evaluate the best weights on the test
 * samples into the results layout (lib/report).
 *
 * Output directory:
 *   train-config.json   what was asked (resuming with other settings is refused)
 *   train-log.jsonl     one line per optimizer step and per evaluation (numbers only, no text)
 *   checkpoint/         resumable state: weights, AdamW moments, progress.json
 *   best/               the weights with the best dev F1 (the last weights when nothing was evaluated)
 *   adapter.gguf | model.gguf   the result: best/'s weights (a LoRA run's merged model with `merge`)
 *   summary.json        losses, evaluations, best step and score, timings
 *   results/            with `test`: run files of the best weights on the test samples
 */
import { appendFileSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { MfnerError } from '../native/errors.ts';
import { Model } from '../native/model.ts';
import { runEvaluation, type EvaluatedRun } from '../pipeline/evaluate.ts';
import { devEvaluator, type DevGenerationOptions, type DevScore } from './evaluate.ts';
import type { TrainingData } from './data.ts';
import { trainingLoadOptions, Trainer, type TrainProgress, type TrainResult } from './trainer.ts';
import type { ScheduleKind } from './schedule.ts';

/** The paper's fine-tuning setup (AdamW, constant lr 1e-5, batch 2 × accumulation 8, 4 epochs, dev F1 every ¼ epoch). */
export const PAPER_DEFAULTS = Object.freeze({
  lr: 1e-5,
  batchSize: 2,
  accumulation: 8,
  epochs: 4,
  evaluationsPerEpoch: 4,
  schedule: 'constant' as ScheduleKind,
  warmupRatio: 0,
  weightDecay: 0,
  rank: 16,
  alpha: 32,
  contextSize: 1024,
});

export interface TrainRunOptions {
  model: string;
  method: 'lora' | 'full';
  data: TrainingData;
  out: string;
  lr?: number;
  batchSize?: number;
  accumulation?: number;
  epochs?: number;
  maxSteps?: number;
  evaluationsPerEpoch?: number;
  schedule?: ScheduleKind;
  warmupRatio?: number;
  weightDecay?: number;
  rank?: number;
  alpha?: number;
  targets?: string[];
  /** Tokens per packed micro-batch (default 1024); longer examples are skipped and counted. */
  contextSize?: number;
  threads?: number;
  seed?: number;
  chatTemplate?: string;
  /** Dev evaluation (default on when there are dev examples). */
  evaluate?: boolean;
  /** Generation settings of dev (and test) evaluation. */
  generation?: DevGenerationOptions;
  /** Steps between resumable checkpoints (default: each evaluation, else 50). */
  checkpointEvery?: number;
  /** Start again even if `out` holds a run with other settings. */
  overwrite?: boolean;
  /** LoRA: also write the merged full model (`model.gguf`). */
  merge?: boolean;
  /** After training, evaluate the best weights on the test samples (datasets only). */
  test?: { datasets: readonly string[]; configuration: string; draw: number; testCap?: number; root?: string; modelName?: string };
  signal?: AbortSignal;
  onProgress?: (p: TrainProgress) => void;
  onEvaluation?: (phase: 'start' | 'end', score?: DevScore) => void;
  onNote?: (note: string) => void;
}

export interface TrainRunSummary {
  out: string;
  method: 'lora' | 'full';
  resumedFrom: number;
  steps: number;
  totalSteps: number;
  stepsPerEpoch: number;
  aborted: boolean;
  examples: number;
  skippedExamples: number;
  devExamples: number;
  trainableParameters: number;
  finalLoss: number | null;
  bestScore: number | null;
  bestStep: number | null;
  evaluations: TrainResult['evaluations'];
  /** The result file (adapter or model), absent while aborted. */
  result?: string;
  merged?: string;
  tokensPerSecond: number;
  seconds: number;
  testRuns?: EvaluatedRun['summary'][];
}

function settingsOf(o: TrainRunOptions) {
  return {
    model: path.resolve(o.model),
    method: o.method,
    source: o.data.report.source,
    trainExamples: o.data.train.length,
    devExamples: o.data.dev.length,
    lr: o.lr ?? PAPER_DEFAULTS.lr,
    batchSize: o.batchSize ?? PAPER_DEFAULTS.batchSize,
    accumulation: o.accumulation ?? PAPER_DEFAULTS.accumulation,
    epochs: o.epochs ?? PAPER_DEFAULTS.epochs,
    maxSteps: o.maxSteps ?? null,
    evaluationsPerEpoch: o.evaluationsPerEpoch ?? PAPER_DEFAULTS.evaluationsPerEpoch,
    schedule: o.schedule ?? PAPER_DEFAULTS.schedule,
    warmupRatio: o.warmupRatio ?? PAPER_DEFAULTS.warmupRatio,
    weightDecay: o.weightDecay ?? PAPER_DEFAULTS.weightDecay,
    rank: o.method === 'lora' ? (o.rank ?? PAPER_DEFAULTS.rank) : null,
    alpha: o.method === 'lora' ? (o.alpha ?? PAPER_DEFAULTS.alpha) : null,
    targets: o.method === 'lora' ? (o.targets ?? null) : null,
    contextSize: o.contextSize ?? PAPER_DEFAULTS.contextSize,
    seed: o.seed ?? 0,
    evaluate: o.evaluate ?? o.data.dev.length > 0,
  };
}

export async function runTraining(o: TrainRunOptions): Promise<TrainRunSummary> {
  const started = Date.now();
  const settings = settingsOf(o);
  if (settings.evaluate && o.data.dev.length === 0) throw new MfnerError('ERR_INVALID_ARG', 'dev evaluation needs dev examples');
  mkdirSync(o.out, { recursive: true });
  const configFile = path.join(o.out, 'train-config.json');
  const logFile = path.join(o.out, 'train-log.jsonl');
  const checkpoint = path.join(o.out, 'checkpoint', 'progress.json');
  let resume = false;
  if (existsSync(configFile)) {
    const old = readFileSync(configFile, 'utf8');
    const same = old === `${JSON.stringify(settings, null, 2)}\n`;
    if (!same && !o.overwrite) {
      throw new MfnerError('ERR_OUTPUT_EXISTS', `${o.out} holds a training run with other settings: pass --overwrite to start again, or another --out`);
    }
    if (same && existsSync(checkpoint)) resume = true;
    else for (const f of ['checkpoint', 'best', 'results', 'train-log.jsonl', 'summary.json', 'adapter.gguf', 'model.gguf']) rmSync(path.join(o.out, f), { recursive: true, force: true });
  }
  writeFileSync(configFile, `${JSON.stringify(settings, null, 2)}\n`);

  const model = await Model.load(o.model, trainingLoadOptions(o.method));
  let trainer: Trainer | undefined;
  try {
    trainer = Trainer.create(model, {
      method: o.method,
      contextSize: settings.contextSize,
      threads: o.threads,
      lr: settings.lr,
      weightDecay: settings.weightDecay,
      rank: settings.rank ?? undefined,
      alpha: settings.alpha ?? undefined,
      targets: o.targets,
      seed: settings.seed,
      chatTemplate: o.chatTemplate,
    });
    const evaluate = settings.evaluate
      ? (() => {
          let last: DevScore | undefined;
          const inner = devEvaluator(o.data.dev, { ...o.generation, threads: o.generation?.threads ?? o.threads, chatTemplate: o.chatTemplate, signal: o.signal, onScore: (s) => { last = s; } });
          return async (t: Trainer) => {
            o.onEvaluation?.('start');
            const f1 = await inner(t);
            o.onEvaluation?.('end', last);
            if (last) appendFileSync(logFile, `${JSON.stringify({ event: 'evaluation', f1: last.f1, precision: last.precision, recall: last.recall, ...last.counts, examples: last.examples, errors: last.errors, seconds: last.seconds })}\n`);
            return f1;
          };
        })()
      : undefined;
    const result = await trainer.train(o.data.train, {
      epochs: settings.epochs,
      batchSize: settings.batchSize,
      accumulation: settings.accumulation,
      lr: settings.lr,
      schedule: settings.schedule,
      warmupRatio: settings.warmupRatio,
      maxSteps: o.maxSteps,
      seed: settings.seed,
      evaluationsPerEpoch: settings.evaluationsPerEpoch,
      evaluate,
      outDir: o.out,
      resume,
      checkpointEvery: o.checkpointEvery,
      signal: o.signal,
      onProgress: (p) => {
        appendFileSync(logFile, `${JSON.stringify({ event: 'step', step: p.step, epoch: p.epoch, loss: p.loss, lr: p.lr, tokensPerSecond: p.tokensPerSecond })}\n`);
        o.onProgress?.(p);
      },
    });
    if (result.skippedExamples > 0) o.onNote?.(`${result.skippedExamples} example(s) longer than the ${settings.contextSize}-token training context (or without a scored token) were skipped`);
    const summary: TrainRunSummary = {
      out: o.out,
      method: o.method,
      resumedFrom: result.startStep,
      steps: result.steps,
      totalSteps: result.totalSteps,
      stepsPerEpoch: result.stepsPerEpoch,
      aborted: result.aborted,
      examples: o.data.train.length,
      skippedExamples: result.skippedExamples,
      devExamples: o.data.dev.length,
      trainableParameters: trainer.info().trainableParameters,
      finalLoss: result.losses.length ? result.losses[result.losses.length - 1] : null,
      bestScore: result.bestScore,
      bestStep: result.bestStep,
      evaluations: result.evaluations,
      tokensPerSecond: 0,
      seconds: (Date.now() - started) / 1000,
    };
    const stepTokens = readFileSync(logFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { event: string; tokensPerSecond?: number }).filter((l) => l.event === 'step');
    summary.tokensPerSecond = stepTokens.length ? (stepTokens[stepTokens.length - 1].tokensPerSecond ?? 0) : 0;
    if (!result.aborted) {
      const best = path.join(o.out, 'best');
      const file = o.method === 'lora' ? 'adapter.gguf' : 'model.gguf';
      // no evaluation: the final weights are the result
      if (!settings.evaluate) await trainer.saveCheckpoint(best, { step: result.steps, score: null }, false);
      copyFileSync(path.join(best, file), path.join(o.out, file));
      summary.result = path.join(o.out, file);
      if (o.method === 'lora' && o.merge) {
        await trainer.loadWeights(path.join(best, file));
        await trainer.saveModel(path.join(o.out, 'model.gguf'));
        summary.merged = path.join(o.out, 'model.gguf');
      }
    }
    await trainer.dispose();
    trainer = undefined;
    await model.dispose();
    if (!result.aborted && o.test) {
      const runs = await runEvaluation({
        model: o.method === 'full' ? summary.result! : o.model,
        adapter: o.method === 'lora' ? summary.result : undefined,
        modelName: o.test.modelName,
        datasets: o.test.datasets,
        configuration: o.test.configuration,
        draws: [o.test.draw],
        testCap: o.test.testCap,
        root: o.test.root,
        out: path.join(o.out, 'results'),
        extract: { ...o.generation, threads: o.generation?.threads ?? o.threads, chatTemplate: o.chatTemplate, signal: o.signal },
        onNote: o.onNote,
      });
      summary.testRuns = runs.map((r) => r.summary);
    }
    summary.seconds = (Date.now() - started) / 1000;
    writeFileSync(path.join(o.out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
    return summary;
  } finally {
    await trainer?.dispose();
    await model.dispose();
  }
}
