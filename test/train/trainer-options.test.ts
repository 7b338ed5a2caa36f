/**
 * The native Trainer reads and checks every option before it creates its llama context: a
 * wrongly typed option is ERR_INVALID_ARG and leaves nothing behind (before, rank/alpha/seed/
 * targets were read after the context existed, and their JS errors skipped its cleanup: the
 * context leaked and the model could never be freed).
 */
import test from 'ava';
import { existsSync, readFileSync } from 'node:fs';
import { Model } from '../../lib/native/index.ts';
import { madeModelPath } from '../../lib/native/make-model.ts';
import { LORA_TRAINING_LOAD, hasTrainer } from '../../lib/train/index.ts';
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
