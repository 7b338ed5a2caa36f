/**
 * Training over the GGUF types users download (patches 0012, 0013; native/Trainer.cpp): for each
 * base type, LoRA's loss and gradients equal those of the same model with its base dequantized to
 * F32 by llama.cpp's own quantizer (`quantizeModel` to f32); every ggml type trains or is refused,
 * never a signal; full fine-tuning upcasts F16/BF16 at load; a merged model loads and scores as
 * the base with its adapter.
 *
 * The tolerance and why: the backward pass through the frozen weight (out_prod, patch 0012) runs
 * on the exactly dequantized weights, and so does the forward matmul of F16 and quantized weights
 * on batches (patch 0014): on the x86/NEON builds those patches cover, an F16 or quantized base
 * gives the F32 base's loss and gradients bit for bit (measured: equal). BF16 keeps llama.cpp's
 * AVX512-BF16 forward, which rounds the activations to BF16 (2^-8 relative): loss within 6e-5
 * relative, gradients within 2.8e-3 relative L2 (measured). Builds without those kernels use
 * llama.cpp's paths, which round activations to F16 or Q8_0/Q8_K blocks; before patch 0014 that
 * measured loss within 1.5e-4 and gradients within 1.4e-2 (Q4_K, the worst). The bounds (loss
 * 1e-3, gradients 3e-2) hold on either build and are far below what a wrong kernel gives (a
 * mis-tiled or mis-converted weight moves gradients by O(1)); the kernels themselves are checked
 * element by element against float64 in cpu-kernels.test.ts.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Model } from '../../lib/native/index.ts';
import { loadBinding } from '../../lib/native/binding.ts';
import { makeModel } from '../../lib/native/make-model.ts';
import { trainVocabulary, writeVocabularyGguf } from '../../lib/native/corpus-vocab.ts';
import { FULL_FINE_TUNING_LOAD, LORA_TRAINING_LOAD, hasTrainer } from '../../lib/train/index.ts';
import { trainerConstructor, type NativeTrainer } from '../../lib/train/native.ts';
import { relDiff, tmpFile } from './helpers.ts';

/** K-quant-sized (rows of 256 values), one layer, a ~300-token corpus vocabulary: a few MB per type. */
const SHAPE = { nEmbd: 256, nLayer: 1, nHead: 4, nHeadKv: 2, nFf: 512, nCtx: 256 };
const TYPES = ['f16', 'bf16', 'q8_0', 'q4_0', 'q4_K', 'q5_K', 'q6_K'];

let vocabFile: string | undefined;
function vocabulary(): string {
  if (!vocabFile) {
    const texts = Array.from({ length: 40 }, (_, i) => `patient ${i} shows signs of the disease and the gene BRCA${i % 7} is mutated in tissue sample ${i * 13}`);
    vocabFile = tmpFile('base-types-vocab.gguf');
    writeVocabularyGguf(vocabFile, trainVocabulary(texts, { size: 320, minCharCount: 1 }));
  }
  return vocabFile;
}

/**
 * The base in `type`, and the same weights dequantized to F32 by llama.cpp's quantizer: made once
 * per type (several tests of this file, running at once, use the same pair).
 */
const made = new Map<string, Promise<{ base: string; f32: string }>>();
function models(type: string) {
  let pair = made.get(type);
  if (!pair) {
    pair = (async () => {
      const base = tmpFile(`base-${type}.gguf`);
      await makeModel({ architecture: 'qwen2', shape: SHAPE, out: base, vocabPath: vocabulary(), weightType: type, seed: 11 });
      const f32 = tmpFile(`base-${type}-as-f32.gguf`);
      await loadBinding().quantizeModel({ input: base, output: f32, type: 'f32', threads: 2, pure: true });
      return { base, f32 };
    })();
    made.set(type, pair);
  }
  return pair;
}

function batch(vocabSize: number) {
  // 120 rows, 111 labelled: wide enough for patch 0014's GEMM (96 columns and more) everywhere,
  // the output head included
  const n = 120;
  const tokens = Int32Array.from({ length: n }, (_, i) => 5 + ((i * 37 + 11) % (vocabSize - 5)));
  const positions = Int32Array.from({ length: n }, (_, i) => i);
  const sequences = new Int32Array(n);
  const labels = Int32Array.from({ length: n }, (_, i) => (i + 1 < n && i >= 8 ? tokens[i + 1] : -1));
  return { tokens, positions, sequences, labels };
}

async function lora(file: string) {
  const model = await Model.load(file, LORA_TRAINING_LOAD);
  const Trainer = trainerConstructor();
  // B ~ N(0, 0.02) so that A gets a gradient too; same seed, same A and B for both models
  const trainer: NativeTrainer = new Trainer(model.native, { method: 'lora', contextSize: 128, threads: 2, rank: 4, alpha: 8, seed: 3, bInitStd: 0.02, lr: 1e-3, modelPath: file });
  return { model, trainer };
}

