/**
 * Fine-tuning over the native Trainer (one AsyncWorker per micro-batch): response-only loss,
 * packing, gradient accumulation with an exact token mean per optimizer step, AdamW with
 * warmup and constant/linear/cosine schedules, periodic evaluation keeping the best checkpoint,
 * resumable checkpoints, progress events and abort.
 */
import { mkdirSync, existsSync, readFileSync, writeFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { MfnerError, nativeCall, nativeCallSync } from '../native/errors.ts';
import type { LoadModelOptions, Model } from '../native/model.ts';
import { resolveThreads } from '../native/threads.ts';
import { packExamples, tokenizeExample, type MicroBatch, type TokenizedExample, type TrainExample } from './examples.ts';
import { trainerConstructor, type NativeStepResult, type NativeTrainer, type NativeTrainerOptions } from './native.ts';
import { learningRate, type ScheduleKind } from './schedule.ts';
import { FALLBACK_CHAT_TEMPLATE } from '../pipeline/extract.ts';

export interface TrainerOptions extends Omit<NativeTrainerOptions, 'modelPath'> {
  /**
   * Renders chat examples for a model without a chat template (default: the pipeline's
   * FALLBACK_CHAT_TEMPLATE, the one `extract` uses, so training and inference agree).
   */
  chatTemplate?: string;
}

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
  /** Resume from outDir/checkpoint when present (weights, optimizer state, step, scores). */
  resume?: boolean;
  /**
   * Optimizer steps between resumable checkpoints in outDir/checkpoint (default: at each
   * evaluation, else every 50 steps). A checkpoint is also written on abort and at the end.
   */
  checkpointEvery?: number;
  onProgress?: (e: TrainProgress) => void;
  /** Checked between micro-batches: an abort drops the unfinished step and saves a checkpoint. */
  signal?: AbortSignal;
  /**
   * Compute the token prefix the examples of a micro-batch share (system turn, instruction) once
   * (default true; exact, see packExamples). tokensPerSecond counts every example's own tokens
   * either way, so the figures compare.
   */
  sharePrefixes?: boolean;
  /**
   * Take each step's examples from one `group` (epochSteps), so a mixed-format step shares its
   * instruction too (default false). Faster, and worse at equal steps: on --scale cpu 0.31 s per
   * step instead of 0.51, but multi_term F1 0.254 instead of 0.308 (docs/training.md).
   */
  groupSteps?: boolean;
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
  /** Optimizer step where this call started (0, or the resumed checkpoint's step). */
  startStep: number;
  totalSteps: number;
  stepsPerEpoch: number;
  losses: number[];
  evaluations: { step: number; epoch: number; score: number }[];
  bestScore: number | null;
  /** Step whose weights are in outDir/best. */
  bestStep: number | null;
  skippedExamples: number;
  aborted: boolean;
}

interface SavedProgress {
  step: number;
  losses: number[];
  evaluations: TrainResult['evaluations'];
  bestScore: number | null;
  bestStep: number | null;
}

/**
 * One epoch's optimizer steps, as lists of example indices: a seeded shuffle of `usable` cut into
 * steps of `perStep`. When the examples carry several groups, each group's shuffled examples are
 * cut on their own and the steps then shuffled, so a step holds one group (its examples share a
 * prompt prefix: packExamples computes it once) and the groups still interleave over the epoch.
 * The number of steps depends only on the group sizes, so it is the same every epoch.
 */
