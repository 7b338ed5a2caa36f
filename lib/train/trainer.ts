/**
 * Fine-tuning over the native Trainer (one AsyncWorker per micro-batch): response-only loss,
 * packing, gradient accumulation with an exact token mean per optimizer step, AdamW with
 * warmup and constant/linear/cosine schedules, periodic evaluation keeping the best checkpoint,
 * resumable checkpoints, progress events and abort.
 */
import { mkdirSync, existsSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { MfnerError, nativeCall, nativeCallSync } from '../native/errors.ts';
import type { Model } from '../native/model.ts';
import { packExamples, tokenizeExample, type MicroBatch, type TokenizedExample, type TrainExample } from './examples.ts';
import { trainerConstructor, type NativeStepResult, type NativeTrainer, type NativeTrainerOptions } from './native.ts';
import { learningRate, type ScheduleKind } from './schedule.ts';

export interface TrainerOptions extends Omit<NativeTrainerOptions, 'modelPath'> {}

export interface TrainOptions {
  epochs?: number;
  /** Examples per micro-batch group (the paper's per-device batch). */
  batchSize?: number;
  /** Groups per optimizer step (gradient accumulation). */
  accumulation?: number;
  lr?: number;
  schedule?: ScheduleKind;
  warmupRatio?: number;
  maxSteps?: number;
  seed?: number;
  /** Evaluations per epoch (the paper: 4). */
  evaluationsPerEpoch?: number;
  /** Returns a score to maximise (dev micro-F1); the best state is saved to `outDir/best`. */
  evaluate?: (trainer: Trainer) => Promise<number>;
  outDir?: string;
  /** Resume from outDir/checkpoint when present. */
  resume?: boolean;
  onProgress?: (e: TrainProgress) => void;
  signal?: AbortSignal;
}

export interface TrainProgress {
  step: number;
  totalSteps: number;
  epoch: number;
  loss: number;
  lr: number;
  tokensPerSecond: number;
  etaSeconds: number;
  evaluation?: { score: number; best: number };
}

export interface TrainResult {
  steps: number;
  losses: number[];
  evaluations: { step: number; epoch: number; score: number }[];
  bestScore: number | null;
  skippedExamples: number;
  aborted: boolean;
}

/** Deterministic shuffle (mulberry32). */
function shuffled(n: number, seed: number): number[] {
  let a = seed >>> 0;
  const rand = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

export class Trainer {
  private constructor(
    readonly model: Model,
    /** @internal */ readonly native: NativeTrainer,
    readonly options: TrainerOptions,
  ) {}

  /** LoRA needs any model; full fine-tuning an F32 model loaded with `useMmap: false`. */
  static create(model: Model, options: TrainerOptions): Trainer {
    const Ctor = trainerConstructor();
    const native = nativeCallSync(() => new Ctor(model.native, { ...options, modelPath: model.path }));
    return new Trainer(model, native, options);
  }

  get contextSize(): number {
    return this.native.info().contextSize;
  }

  info() {
    return this.native.info();
  }

  tokenize(example: TrainExample): TokenizedExample {
    return tokenizeExample(this.model, example);
  }

  /**
   * One optimizer step over micro-batches: gradients summed so that the loss is the mean
   * negative log-likelihood over every scored token of the step. Returns that loss.
   */
  async optimizerStep(batches: readonly MicroBatch[], lr: number, apply = true): Promise<{ loss: number; tokens: number }> {
    const total = batches.reduce((s, b) => s + b.targets, 0);
    if (total === 0) return { loss: NaN, tokens: 0 };
    let loss = 0;
    let tokens = 0;
    const live = batches.filter((b) => b.targets > 0);
    for (let j = 0; j < live.length; j++) {
      const b = live[j];
      const weights = new Float32Array(b.labels.length);
      const w = b.targets / total;
      for (let i = 0; i < weights.length; i++) if (b.labels[i] >= 0) weights[i] = w;
      const r: NativeStepResult = await nativeCall(() =>
        this.native.step({ ...b, weights, backward: true, apply: apply && j === live.length - 1, resetGrads: j === 0, lr: Math.max(lr, 1e-12) }),
      );
      loss += r.loss;
      tokens += b.tokens.length;
    }
    return { loss, tokens };
  }

  /** Response-only mean NLL per example and overall (the number training minimises). */
  async loss(examples: readonly TrainExample[]): Promise<{ perExample: number[]; mean: number; tokens: number }> {
    const tok = examples.map((e) => this.tokenize(e));
    const perSum = new Float64Array(tok.length);
    const count = new Float64Array(tok.length);
    const ctx = this.contextSize;
    const idx = tok.map((_, i) => i).filter((i) => tok[i].tokens.length <= ctx);
    if (idx.length < tok.length) throw new MfnerError('ERR_EXAMPLE_TOO_LONG', `${tok.length - idx.length} example(s) exceed the context of ${ctx} tokens`);
    for (const b of packExamples(tok, idx, ctx)) {
      if (b.targets === 0) continue;
      const r = await nativeCall(() => this.native.step({ ...b, backward: false, apply: false, rowNll: true }));
      for (let i = 0; i < b.labels.length; i++) {
        if (b.labels[i] < 0) continue;
        const ex = b.examples[b.sequences[i]];
        perSum[ex] += r.rowNll![i];
        count[ex] += 1;
      }
    }
    let s = 0;
    let n = 0;
    const perExample = Array.from(perSum, (v, i) => {
      s += v;
      n += count[i];
      return count[i] ? v / count[i] : NaN;
    });
    return { perExample, mean: n ? s / n : NaN, tokens: n };
  }

  /** Saves trainable state (adapter or full model) plus optimizer state and progress to `dir`. */
  saveCheckpoint(dir: string, progress: Record<string, unknown>): void {
    mkdirSync(dir, { recursive: true });
    if (this.options.method === 'lora') this.native.saveAdapter(path.join(dir, 'adapter.gguf'));
    else this.native.saveModel(path.join(dir, 'model.gguf'));
    this.native.saveOptimizer(path.join(dir, 'optimizer.gguf'));
    const tmp = path.join(dir, 'progress.json.tmp');
    writeFileSync(tmp, JSON.stringify(progress, null, 2));
    renameSync(tmp, path.join(dir, 'progress.json'));
  }

  saveAdapter(file: string): void {
    nativeCallSync(() => this.native.saveAdapter(file));
  }

  saveModel(file: string): void {
    nativeCallSync(() => this.native.saveModel(file));
  }

  /** Trains on examples; see TrainOptions. */
  async train(examples: readonly TrainExample[], o: TrainOptions = {}): Promise<TrainResult> {
    const epochs = o.epochs ?? 4;
    const batchSize = o.batchSize ?? 2;
    const accumulation = o.accumulation ?? 8;
    const lr = o.lr ?? this.options.lr ?? 1e-5;
    const seed = o.seed ?? 0;
    const ctx = this.contextSize;
    const tok = examples.map((e) => this.tokenize(e));
    const usable = tok.map((_, i) => i).filter((i) => tok[i].tokens.length <= ctx && tok[i].targets > 0);
    const perStep = batchSize * accumulation;
    const stepsPerEpoch = Math.ceil(usable.length / perStep);
    const totalSteps = Math.min(o.maxSteps ?? Infinity, stepsPerEpoch * epochs);
    const schedule = { kind: o.schedule ?? 'constant', lr, totalSteps, warmupSteps: Math.round((o.warmupRatio ?? 0) * totalSteps) };
    const evalEvery = o.evaluate ? Math.max(1, Math.round(stepsPerEpoch / (o.evaluationsPerEpoch ?? 4))) : Infinity;
    const result: TrainResult = { steps: 0, losses: [], evaluations: [], bestScore: null, skippedExamples: tok.length - usable.length, aborted: false };

    let startStep = 0;
    const ckpt = o.outDir ? path.join(o.outDir, 'checkpoint') : undefined;
    if (o.resume && ckpt && existsSync(path.join(ckpt, 'progress.json'))) {
      const saved = JSON.parse(readFileSync(path.join(ckpt, 'progress.json'), 'utf8')) as { step: number; losses: number[]; evaluations: TrainResult['evaluations']; bestScore: number | null };
      startStep = saved.step;
      result.losses = saved.losses;
      result.evaluations = saved.evaluations;
      result.bestScore = saved.bestScore;
    }

    const t0 = Date.now();
    let tokensSeen = 0;
    for (let step = startStep; step < totalSteps; step++) {
      if (o.signal?.aborted) {
        result.aborted = true;
        break;
      }
      const epoch = Math.floor(step / stepsPerEpoch);
      const order = shuffled(usable.length, seed + epoch).map((i) => usable[i]);
      const inEpoch = step % stepsPerEpoch;
      const chosen = order.slice(inEpoch * perStep, (inEpoch + 1) * perStep);
      const batches = packExamples(tok, chosen, ctx);
      if (step === startStep && startStep > 0 && ckpt) {
        // the optimizer state exists once a graph was built: one evaluation pass, then load it
        await nativeCall(() => this.native.step({ ...batches[0], backward: false, apply: false }));
        this.native.loadOptimizer(path.join(ckpt, 'optimizer.gguf'));
      }
      const rate = learningRate(schedule, step);
      const { loss, tokens } = await this.optimizerStep(batches, rate);
      tokensSeen += tokens;
      result.losses.push(loss);
      result.steps = step + 1;
      const elapsed = (Date.now() - t0) / 1000;
      const progress: TrainProgress = {
        step: step + 1,
        totalSteps,
        epoch: (step + 1) / stepsPerEpoch,
        loss,
        lr: rate,
        tokensPerSecond: tokensSeen / Math.max(elapsed, 1e-9),
        etaSeconds: (elapsed / (step + 1 - startStep)) * (totalSteps - step - 1),
      };
      if (o.evaluate && ((step + 1) % evalEvery === 0 || step + 1 === totalSteps)) {
        const score = await o.evaluate(this);
        result.evaluations.push({ step: step + 1, epoch: progress.epoch, score });
        if (result.bestScore === null || score > result.bestScore) {
          result.bestScore = score;
          if (o.outDir) this.saveCheckpoint(path.join(o.outDir, 'best'), { step: step + 1, score });
        }
        progress.evaluation = { score, best: result.bestScore };
      }
      if (ckpt) this.saveCheckpoint(ckpt, { step: step + 1, losses: result.losses, evaluations: result.evaluations, bestScore: result.bestScore });
      o.onProgress?.(progress);
    }
    return result;
  }

  dispose(): void {
    this.native.dispose();
  }
}
