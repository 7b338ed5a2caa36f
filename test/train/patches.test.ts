/**
 * Tests of the training patches (native/patches/0001..0006) through the native Trainer, on narrow
 * F32 Qwen2-architecture models (real vocabulary, 2 layers unless said otherwise), one thread.
 */
import test from 'ava';
import { Model } from '../../lib/native/index.ts';
import { loadBinding } from '../../lib/native/binding.ts';
import { FULL_FINE_TUNING_LOAD, hasTrainer } from '../../lib/train/index.ts';
import { trainerConstructor, type NativeTrainer, type NativeTrainerOptions } from '../../lib/train/native.ts';
import { madeF32Qwen, maxAbs, relDiff } from './helpers.ts';

const SMALL = { nEmbd: 32, nLayer: 2, nHead: 4, nHeadKv: 2, nFf: 64 };

async function setup(options: NativeTrainerOptions) {
  const model = await Model.load(await madeF32Qwen('small', SMALL), FULL_FINE_TUNING_LOAD);
  const Trainer = trainerConstructor();
  const trainer = new Trainer(model.native, { contextSize: 64, threads: 1, ...options, modelPath: model.path });
  return { model, trainer };
}

/** Two packed sequences; rows 0..n-2 of each predict the next token. */
function batch(labelRows: (i: number) => boolean = () => true) {
  const a = [151644, 872, 198, 9707, 11, 1879, 0, 3555, 374, 279, 1850, 30];
  const b = [151644, 77091, 198, 40, 1079, 264, 1273, 13, 151645];
  const tokens = Int32Array.from([...a, ...b]);
  const positions = Int32Array.from([...a.map((_, i) => i), ...b.map((_, i) => i)]);
  const sequences = Int32Array.from([...a.map(() => 0), ...b.map(() => 1)]);
  const labels = new Int32Array(tokens.length).fill(-1);
  for (let i = 0; i < tokens.length - 1; i++) {
    if (sequences[i] === sequences[i + 1] && labelRows(i)) labels[i] = tokens[i + 1];
  }
  return { tokens, positions, sequences, labels };
}

async function grad(trainer: NativeTrainer, input: ReturnType<typeof batch> & { weights?: Float32Array }, name: string) {
  await trainer.step({ ...input, backward: true, apply: false, resetGrads: true });
  return trainer.gradient(name)!;
}

async function evalLoss(trainer: NativeTrainer, input: ReturnType<typeof batch> & { weights?: Float32Array }) {
  return (await trainer.step({ ...input, backward: false, apply: false })).loss;
}

test.before(() => {
  if (!hasTrainer()) throw new Error('the addon has no Trainer: build it over the patched llama.cpp');
});

test('0003/0005: attention K and V weights (and biases) get a non-zero gradient', async (t) => {
  const { model, trainer } = await setup({ method: 'full' });
  try {
    const input = batch();
    for (const name of ['blk.0.attn_k.weight', 'blk.0.attn_v.weight', 'blk.1.attn_k.bias', 'blk.1.attn_v.bias', 'blk.0.attn_q.weight']) {
      const g = await grad(trainer, input, name);
      t.true(maxAbs(g) > 0, `${name} has a zero gradient`);
    }
  } finally {
    trainer.dispose();
    await model.dispose();
  }
});

test('0003/0005: finite differences agree with the gradient of attention Q, K and V weights', async (t) => {
  const { model, trainer } = await setup({ method: 'full' });
  try {
    const input = batch();
    for (const name of ['blk.0.attn_q.weight', 'blk.0.attn_k.weight', 'blk.1.attn_v.weight']) {
      const g = await grad(trainer, input, name);
      const w = trainer.getTensor(name);
      // Directional derivatives: along the gradient itself (slope must be |g|; a wrong, transposed
      // or scaled gradient gives less by Cauchy-Schwarz) and along the three largest entries with
      // fixed signs. A single entry moves the float32 loss by only a few ulps (an H200 build saw
      // exactly 0 for attn_q), so each step is sized for a loss change of about 1e-3.
      const norm = Math.sqrt(g.reduce((a, v) => a + v * v, 0));
      const top = Array.from(g.keys()).sort((x, y) => Math.abs(g[y]) - Math.abs(g[x])).slice(0, 3);
      const alongTop = new Float32Array(g.length);
      top.forEach((i, k) => (alongTop[i] = (k % 2 ? -1 : 1) / Math.sqrt(3)));
      for (const [what, d] of [['gradient', g.map((v) => v / norm)], ['top entries', alongTop]] as const) {
        const slope = d.reduce((a, v, i) => a + v * g[i], 0);
        const h = Math.min(0.5, 1e-3 / Math.max(Math.abs(slope), 1e-6));
        trainer.setTensor(name, w.map((v, i) => v + h * d[i]));
        const lp = await evalLoss(trainer, input);
        trainer.setTensor(name, w.map((v, i) => v - h * d[i]));
        const lm = await evalLoss(trainer, input);
        trainer.setTensor(name, w);
        const fd = (lp - lm) / (2 * h);
        t.true(Math.abs(fd - slope) <= 0.05 * Math.abs(slope) + 1e-5, `${name} along ${what}: finite difference ${fd} vs gradient ${slope}`);
      }
      t.true(norm > 0);
    }
  } finally {
    trainer.dispose();
    await model.dispose();
  }
});

