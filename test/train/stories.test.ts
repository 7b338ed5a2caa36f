/**
 * End-to-end training checks on the real stories260K model (llama architecture, F32, 512-token
 * vocabulary), one thread: full fine-tuning lowers the loss and makes greedy answers reproduce the
 * targets; a new LoRA adapter changes nothing; a trained adapter saved and reloaded gives the
 * losses it gave at the end of training.
 */
import test from 'ava';
import { Model } from '../../lib/native/index.ts';
import { Trainer, tokenizeExample, type TrainExample } from '../../lib/train/index.ts';
import { sharedFile } from '../helpers/shared.ts';
import { tmpFile } from './helpers.ts';

const stories = sharedFile('models', 'stories260K.gguf');
const names = ['Tom', 'Lily', 'Sam', 'Anna', 'Ben', 'Mia', 'Max', 'Sue'];
const things = ['ball', 'cat', 'dog', 'cake', 'tree', 'box'];
const data: TrainExample[] = names.map((n, i) => ({ prompt: `${n} saw a`, completion: ` ${things[i % things.length]}.` }));

test('full fine-tuning on stories260K: loss falls and greedy answers reproduce the targets', async (t) => {
  if (stories.missing) return t.pass(stories.missing);
  const model = await Model.load(stories.path, { useMmap: false });
  const trainer = Trainer.create(model, { method: 'full', contextSize: 128, threads: 1, lr: 3e-3 });
  try {
    const before = await trainer.loss(data);
    const result = await trainer.train(data, { epochs: 60, batchSize: 4, accumulation: 2, lr: 3e-3, schedule: 'constant' });
    const after = await trainer.loss(data);
    t.true(after.mean < before.mean / 4, `loss ${before.mean} -> ${after.mean}`);
    const first = result.losses.slice(0, 5).reduce((a, b) => a + b) / 5;
    const last = result.losses.slice(-5).reduce((a, b) => a + b) / 5;
    t.true(last < first, `training losses ${first} -> ${last}`);
    const ctx = await model.createContext({ contextSize: 256, threads: 1, sequences: data.length });
    const prompts = data.map((e) => tokenizeExample(model, { prompt: (e as { prompt: string }).prompt, completion: '' }, { addEos: false }).tokens);
    const out = await ctx.generate(prompts, { maxTokens: 8 });
    const texts = out.sequences.map((s) => model.detokenize(s.tokens));
    const right = texts.filter((txt, i) => txt.trim() === (data[i] as { completion: string }).completion.trim()).length;
    t.true(right >= data.length - 1, `greedy answers: ${right}/${data.length} reproduce their targets`);
  } finally {
    trainer.dispose();
    await model.dispose();
  }
});

test('LoRA on stories260K: a new adapter changes nothing; a saved adapter reloads to the same losses', async (t) => {
  if (stories.missing) return t.pass(stories.missing);
  const model = await Model.load(stories.path);
  const base = Trainer.create(model, { method: 'lora', contextSize: 128, threads: 1, rank: 4, alpha: 8, targets: ['attn_q', 'attn_output', 'ffn_up'] });
  const reference = await base.loss(data);
  base.dispose();
  const trainer = Trainer.create(model, { method: 'lora', contextSize: 128, threads: 1, rank: 4, alpha: 8, seed: 1 });
  try {
    const fresh = await trainer.loss(data);
    t.deepEqual(fresh.perExample, reference.perExample, 'a new adapter (B = 0) leaves every loss unchanged');
    await trainer.train(data, { epochs: 10, batchSize: 4, accumulation: 2, lr: 1e-2 });
    const trained = await trainer.loss(data);
    t.true(trained.mean < fresh.mean, `LoRA training lowers the loss ${fresh.mean} -> ${trained.mean}`);
    const file = tmpFile('stories-lora.gguf');
    await trainer.saveAdapter(file);
    const reloaded = Trainer.create(model, { method: 'lora', contextSize: 128, threads: 1, adapterPath: file });
    try {
      const again = await reloaded.loss(data);
      for (let i = 0; i < data.length; i++) t.true(Math.abs(again.perExample[i] - trained.perExample[i]) < 1e-5, `example ${i}`);
    } finally {
      reloaded.dispose();
    }
    // The adapter through llama.cpp's standard loader into an inference context.
    const ctx = await model.createContext({ contextSize: 128, threads: 1 });
    const before = await ctx.generate(['Tom saw a'], { maxTokens: 4 });
    await ctx.setAdapters([{ path: file }]);
    const after = await ctx.generate(['Tom saw a'], { maxTokens: 4 });
    // The base model tells a story; with the adapter it answers in the trained form " <thing>."
    // (10 LoRA epochs do not teach the stop reliably: a 4th token may follow the answer)
    t.true(things.some((x) => after.sequences[0].text.startsWith(` ${x}.`)), `the applied adapter gives a trained answer: ${JSON.stringify(after.sequences[0].text)}`);
    t.notDeepEqual([...after.sequences[0].tokens], [...before.sequences[0].tokens]);
    t.throws(() => model.releaseAdapter(file), { code: 'ERR_BUSY' } as never);
    await ctx.dispose();
    t.notThrows(() => model.releaseAdapter(file));
  } finally {
    trainer.dispose();
    await model.dispose();
  }
});
