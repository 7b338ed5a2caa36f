/**
 * Patch 0010 (`shareTiedOutput`): a tied output head is the embedding tensor itself.
 *
 * llama.cpp loads a tied head a second time when the output layer gets another buffer type than
 * the embedding: on a CUDA build with the output layer offloaded (the case that matters: full
 * fine-tuning would train two copies that drift apart), and on a CPU with weight repacking, where
 * a Q4_0 head goes to CPU_REPACK and the embedding (read by get_rows) stays plain. The second case
 * reproduces the loader's behaviour on any x86-64 with AVX2 or ARM with dot-product, so this file
 * tests the patch without a GPU.
 */
import test from 'ava';
import { loadBinding } from '../../lib/native/binding.ts';
import { Model } from '../../lib/native/index.ts';
import { FULL_FINE_TUNING_LOAD, Trainer, type TrainExample } from '../../lib/train/index.ts';
import { trainerConstructor } from '../../lib/train/native.ts';
import { madeF32Qwen, madeTied, tmpFile } from './helpers.ts';

const system = loadBinding().systemInfo().system;
// ggml-cpu repacks Q4_0 for AVX2 (x86-64) and for NEON with dot-product or int8 matmul (ARM).
const repacksQ40 = /REPACK = 1/.test(system) && /AVX2 = 1|DOTPROD = 1|MATMUL_INT8 = 1/.test(system);

const copies = (model: Model, name: string) => model.weights().filter((w) => w.name === name);

const q40Test = repacksQ40 ? test : test.skip;
if (!repacksQ40) console.log(`tied-output: skipping the Q4_0 repack case, this CPU build does not repack Q4_0 (${system.trim()})`);

q40Test('0010: a tied Q4_0 head that llama.cpp loads twice (CPU, CPU_REPACK) is one tensor with shareTiedOutput; answers stay the same; full fine-tuning refuses two copies', async (t) => {
  const file = await madeTied('qwen2', 'tied-q4_0', { nEmbd: 64, nLayer: 2, nHead: 4, nHeadKv: 2, nFf: 128 }, 'q4_0');
  // On the CPU even on a CUDA build: a GPU would take the head for itself, not CPU_REPACK.
  const plain = await Model.load(file, { gpuLayers: 0 });
  const shared = await Model.load(file, { gpuLayers: 0, shareTiedOutput: true });
  try {
    const twice = copies(plain, 'token_embd.weight');
    t.is(twice.length, 2, `without the option: ${JSON.stringify(twice)}`);
    t.not(twice[0].buffer, twice[1].buffer);
    t.true(twice.some((w) => w.buffer === 'CPU_REPACK'));
    const once = copies(shared, 'token_embd.weight');
    t.is(once.length, 1, `with the option: ${JSON.stringify(once)}`);
    t.is(once[0].buffer, twice.find((w) => w.buffer !== 'CPU_REPACK')!.buffer, 'the head is the embedding where the embedding lives');
    t.is(shared.weights().length, plain.weights().length - 1);

    // The head reads the same Q4_0 data through another kernel: same greedy tokens, log-probabilities
    // equal to the kernels' rounding.
    const prompt = plain.tokenize('Aspirin lowers the risk of stroke', { addSpecial: true });
    const run = async (m: Model) => {
      const ctx = await m.createContext({ contextSize: 128, threads: 1 });
      try {
        return (await ctx.generate([prompt], { maxTokens: 8, logprobs: true, ignoreEos: true })).sequences[0];
      } finally {
        await ctx.dispose();
      }
    };
    const a = await run(plain);
    const b = await run(shared);
    t.deepEqual(Array.from(b.tokens), Array.from(a.tokens));
    const gap = Math.max(...a.logprobs!.map((lp, k) => Math.abs(lp - b.logprobs![k])));
    t.log(`max |logprob difference| repacked head vs shared head: ${gap.toExponential(2)}`);
    t.true(gap < 0.05, `log-probabilities differ by ${gap}`);

    // Full fine-tuning checks for a second copy before anything else (then for F32).
    const Ctor = trainerConstructor();
    const twoCopies = t.throws(() => new Ctor(plain.native, { method: 'full', contextSize: 32, threads: 1, modelPath: file }));
    t.is((twoCopies as Error & { code?: string }).code, 'ERR_UNSUPPORTED');
    t.regex(twoCopies!.message, /two copies of token_embd\.weight.*shareTiedOutput/);
    const notF32 = t.throws(() => new Ctor(shared.native, { method: 'full', contextSize: 32, threads: 1, modelPath: file }));
    t.regex(notF32!.message, /trains F32 weights; tensor \S+ is q4_0/);
  } finally {
    await plain.dispose();
    await shared.dispose();
  }
});

const data: TrainExample[] = [
  { prompt: 'Diseases in: The patient had cystic fibrosis.', completion: ' cystic fibrosis' },
  { prompt: 'Diseases in: No sign of anemia or asthma.', completion: ' anemia; asthma' },
  { prompt: 'Diseases in: Breast cancer runs in the family.', completion: ' Breast cancer' },
];

test('full fine-tuning of a tied model trains one embedding/head tensor: the saved model gives the losses training ended with', async (t) => {
  // On a CUDA build this loads with the output layer offloaded (default gpuLayers), the case where
  // llama.cpp would otherwise keep a second copy of the head on the GPU.
  const file = await madeF32Qwen('tied-full', { nEmbd: 32, nLayer: 2, nHead: 4, nHeadKv: 2, nFf: 64 });
  const model = await Model.load(file, FULL_FINE_TUNING_LOAD);
  const out = tmpFile('tied-full.gguf');
  let trained: number[];
  const trainer = Trainer.create(model, { method: 'full', contextSize: 64, threads: 1, lr: 1e-2 });
  try {
    t.is(copies(model, 'token_embd.weight').length, 1);
    t.is(trainer.native.paramNames().filter((n) => n === 'token_embd.weight').length, 1);
    const before = await trainer.loss(data);
    await trainer.train(data, { epochs: 8, batchSize: 3, lr: 1e-2, schedule: 'constant' });
    trained = (await trainer.loss(data)).perExample;
    t.true(trained.reduce((s, v) => s + v) / trained.length < 0.8 * before.mean, `loss ${before.mean} -> ${trained}`);
    await trainer.saveModel(out);
  } finally {
    trainer.dispose();
    await model.dispose();
  }
  // A second copy would have been trained by the head's gradient only and dropped on save.
  const reloaded = await Model.load(out, FULL_FINE_TUNING_LOAD);
  const check = Trainer.create(reloaded, { method: 'full', contextSize: 64, threads: 1 });
  try {
    const again = (await check.loss(data)).perExample;
    again.forEach((v, i) => t.true(Math.abs(v - trained[i]) <= 1e-4 * Math.max(1, trained[i]), `example ${i}: reloaded ${v} vs trained ${trained[i]}`));
  } finally {
    check.dispose();
    await reloaded.dispose();
  }
});