export function epochSteps(groups: readonly (string | undefined)[], usable: readonly number[], perStep: number, seed: number): number[][] {
  const order = shuffled(usable.length, seed).map((i) => usable[i]);
  const buckets = new Map<string | undefined, number[]>();
  for (const i of order) {
    const b = buckets.get(groups[i]);
    if (b) b.push(i);
    else buckets.set(groups[i], [i]);
  }
  const steps: number[][] = [];
  for (const b of buckets.values()) for (let k = 0; k < b.length; k += perStep) steps.push(b.slice(k, k + perStep));
  if (buckets.size === 1) return steps;
  return shuffled(steps.length, (seed ^ 0x5bd1e995) >>> 0).map((k) => steps[k]);
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

/**
 * How to load a model for full fine-tuning: weights in writable memory (not a read-only file
 * mapping), F16 and BF16 weights upcast to F32 master weights while loading (patch 0013: twice
 * the file's size in RAM for those), and a tied output head as the embedding tensor itself rather
 * than a second copy on the GPU (patch 0010), so the two get one gradient.
 */
export const FULL_FINE_TUNING_LOAD: Readonly<LoadModelOptions> = Object.freeze({ useMmap: false, shareTiedOutput: true, repack: false, upcastF32: true });

/**
 * How to load a model for LoRA: any weight type, without llama.cpp's CPU_REPACK buffers (they
 * serve the forward matmul only; the backward pass through a frozen Q4_0 or Q4_K weight needs
 * the weight in its plain layout). A repacked model is refused by `Trainer.create` with
 * ERR_UNSUPPORTED, never a crash.
 */
export const LORA_TRAINING_LOAD: Readonly<LoadModelOptions> = Object.freeze({ repack: false });

/** The load options a training method needs. */
export function trainingLoadOptions(method: 'lora' | 'full'): Readonly<LoadModelOptions> {
  return method === 'full' ? FULL_FINE_TUNING_LOAD : LORA_TRAINING_LOAD;
}

export class Trainer {
  private constructor(
    readonly model: Model,
    /** @internal */ readonly native: NativeTrainer,
    readonly options: TrainerOptions,
  ) {}

  /** LoRA takes a model of any type loaded with `LORA_TRAINING_LOAD`; full fine-tuning an F32, F16 or BF16 model loaded with `FULL_FINE_TUNING_LOAD`. */
  static create(model: Model, options: TrainerOptions): Trainer {
    const Ctor = trainerConstructor();
    const { chatTemplate: _template, ...nativeOptions } = options;
    // More threads than CPUs are capped (lib/native/threads.ts); unset stays the native default.
    const threads = options.threads === undefined ? {} : { threads: resolveThreads(options.threads) };
    const native = nativeCallSync(() => new Ctor(model.native, { ...nativeOptions, ...threads, modelPath: model.path }));
    return new Trainer(model, native, options);
  }

  get contextSize(): number {
    return this.native.info().contextSize;
  }

  get method(): 'lora' | 'full' {
    return this.options.method;
  }

  info() {
    return this.native.info();
  }

  /** The template chat examples are rendered with: the model's own, else the given or fallback one. */
  get chatTemplate(): string | undefined {
    return this.model.metadata.chatTemplate ? undefined : (this.options.chatTemplate ?? FALLBACK_CHAT_TEMPLATE);
  }

  tokenize(example: TrainExample): TokenizedExample {
    return tokenizeExample(this.model, example, { chatTemplate: this.chatTemplate });
  }

  /**
   * One optimizer step over micro-batches: gradients summed so that the loss is the mean
   * negative log-likelihood over every scored token of the step. Returns that loss, or
   * `aborted` (nothing applied) when the signal fires between micro-batches.
   */
  async optimizerStep(batches: readonly MicroBatch[], lr: number, apply = true, signal?: AbortSignal): Promise<{ loss: number; tokens: number; aborted: boolean }> {
    const total = batches.reduce((s, b) => s + b.targets, 0);
    if (total === 0) return { loss: NaN, tokens: 0, aborted: false };
    let loss = 0;
    let tokens = 0;
    const live = batches.filter((b) => b.targets > 0);
    for (let j = 0; j < live.length; j++) {
      if (signal?.aborted) return { loss, tokens, aborted: true };
      const b = live[j];
      const weights = new Float32Array(b.labels.length);
      const w = b.targets / total;
      for (let i = 0; i < weights.length; i++) if (b.labels[i] >= 0) weights[i] = w;
      const r: NativeStepResult = await this.call(() =>
        this.native.step({ ...b, weights, backward: true, apply: apply && j === live.length - 1, resetGrads: j === 0, lr: Math.max(lr, 1e-12) }),
      );
      loss += r.loss;
      tokens += b.exampleTokens;
    }
    return { loss, tokens, aborted: false };
  }

  /** Response-only mean NLL per example and overall (the number training minimises). */
  async loss(examples: readonly TrainExample[], options: { sharePrefixes?: boolean } = {}): Promise<{ perExample: number[]; perExampleTokens: number[]; mean: number; tokens: number }> {
    const tok = examples.map((e) => this.tokenize(e));
    const perSum = new Float64Array(tok.length);
    const count = new Float64Array(tok.length);
    const ctx = this.contextSize;
    const idx = tok.map((_, i) => i).filter((i) => tok[i].tokens.length <= ctx);
    if (idx.length < tok.length) throw new MfnerError('ERR_EXAMPLE_TOO_LONG', `${tok.length - idx.length} example(s) exceed the context of ${ctx} tokens`);
    for (const b of packExamples(tok, idx, ctx, { sharePrefixes: options.sharePrefixes ?? true })) {
      if (b.targets === 0) continue;
      const r = await this.call(() => this.native.step({ ...b, backward: false, apply: false, rowNll: true }));
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
    return { perExample, perExampleTokens: Array.from(count), mean: n ? s / n : NaN, tokens: n };
  }

  /** The file a checkpoint directory keeps the trainable weights in. */
  weightsFile(dir: string): string {
    return path.join(dir, this.options.method === 'lora' ? 'adapter.gguf' : 'model.gguf');
  }

  /**
   * Saves the trainable state (adapter or full model), with `optimizer` the AdamW state too, and
   * `progress.json` to `dir`. Files are written under temporary names and renamed, so an
   * interrupted save leaves the previous checkpoint whole.
   */
  async saveCheckpoint(dir: string, progress: object, optimizer = true): Promise<void> {
    mkdirSync(dir, { recursive: true });
    const weights = this.weightsFile(dir);
    const opt = path.join(dir, 'optimizer.gguf');
    // progress.json goes first and last: a torn checkpoint has no progress.json and is not resumed
    rmSync(path.join(dir, 'progress.json'), { force: true });
    await nativeCall(() => (this.options.method === 'lora' ? this.native.saveAdapter(`${weights}.tmp`) : this.native.saveModel(`${weights}.tmp`)));
    renameSync(`${weights}.tmp`, weights);
    if (optimizer) {
      await this.call(() => this.native.saveOptimizer(`${opt}.tmp`));
      renameSync(`${opt}.tmp`, opt);
    }
    const tmp = path.join(dir, 'progress.json.tmp');
    writeFileSync(tmp, JSON.stringify(progress, null, 2));
    renameSync(tmp, path.join(dir, 'progress.json'));
  }

  /** Writes the adapter (LoRA trainers) as a GGUF LoRA that llama.cpp's loader reads. */
  async saveAdapter(file: string): Promise<void> {
    await this.call(() => this.native.saveAdapter(file));
  }

  /** Writes a complete GGUF (a LoRA trainer merges its adapter); off the event loop. */
  async saveModel(file: string): Promise<void> {
    await this.call(() => this.native.saveModel(file));
  }

  /** Sets the trainable tensors from a GGUF this kind of trainer saved (adapter or model). */
  async loadWeights(file: string): Promise<void> {
    await this.call(() => this.native.loadWeights(file));
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
    if (usable.length === 0) {
      const longest = Math.min(...tok.filter((e) => e.targets > 0).map((e) => e.tokens.length));
      throw new MfnerError('ERR_NO_EXAMPLES', `no example fits the ${ctx}-token training context with a scored token (the shortest scored one has ${longest} tokens): raise the context`);
    }
    const perStep = batchSize * accumulation;
    const groups = o.groupSteps ? examples.map((e) => e.group) : examples.map(() => undefined);
    let planned: { epoch: number; steps: number[][] } | undefined;
    const stepsOfEpoch = (epoch: number): number[][] => {
      if (planned?.epoch !== epoch) planned = { epoch, steps: epochSteps(groups, usable, perStep, seed + epoch) };
      return planned.steps;
    };
    const stepsPerEpoch = stepsOfEpoch(0).length;
    const totalSteps = Math.min(o.maxSteps ?? Infinity, stepsPerEpoch * epochs);
    const schedule = { kind: o.schedule ?? 'constant', lr, totalSteps, warmupSteps: Math.round((o.warmupRatio ?? 0) * totalSteps) };
    const evalEvery = o.evaluate ? Math.max(1, Math.round(stepsPerEpoch / (o.evaluationsPerEpoch ?? 4))) : Infinity;
    const checkpointEvery = o.checkpointEvery ?? (o.evaluate ? evalEvery : 50);
    const result: TrainResult = {
      steps: 0,
      startStep: 0,
      totalSteps,
      stepsPerEpoch,
      losses: [],
      evaluations: [],
      bestScore: null,
      bestStep: null,
      skippedExamples: tok.length - usable.length,
      aborted: false,
    };
    const batchesOf = (step: number): MicroBatch[] => {
      // the step's examples, packed first fit into micro-batches of the context (one forward/backward each)
      const chosen = stepsOfEpoch(Math.floor(step / stepsPerEpoch))[step % stepsPerEpoch];
      return packExamples(tok, chosen, ctx, { sharePrefixes: o.sharePrefixes ?? true });
    };

    const ckpt = o.outDir ? path.join(o.outDir, 'checkpoint') : undefined;
    if (o.resume && ckpt && existsSync(path.join(ckpt, 'progress.json'))) {
      const saved = JSON.parse(readFileSync(path.join(ckpt, 'progress.json'), 'utf8')) as SavedProgress;
      result.startStep = saved.step;
      result.steps = saved.step;
      result.losses = saved.losses;
      result.evaluations = saved.evaluations;
      result.bestScore = saved.bestScore;
      result.bestStep = saved.bestStep ?? null;
      await this.loadWeights(this.weightsFile(ckpt));
      // the optimizer state exists once a graph was built: one forward pass, then load it
      const first = batchesOf(Math.min(saved.step, Math.max(totalSteps - 1, 0)))[0];
      await this.call(() => this.native.step({ ...first, backward: false, apply: false }));
      await this.call(() => this.native.loadOptimizer(path.join(ckpt, 'optimizer.gguf')));
    }
    const progressOf = (step: number): SavedProgress => ({ step, losses: result.losses, evaluations: result.evaluations, bestScore: result.bestScore, bestStep: result.bestStep });

    const t0 = Date.now();
    let tokensSeen = 0;
    let lastCheckpoint = result.startStep;
    for (let step = result.startStep; step < totalSteps; step++) {
      if (o.signal?.aborted) {
        result.aborted = true;
        break;
      }
      const rate = learningRate(schedule, step);
      const { loss, tokens, aborted } = await this.optimizerStep(batchesOf(step), rate, true, o.signal);
      if (aborted) {
        result.aborted = true;
        break;
      }
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
        etaSeconds: (elapsed / (step + 1 - result.startStep)) * (totalSteps - step - 1),
      };
      if (o.evaluate && ((step + 1) % evalEvery === 0 || step + 1 === totalSteps)) {
        const score = await o.evaluate(this);
        result.evaluations.push({ step: step + 1, epoch: progress.epoch, score });
        if (result.bestScore === null || score > result.bestScore) {
          result.bestScore = score;
          result.bestStep = step + 1;
          if (o.outDir) await this.saveCheckpoint(path.join(o.outDir, 'best'), { step: step + 1, score }, false);
        }
        progress.evaluation = { score, best: result.bestScore };
      }
      if (ckpt && ((step + 1) % checkpointEvery === 0 || step + 1 === totalSteps)) {
        await this.saveCheckpoint(ckpt, progressOf(step + 1));
        lastCheckpoint = step + 1;
      }
      o.onProgress?.(progress);
    }
    if (result.aborted && ckpt && result.steps > lastCheckpoint) await this.saveCheckpoint(ckpt, progressOf(result.steps));
    return result;
  }

  /** Native work of this trainer not yet settled (steps, saves, loads): dispose waits for it. */
  private readonly inFlight = new Set<Promise<unknown>>();

  private call<T>(fn: () => Promise<T>): Promise<T> {
    const p = nativeCall(fn);
    this.inFlight.add(p);
    const forget = () => this.inFlight.delete(p);
    p.then(forget, forget);
    return p;
  }

  /**
   * Frees the trainer. A step or save in flight finishes first (its promise settles as usual,
   * and this one after it); calls made after dispose() are refused with ERR_DISPOSED. Calling it
   * again is harmless.
   */
  async dispose(): Promise<void> {
    this.native.dispose();
    await Promise.allSettled([...this.inFlight]);
  }
}