async function lossAndGrads(file: string) {
  const { model, trainer } = await lora(file);
  try {
    const input = batch(model.metadata.vocabularySize ?? 300);
    const r = await trainer.step({ ...input, backward: true, apply: false, resetGrads: true });
    const names = trainer.paramNames();
    return { loss: r.loss, grads: new Map(names.map((n) => [n, trainer.gradient(n)!])) };
  } finally {
    trainer.dispose();
    await model.dispose();
  }
}

test.before(() => {
  if (!hasTrainer()) throw new Error('the addon has no Trainer: build it over the patched llama.cpp');
});

for (const type of TYPES) {
  test(`LoRA on a ${type} base: loss and gradients equal the F32-dequantized base's`, async (t) => {
    const { base, f32 } = await models(type);
    const got = await lossAndGrads(base);
    const want = await lossAndGrads(f32);
    t.true(Number.isFinite(got.loss) && got.loss > 0);
    const lossRel = Math.abs(got.loss - want.loss) / want.loss;
    let worst = 0;
    let worstName = '(none differs)';
    for (const [name, g] of want.grads) {
      const d = relDiff(got.grads.get(name)!, g);
      if (d > worst) [worst, worstName] = [d, name];
    }
    t.log(`${type}: loss ${got.loss.toFixed(5)} vs ${want.loss.toFixed(5)} (rel ${lossRel.toExponential(2)}), worst gradient ${worstName} rel L2 ${worst.toExponential(2)}`);
    t.true(lossRel < 1e-3, `loss differs by ${lossRel}`);
    t.true(worst < 3e-2, `${worstName} differs by ${worst}`);
    // x86-64 builds have patches 0012 and 0014's kernels: F16 and these quantized bases compute in
    // F32 on the dequantized weights, exactly as the F32 file does
    if (process.arch === 'x64' && type !== 'bf16') {
      t.is(got.loss, want.loss, 'bit for bit on the dequantizing kernels');
      t.is(worst, 0, 'bit for bit on the dequantizing kernels');
    }
  });
}

/** Runs type-child.ts on `file`; how the process ended and what it printed. */
function childStep(file: string, load: 'training' | 'default' | 'forward'): Promise<{ status: number | null; signal: string | null; out: { loss?: number; generated?: number; code?: string | null; message?: string } | null; stderr: string }> {
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'type-child.ts');
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', script, file, load], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (status, signal) => {
      const line = stdout.trim().split('\n').pop() ?? '';
      let out = null;
      try {
        out = JSON.parse(line);
      } catch {
        /* no result line: the assertion below reports how it ended */
      }
      resolve({ status, signal, out, stderr: stderr.slice(-2000) });
    });
  });
}

test('every ggml type the loader accepts: generates, and a LoRA step trains or is refused with ERR_UNSUPPORTED; no process dies by a signal', async (t) => {
  const types = loadBinding().tensorTypes();
  t.true(types.length >= 20, `only ${types.length} types`);
  const results: string[] = [];
  // two children at a time (two cores)
  const queue = [...types];
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const { name } = next;
      const file = tmpFile(`every-${name}.gguf`);
      await makeModel({ architecture: 'qwen2', shape: SHAPE, out: file, vocabPath: vocabulary(), weightType: name, seed: 5 });
      for (const load of ['training', 'default'] as const) {
        const r = await childStep(file, load);
        t.is(r.signal, null, `${name} (${load} load) died by ${r.signal}: ${r.stderr}`);
        t.is(r.status, 0, `${name} (${load} load) exited ${r.status}: ${r.stderr}`);
        t.truthy(r.out, `${name} (${load} load) printed no result`);
        if (r.out?.loss !== undefined) {
          t.true(Number.isFinite(r.out.loss) && r.out.loss > 0, `${name}: loss ${r.out.loss}`);
          t.is(r.out.generated, 3, `${name} (${load} load) generates`);
          results.push(`${name}/${load}: trains`);
        } else {
          t.is(r.out?.code, 'ERR_UNSUPPORTED', `${name} (${load} load): ${r.out?.code} ${r.out?.message}`);
          t.regex(r.out?.message ?? '', new RegExp(`tensor \\S+\\.weight: type ${name} `), 'the refusal names the tensor and its type');
          results.push(`${name}/${load}: ERR_UNSUPPORTED`);
          // what mfner loss does with such a model: a forward-only trainer computes the loss
          const f = await childStep(file, 'forward');
          t.is(f.signal, null, `${name} (forward only) died by ${f.signal}: ${f.stderr}`);
          t.true(Number.isFinite(f.out?.loss) && f.out!.loss! > 0, `${name} (forward only): ${JSON.stringify(f.out)}`);
          t.is(f.out?.generated, 3, `${name} (inference load) generates`);
        }
      }
    }
  };
  await Promise.all([worker(), worker()]);
  t.log(results.join(', '));
  // the training load trains every type; the default load repacks Q4_0 on x86 with AVX2 and
  // later (the case that aborted before): refused, not crashed
  t.true(results.filter((r) => r.endsWith('/training: trains')).length === types.length, results.filter((r) => r.includes('/training: ERR')).join(', '));
});