test('0001: zero label rows contribute exactly nothing; weights scale rows', async (t) => {
  const { model, trainer } = await setup({ method: 'full' });
  const gpu = loadBinding().systemInfo().gpuOffload;
  try {
    // A: rows 0..3 of the first sequence scored; B: every row an output, the others with weight 0
    // and the scored rows weighted so that the loss (sum w*nll / rows) is the same
    const scored = (i: number) => i < 4;
    const a = batch(scored);
    const b = batch();
    const nOut = b.labels.filter((l) => l >= 0).length;
    const weights = new Float32Array(b.labels.length);
    for (let i = 0; i < weights.length; i++) if (b.labels[i] >= 0 && scored(i)) weights[i] = nOut / 4;
    const la = await evalLoss(trainer, a);
    const lb = await evalLoss(trainer, { ...b, weights });
    t.true(Math.abs(la - lb) < 1e-5 * Math.abs(la), `loss ${la} vs ${lb}`);
    for (const name of ['token_embd.weight', 'blk.1.ffn_down.weight', 'blk.0.attn_k.weight', 'output_norm.weight']) {
      const ga = await grad(trainer, a, name);
      const gb = await grad(trainer, { ...b, weights }, name);
      // The two batches have different output shapes: on a GPU the GEMMs then differ in algorithm
      // and summation order (1.4e-4 and 1.3e-3 measured on an H200); a row that leaks gradient
      // differs by order 1, so 1e-2 there still tells them apart. CPU runs agree far closer.
      t.true(relDiff(ga, gb) < (gpu ? 1e-2 : 1e-4), `${name}: relative difference ${relDiff(ga, gb)}`);
    }
    // changing the labels of zero-weight rows changes nothing
    const other = { ...b, labels: b.labels.map((l, i) => (l >= 0 && !scored(i) ? (l + 17) % 151000 : l)), weights };
    const g1 = await grad(trainer, { ...b, weights }, 'blk.0.attn_v.weight');
    const g2 = await grad(trainer, other, 'blk.0.attn_v.weight');
    t.deepEqual(Array.from(g1), Array.from(g2));
  } finally {
    trainer.dispose();
    await model.dispose();
  }
});

test('0002: gradients accumulate across steps until reset, keyed by tensor', async (t) => {
  const { model, trainer } = await setup({ method: 'full' });
  try {
    const input = batch();
    const g1 = await grad(trainer, input, 'blk.0.ffn_up.weight');
    await trainer.step({ ...input, backward: true, apply: false, resetGrads: false });
    const g2 = trainer.gradient('blk.0.ffn_up.weight')!;
    t.true(relDiff(g2, g1.map((v) => 2 * v)) < 1e-6);
    const g3 = await grad(trainer, input, 'blk.0.ffn_up.weight');
    t.true(relDiff(g3, g1) < 1e-6);
  } finally {
    trainer.dispose();
    await model.dispose();
  }
});

