#!/usr/bin/env node
// CPU/GPU training loss parity: N optimizer steps with a fixed seed on fixed synthetic batches,
// printing the loss of each step, so the same command on a CPU build and on a CUDA build (or
// with --gpu-layers 0 vs 99 on one CUDA build) can be compared line by line.
//
// Needs only node and the built addon (no tsx, no TypeScript):
//   node scripts/train-parity.mjs --model model-f32.gguf [--method lora|full] [--steps 8]
//        [--gpu-layers 0|99] [--threads 4] [--context 256] [--addon build-cmake/Release/mfner.node] [--json]
//   node scripts/train-parity.mjs --model m.gguf --compare cpu.json gpu.json   (prints the max relative difference)
//
// Full fine-tuning needs an F32 model (a tied one is loaded with shareTiedOutput, patch 0010). Batches: 2 packed sequences of context/2 tokens each,
// tokens drawn from a seeded generator, every second half scored (a response-only pattern).
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};

if (args.includes('--compare')) {
  const i = args.indexOf('--compare');
  const [a, b] = [JSON.parse(readFileSync(args[i + 1], 'utf8')), JSON.parse(readFileSync(args[i + 2], 'utf8'))];
  let worst = 0;
  a.losses.forEach((l, k) => (worst = Math.max(worst, Math.abs(l - b.losses[k]) / Math.max(Math.abs(l), 1e-12))));
  console.log(`steps ${a.losses.length}; max relative loss difference ${worst.toExponential(3)} (${a.device} vs ${b.device})`);
  process.exit(worst < 1e-2 ? 0 : 1);
}

const modelPath = opt('model');
if (!modelPath) {
  console.error('usage: node scripts/train-parity.mjs --model <gguf> [--method lora|full] [--steps N] [--gpu-layers N] [--threads N] [--context N] [--addon path] [--json]');
  process.exit(2);
}
const method = opt('method', 'lora');
const steps = Number(opt('steps', '8'));
const gpuLayers = Number(opt('gpu-layers', '0'));
const threads = Number(opt('threads', '4'));
const context = Number(opt('context', '256'));
const seed = Number(opt('seed', '1'));
const addonPath =
  opt('addon') ??
  process.env.MFNER_ADDON ??
  [path.join(root, 'build-cmake', 'Release', 'mfner.node'), path.join(root, 'build', 'Release', 'mfner.node')].find((p) => existsSync(p));
if (!addonPath || !existsSync(addonPath)) {
  console.error('no built addon: pass --addon or set MFNER_ADDON');
  process.exit(2);
}
const binding = createRequire(import.meta.url)(path.resolve(addonPath));
if (!binding.Trainer) {
  console.error(`${addonPath} was built without the training patches`);
  process.exit(2);
}

function rng(s) {
  let a = s >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const model = new binding.Model(modelPath, { gpuLayers, useMmap: method !== 'full', shareTiedOutput: method === 'full' });
await model.load();
const vocab = model.metadata().vocabularySize;
// Where the embedding (and a tied head, which full fine-tuning loads as the same tensor) lives.
const embeddingBuffers = model.weights().filter((w) => w.name === 'token_embd.weight').map((w) => w.buffer);
const trainer = new binding.Trainer(model, { method, modelPath, contextSize: context, threads, lr: 1e-4, rank: 8, alpha: 16, seed, bInitStd: method === 'lora' ? 0.02 : undefined });
const rand = rng(seed);
const half = Math.floor(context / 2);
const losses = [];
const ms = [];
for (let s = 0; s < steps; s++) {
  // two micro-batches per optimizer step (gradient accumulation), each two packed sequences
  let loss = 0;
  for (let j = 0; j < 2; j++) {
    const n = 2 * half;
    const tokens = new Int32Array(n);
    const positions = new Int32Array(n);
    const sequences = new Int32Array(n);
    const labels = new Int32Array(n).fill(-1);
    for (let i = 0; i < n; i++) {
      tokens[i] = 1 + Math.floor(rand() * Math.min(vocab - 1, 4000));
      positions[i] = i % half;
      sequences[i] = i < half ? 0 : 1;
    }
    let targets = 0;
    for (let i = 0; i < n; i++) if (positions[i] >= half / 2 && positions[i] + 1 < half) targets++;
    const weights = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      if (positions[i] >= half / 2 && positions[i] + 1 < half) {
        labels[i] = tokens[i + 1];
        weights[i] = 0.5; // two micro-batches of equal size: half each
      }
    }
    const r = await trainer.step({ tokens, positions, sequences, labels, weights, backward: true, apply: j === 1, resetGrads: j === 0, lr: 1e-4 });
    loss += r.loss;
    ms.push(r.ms);
    void targets;
  }
  losses.push(loss);
  if (!args.includes('--json')) console.log(`step ${s + 1}\tloss ${loss.toFixed(6)}`);
}
const device = gpuLayers > 0 ? `gpu-layers ${gpuLayers}` : 'cpu';
if (args.includes('--json')) console.log(JSON.stringify({ model: path.basename(modelPath), method, steps, seed, context, device, embeddingBuffers, losses, msPerMicroBatch: ms.reduce((a, b) => a + b, 0) / ms.length }));
else console.log(`${method} on ${device} (token_embd.weight in ${embeddingBuffers.join(', ')}): ${(ms.reduce((a, b) => a + b, 0) / ms.length).toFixed(1)} ms per micro-batch`);
trainer.dispose();
await model.dispose();