async function evalLoss(trainer: NativeTrainer, vocabSize: number) {
  return (await trainer.step({ ...batch(vocabSize), backward: false, apply: false })).loss;
}

for (const type of ['f16', 'bf16']) {
  test(`full fine-tuning from a ${type} file: upcast to F32 at load, the same loss and gradients as the F32 file`, async (t) => {
    const { base, f32 } = await models(type);
    const saved = tmpFile(`full-from-${type}.gguf`);
    const run = async (file: string, save?: string) => {
      const model = await Model.load(file, FULL_FINE_TUNING_LOAD);
      const Trainer = trainerConstructor();
      const trainer = new Trainer(model.native, { method: 'full', contextSize: 128, threads: 2, lr: 1e-3, modelPath: file });
      try {
        const types = new Set(model.weights().map((w) => w.type));
        const r = await trainer.step({ ...batch(model.metadata.vocabularySize), backward: true, apply: false, resetGrads: true });
        const grad = trainer.gradient('blk.0.ffn_down.weight')!;
        if (save) {
          await trainer.step({ ...batch(model.metadata.vocabularySize), backward: true, apply: true, resetGrads: true });
          await trainer.saveModel(save);
        }
        return { types, loss: r.loss, grad };
      } finally {
        trainer.dispose();
        await model.dispose();
      }
    };
    const got = await run(base, saved);
    const want = await run(f32);
    t.deepEqual([...got.types], ['f32'], 'every weight is F32 in memory');
    // what it saves is the F32 master weights, labelled so, and loads
    const m = await Model.load(saved);
    t.deepEqual([...new Set(m.weights().map((w) => w.type))], ['f32']);
    t.regex(m.metadata.description, /F32/);
    await m.dispose();
    // the same F32 values in memory: the same computation, bit for bit
    t.is(got.loss, want.loss);
    t.deepEqual(got.grad, want.grad);
  });
}

test('full fine-tuning refuses a quantized file with ERR_UNSUPPORTED naming the tensor, type and way out', async (t) => {
  const { base } = await models('q8_0');
  const model = await Model.load(base, FULL_FINE_TUNING_LOAD);
  try {
    const Trainer = trainerConstructor();
    const err = t.throws(() => new Trainer(model.native, { method: 'full', contextSize: 128, threads: 1, modelPath: base }));
    t.is((err as { code?: string }).code, 'ERR_UNSUPPORTED');
    t.regex(err!.message, /tensor \S+ is q8_0 .*mfner quantize --type f32/);
  } finally {
    await model.dispose();
  }
});

for (const [type, mergedType] of [['q8_0', 'f16'], ['bf16', 'bf16'], ['q4_K', 'f16']]) {
  test(`merging a LoRA trained on a ${type} base writes ${mergedType} matrices that score as the base with its adapter`, async (t) => {
    const { base } = await models(type);
    const merged = tmpFile(`merged-${type}.gguf`);
    const { model, trainer } = await lora(base);
    let adapted: number;
    try {
      const vocab = model.metadata.vocabularySize;
      await trainer.step({ ...batch(vocab), backward: true, apply: true, resetGrads: true });
      adapted = await evalLoss(trainer, vocab);
      await trainer.saveModel(merged);
    } finally {
      trainer.dispose();
      await model.dispose();
    }
    const m = await Model.load(merged, LORA_TRAINING_LOAD);
    try {
      const byName = new Map(m.weights().map((w) => [w.name, w.type]));
      t.is(byName.get('blk.0.attn_q.weight'), mergedType);
      t.is(byName.get('blk.0.ffn_down.weight'), mergedType);
      t.is(byName.get('token_embd.weight'), type, 'untouched tensors keep their type');
      // a rank-1 adapter with B = 0 changes nothing: the merged model's own loss
      const Trainer = trainerConstructor();
      const plain = new Trainer(m.native, { method: 'lora', rank: 1, alpha: 1, targets: ['attn_q'], contextSize: 128, threads: 2, modelPath: merged });
      const mergedLoss = await evalLoss(plain, m.metadata.vocabularySize);
      plain.dispose();
      // the merged matrices are rounded to F16/BF16 (2^-11 / 2^-8 relative) and run with another
      // activation rounding than the quantized base's: a few 1e-4 of the loss
      t.log(`${type}: base + adapter ${adapted.toFixed(5)}, merged ${mergedLoss.toFixed(5)}`);
      t.true(Math.abs(mergedLoss - adapted) / adapted < 2e-3, `${mergedLoss} vs ${adapted}`);
    } finally {
      await m.dispose();
    }
  });
}
