/**
 * The Trainer's lifecycle. It reads and checks every option before it creates its llama context: a
 * wrongly typed option is ERR_INVALID_ARG and leaves nothing behind (before, rank/alpha/seed/
 * targets were read after the context existed, and their JS errors skipped its cleanup: the
 * context leaked and the model could never be freed). dispose() during a step or a save lets that
 * work finish and frees the trainer as it settles (it used to throw ERR_BUSY).
 */
import test from 'ava';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Model } from '../../lib/native/index.ts';
import { madeModelPath } from '../../lib/native/make-model.ts';
import { LORA_TRAINING_LOAD, Trainer, hasTrainer } from '../../lib/train/index.ts';
import { trainerConstructor, type NativeTrainerOptions } from '../../lib/train/native.ts';

/** Address space of this process in kB (Linux), or null. A context reserves hundreds of MB of it. */
function addressSpaceKb(): number | null {
  if (!existsSync('/proc/self/status')) return null;
  const m = /VmSize:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) : null;
}

test.before(() => {
  if (!hasTrainer()) throw new Error('the addon has no Trainer: build it over the patched llama.cpp');
});

test('wrongly typed trainer options are ERR_INVALID_ARG and leak no context', async (t) => {
  const file = await madeModelPath('qwen2', 'tiny');
  const model = await Model.load(file, LORA_TRAINING_LOAD);
  const Trainer = trainerConstructor();
  const bad: Record<string, unknown>[] = [
    { rank: 'x' }, { rank: 0 }, { alpha: 'x' }, { seed: 'x' }, { bInitStd: 'x' },
    { targets: [1] }, { targets: 'attn_q' }, { method: 'full', trainEmbeddings: 'yes' }, { forwardOnly: 1 },
  ];
  const make = (o: Record<string, unknown>) => new Trainer(model.native, { method: 'lora', contextSize: 2048, threads: 1, modelPath: file, ...o } as NativeTrainerOptions);
  // one good trainer first, so that lazily made buffers are not counted as growth
  make({}).dispose();
  const before = addressSpaceKb();
  for (let round = 0; round < 4; round++) {
    for (const o of bad) {
      const err = t.throws(() => make(o), undefined, JSON.stringify(o));
      t.is((err as { code?: string }).code, 'ERR_INVALID_ARG', JSON.stringify(o));
    }
  }
  const after = addressSpaceKb();
  if (before !== null && after !== null) {
    // each leaked context of 2048 positions over a 152k vocabulary reserves over 1 GB
    t.true(after - before < 512 * 1024, `address space grew by ${((after - before) / 1024).toFixed(0)} MB over ${4 * bad.length} refused trainers`);
  }
  const good = make({ rank: 2 });
  t.is(good.info().rank, 2);
  good.dispose();
  await model.dispose();
});

test('dispose during a step or a save waits for it: the work settles, then every call is ERR_DISPOSED', async (t) => {
  const file = await madeModelPath('qwen2', 'tiny');
  const model = await Model.load(file, LORA_TRAINING_LOAD);
  const trainer = Trainer.create(model, { method: 'lora', rank: 2, contextSize: 64, threads: 1 });
  const n = 40;
  const tokens = Int32Array.from({ length: n }, (_, i) => 100 + i);
  const step = { tokens, positions: Int32Array.from({ length: n }, (_, i) => i), sequences: new Int32Array(n), labels: Int32Array.from({ length: n }, (_, i) => (i + 1 < n ? tokens[i + 1] : -1)) };
  // a step in flight, then dispose at once (it used to throw ERR_BUSY)
  const inFlight = trainer.native.step({ ...step, backward: true, apply: true });
  const disposed = trainer.dispose();
  t.true(trainer.info().disposed, 'refuses new work at once');
  t.throws(() => trainer.native.step({ ...step, backward: false, apply: false }), { code: 'ERR_DISPOSED' } as never);
  const r = await inFlight;
  t.true(Number.isFinite(r.loss) && r.loss > 0, 'the step in flight finished');
  await disposed;
  t.throws(() => trainer.native.gradient(trainer.native.paramNames()[0]), { code: 'ERR_DISPOSED' } as never);
  await trainer.dispose(); // again: harmless

  // the same during a save; a flood of calls after dispose must not crash either
  const second = Trainer.create(model, { method: 'lora', rank: 2, contextSize: 64, threads: 1 });
  const out = path.join(os.tmpdir(), `mfner-dispose-save-${process.pid}.gguf`);
  const saving = second.saveAdapter(out);
  const done = second.dispose();
  const refused = await Promise.allSettled(Array.from({ length: 20 }, () => Promise.resolve().then(() => second.native.step({ ...step, backward: false, apply: false }))));
  t.true(refused.every((x) => x.status === 'rejected' && (x.reason as { code?: string }).code === 'ERR_DISPOSED'));
  await saving;
  await done;
  t.true(existsSync(out), 'the save in flight wrote its file');
  rmSync(out, { force: true });
  await model.dispose();
});