test('0006: AdamW keeps its moments between steps (weights in host memory, as with --gpu-layers 0 on a CUDA build)', async (t) => {
  // On a CUDA build the moments used to live on the GPU while the step ran on the CPU beside its
  // weight, so each step started from zero moments; here the second update must be Adam's.
  const model = await Model.load(await madeF32Qwen('small', SMALL), { ...FULL_FINE_TUNING_LOAD, gpuLayers: 0 });
  const Trainer = trainerConstructor();
  const lr = 1e-3;
  const trainer = new Trainer(model.native, { method: 'full', contextSize: 64, threads: 1, lr, modelPath: model.path });
  try {
    const input = batch();
    const checked = ['token_embd.weight', 'blk.0.attn_k.weight', 'blk.1.ffn_down.weight', 'output_norm.weight'];
    const w0 = checked.map((n) => trainer.getTensor(n));
    await trainer.step({ ...input, backward: true, apply: true, resetGrads: true });
    const g1 = checked.map((n) => trainer.gradient(n)!);
    const w1 = checked.map((n) => trainer.getTensor(n));
    await trainer.step({ ...input, backward: true, apply: true, resetGrads: true });
    const g2 = checked.map((n) => trainer.gradient(n)!);
    const w2 = checked.map((n) => trainer.getTensor(n));
    const [b1, b2, eps] = [0.9, 0.999, 1e-8];
    checked.forEach((name, k) => {
      const first = w1[k].map((v, i) => v - w0[k][i]);
      const expectFirst = g1[k].map((g) => (g === 0 ? 0 : -lr * ((1 - b1) * g / (1 - b1)) / (Math.sqrt(((1 - b2) * g * g) / (1 - b2)) + eps)));
      t.true(relDiff(first, expectFirst) < 1e-3, `${name}: first update`);
      const second = w2[k].map((v, i) => v - w1[k][i]);
      const adam = g2[k].map((g, i) => {
        const m = b1 * (1 - b1) * g1[k][i] + (1 - b1) * g;
        const v = b2 * (1 - b2) * g1[k][i] ** 2 + (1 - b2) * g * g;
        return -lr * (m / (1 - b1 ** 2)) / (Math.sqrt(v / (1 - b2 ** 2)) + eps);
      });
      const fromZero = g2[k].map((g) => -lr * (((1 - b1) * g) / (1 - b1 ** 2)) / (Math.sqrt(((1 - b2) * g * g) / (1 - b2 ** 2)) + eps));
      t.true(relDiff(second, adam) < 1e-3, `${name}: second update is Adam's (relative difference ${relDiff(second, adam)})`);
      t.true(relDiff(second, fromZero) > 0.05, `${name}: and not an update from zero moments`);
    });
  } finally {
    trainer.dispose();
    await model.dispose();
  }
});

test('LoRA: finite differences agree with the gradient of A and B (K and V targets included)', async (t) => {
  const { model, trainer } = await setup({ method: 'lora', rank: 4, alpha: 8, bInitStd: 0.3, seed: 3 });
  try {
    const input = batch();
    for (const name of ['blk.0.attn_k.weight.lora_a', 'blk.0.attn_v.weight.lora_b', 'blk.1.ffn_gate.weight.lora_a', 'blk.1.attn_q.weight.lora_b']) {
      const g = await grad(trainer, input, name);
      t.true(maxAbs(g) > 0, `${name} has a zero gradient`);
      const w = trainer.getTensor(name);
      const i = Array.from(g.keys()).sort((x, y) => Math.abs(g[y]) - Math.abs(g[x]))[0];
      // float32 losses near 12 resolve ~1e-6: a step of 0.05 keeps the quotient's noise ~2e-5
      const h = 5e-2;
      const plus = Float32Array.from(w);
      plus[i] += h;
      trainer.setTensor(name, plus);
      const lp = await evalLoss(trainer, input);
      const minus = Float32Array.from(w);
      minus[i] -= h;
      trainer.setTensor(name, minus);
      const lm = await evalLoss(trainer, input);
      trainer.setTensor(name, w);
      const fd = (lp - lm) / (2 * h);
      t.true(Math.abs(fd - g[i]) <= 0.05 * Math.abs(g[i]) + 5e-5, `${name}[${i}]: finite difference ${fd} vs gradient ${g[i]}`);
    }
  } finally {
    trainer.dispose();
    await model.dispose();
  }
});

test('0004: a Qwen2.5-0.5B-structure graph (24 layers, 14/2 heads, QKV bias, tied head; narrow widths) trains with LoRA on all linear layers and in full', async (t) => {
  // Widths do not change the node count; the 24-layer structure is what overflowed the budget.
  const file = await madeF32Qwen('qwen05-structure', { nEmbd: 56, nLayer: 24, nHead: 14, nHeadKv: 2, nFf: 64 });
  const model = await Model.load(file, FULL_FINE_TUNING_LOAD);
  const Trainer = trainerConstructor();
  try {
    for (const method of ['lora', 'full'] as const) {
      const trainer = new Trainer(model.native, { method, contextSize: 32, threads: 1, rank: 2, modelPath: file });
      try {
        const input = batch();
        const r = await trainer.step({ ...input, backward: true, apply: true, resetGrads: true, lr: 1e-4 });
        t.true(Number.isFinite(r.loss) && r.loss > 0, `${method}: loss ${r.loss}`);
        t.true(maxAbs(trainer.gradient(method === 'lora' ? 'blk.23.attn_v.weight.lora_a' : 'blk.23.attn_v.weight')!) >= 0);
      } finally {
        trainer.dispose();
      }
    }
  } finally {
    await model.dispose();
  }
});
