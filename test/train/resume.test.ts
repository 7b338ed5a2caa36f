/**
 * Checkpoints that resume: a run aborted through its AbortSignal and resumed in a fresh trainer
 * (fresh model for full fine-tuning) from its checkpoint reproduces the uninterrupted run's
 * losses step for step and its final weights. Saving runs off the event loop.
 */
import test from 'ava';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Model } from '../../lib/native/index.ts';
import { FULL_FINE_TUNING_LOAD, Trainer, type TrainExample, type TrainerOptions } from '../../lib/train/index.ts';
import { sharedFile } from '../helpers/shared.ts';
import { madeF32Qwen, relDiff } from './helpers.ts';

const stories = sharedFile('models', 'stories260K.gguf');
const names = ['Tom', 'Lily', 'Sam', 'Anna', 'Ben', 'Mia', 'Max', 'Sue', 'Tim', 'Kim', 'Bob', 'Jan'];
const things = ['ball', 'cat', 'dog', 'cake', 'tree', 'box'];
const data: TrainExample[] = names.map((n, i) => ({ prompt: `${n} saw a`, completion: ` big ${things[i % things.length]}.` }));
// 12 examples, 2 x 2 per step: 3 steps per epoch, 3 epochs = 9 optimizer steps
const trainOptions = { epochs: 3, batchSize: 2, accumulation: 2, lr: 5e-3, schedule: 'cosine' as const, warmupRatio: 0.2, seed: 3 };

function outDir(tag: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `mfner-resume-${tag}-`));
}

async function snapshot(trainer: Trainer): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const name of trainer.native.paramNames()) out.set(name, trainer.native.getTensor(name));
  return out;
}

for (const method of ['lora', 'full'] as const) {
  test.serial(`${method}: abort via AbortSignal, resume from the checkpoint = the uninterrupted run`, async (t) => {
    if (stories.missing) return t.pass(stories.missing);
    const load = () => Model.load(stories.path, method === 'full' ? FULL_FINE_TUNING_LOAD : {});
    const options: TrainerOptions = { method, contextSize: 128, threads: 1, rank: 4, alpha: 8, seed: 11 };

    // uninterrupted
    const m0 = await load();
    const t0 = Trainer.create(m0, options);
    const full = await t0.train(data, { ...trainOptions, outDir: outDir(`${method}-a`) });
    const finalWeights = await snapshot(t0);
    const finalLoss = (await t0.loss(data)).mean;
    t0.dispose();
    await m0.dispose();
    t.is(full.steps, 9);
    t.false(full.aborted);

    // interrupted after 4 steps (checkpoints only on abort and at the end: checkpointEvery 100)
    const dir = outDir(`${method}-b`);
    const m1 = await load();
    const t1 = Trainer.create(m1, options);
    const controller = new AbortController();
    const first = await t1.train(data, {
      ...trainOptions,
      outDir: dir,
      checkpointEvery: 100,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.step === 4) controller.abort();
      },
    });
    t1.dispose();
    await m1.dispose();
    t.true(first.aborted);
    t.is(first.steps, 4);
    const progress = JSON.parse(readFileSync(path.join(dir, 'checkpoint', 'progress.json'), 'utf8')) as { step: number };
    t.is(progress.step, 4, 'the abort wrote a checkpoint at the last finished step');

    // resumed in a fresh trainer (a new adapter with another seed; a freshly loaded model)
    const m2 = await load();
    const t2 = Trainer.create(m2, { ...options, seed: 99 });
    try {
      const resumed = await t2.train(data, { ...trainOptions, outDir: dir, resume: true });
      t.is(resumed.startStep, 4);
      t.is(resumed.steps, 9);
      t.false(resumed.aborted);
      t.is(resumed.losses.length, 9);
      for (let i = 0; i < 9; i++) t.true(Math.abs(resumed.losses[i] - full.losses[i]) <= 1e-6 * Math.max(1, full.losses[i]), `step ${i + 1}: ${resumed.losses[i]} vs ${full.losses[i]}`);
      const weights = await snapshot(t2);
      let worst = 0;
      for (const [name, w] of finalWeights) worst = Math.max(worst, relDiff(w, weights.get(name)!));
      t.true(worst < 1e-5, `final weights differ by ${worst} (relative L2)`);
      const loss = (await t2.loss(data)).mean;
      t.true(Math.abs(loss - finalLoss) < 1e-5, `final loss ${loss} vs ${finalLoss}`);
      t.true(finalLoss < (await lossOfBase(method)) - 0.05, 'training did something');
    } finally {
      t2.dispose();
      await m2.dispose();
    }
  });
}

async function lossOfBase(method: 'lora' | 'full'): Promise<number> {
  const m = await Model.load(stories.path, method === 'full' ? FULL_FINE_TUNING_LOAD : {});
  const tr = Trainer.create(m, { method: 'lora', contextSize: 128, threads: 1, rank: 1, alpha: 1, targets: ['attn_q'] });
  try {
    return (await tr.loss(data)).mean;
  } finally {
    tr.dispose();
    await m.dispose();
  }
}

test.serial('saveModel runs on a worker thread: the event loop keeps turning while a model is written', async (t) => {
  const file = await madeF32Qwen('save-async', { nEmbd: 128, nLayer: 2, nHead: 4, nHeadKv: 2, nFf: 256 });
  const model = await Model.load(file, FULL_FINE_TUNING_LOAD);
  const trainer = Trainer.create(model, { method: 'full', contextSize: 64, threads: 1 });
  const dir = outDir('save');
  try {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    let immediate = false;
    const started = performance.now();
    const pending = trainer.saveModel(path.join(dir, 'model.gguf'));
    setImmediate(() => {
      immediate = true;
    });
    t.true(pending instanceof Promise);
    await pending;
    const ms = performance.now() - started;
    clearInterval(timer);
    t.true(immediate, 'a setImmediate queued after the call ran before the save finished');
    t.log(`saved ${(readFileSync(path.join(dir, 'model.gguf')).length / 1048576).toFixed(0)} MiB in ${ms.toFixed(0)} ms, ${ticks} timer ticks meanwhile`);
    if (ms > 30) t.true(ticks > 0, 'timers fired during the save');
    // a second save while one runs is refused (busy), not interleaved
    const a = trainer.saveModel(path.join(dir, 'a.gguf'));
    await t.throwsAsync(trainer.saveModel(path.join(dir, 'b.gguf')), { code: 'ERR_BUSY' });
    await a;
    t.true(existsSync(path.join(dir, 'a.gguf')));
  } finally {
    trainer.dispose();
    await model.dispose();
  }
});
