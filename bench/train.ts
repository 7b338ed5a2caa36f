/**
 * Training throughput and peak memory: LoRA (rank 16, all linear layers) and full fine-tuning
 * on a made model of the Qwen2.5-0.5B shape (width 896, 14/2 heads, FFN 4864, Qwen vocabulary,
 * tied head, F32) with fewer layers (--layers, default 2: the 151k-row embedding dominates
 * either way), sequence 256, a few steps. Baseline in the same run: a forward-only pass
 * (loss, no backward) on the same trainer; ratios are train/forward time per token.
 * Each configuration runs in its own child process so its peak RSS is its own.
 *
 *   npx tsx bench/train.ts [--layers 2] [--steps 3] [--threads N] [--seq 256]
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Model } from '../lib/native/index.ts';
import { Trainer } from '../lib/train/index.ts';
import { madeF32Qwen } from '../test/train/helpers.ts';

const args = process.argv.slice(2);
const opt = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const layers = Number(opt('layers', '2'));
const steps = Number(opt('steps', '3'));
const threads = Number(opt('threads', String(Math.min(os.availableParallelism(), 8))));
const seq = Number(opt('seq', '256'));

interface Row { method: string; trainTokS: number; forwardTokS: number; ratio: number; peakMiB: number; trainable: number; msPerStep: number }

async function child(method: 'lora' | 'full'): Promise<Row> {
  const file = await madeF32Qwen(`bench-qwen05-${layers}l`, { nEmbd: 896, nLayer: layers, nHead: 14, nHeadKv: 2, nFf: 4864 });
  const model = await Model.load(file, { useMmap: method === 'lora' });
  const trainer = Trainer.create(model, { method, contextSize: seq, threads, rank: 16, alpha: 32, lr: 1e-5 });
  let state = 12345;
  const rand = () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 4294967296);
  const batch = () => {
    const tokens = Int32Array.from({ length: seq }, () => 1 + Math.floor(rand() * 150000));
    const labels = new Int32Array(seq).fill(-1);
    for (let i = seq / 2; i < seq - 1; i++) labels[i] = tokens[i + 1];
    return { tokens, positions: Int32Array.from({ length: seq }, (_, i) => i), sequences: new Int32Array(seq), labels, targets: seq / 2 - 1, examples: [0] };
  };
  // warm-up (graph allocation)
  await trainer.optimizerStep([batch()], 1e-5);
  let train = 0;
  let forward = 0;
  for (let s = 0; s < steps; s++) {
    const b = batch();
    let t0 = performance.now();
    await trainer.native.step({ ...b, backward: false, apply: false });
    forward += performance.now() - t0;
    t0 = performance.now();
    await trainer.optimizerStep([b], 1e-5);
    train += performance.now() - t0;
  }
  const row: Row = {
    method,
    trainTokS: (seq * steps) / (train / 1000),
    forwardTokS: (seq * steps) / (forward / 1000),
    ratio: train / forward,
    peakMiB: process.resourceUsage().maxRSS / 1024,
    trainable: trainer.info().trainableParameters,
    msPerStep: train / steps,
  };
  trainer.dispose();
  await model.dispose();
  return row;
}

if (args[0] === '--child') {
  process.stdout.write(`${JSON.stringify(await child(args[1] as 'lora' | 'full'))}\n`);
} else {
  const rows: Row[] = [];
  for (const method of ['lora', 'full']) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', method, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    if (r.status !== 0) throw new Error(`${method} child failed (${r.status})`);
    rows.push(JSON.parse(r.stdout.trim().split('\n').pop()!) as Row);
  }
  console.log(`made Qwen2.5-0.5B shape with ${layers} layer(s) (width 896, 14/2 heads, FFN 4864, vocab 151936, tied, F32), sequence ${seq}, ${steps} steps, ${threads} threads, ${os.cpus()[0]?.model ?? 'cpu'}`);
  console.log('| method | trainable params | train tok/s | forward-only tok/s | train/forward time | ms/step | peak RSS MiB |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.method} | ${r.trainable.toLocaleString('en-US')} | ${r.trainTokS.toFixed(0)} | ${r.forwardTokS.toFixed(0)} | ${r.ratio.toFixed(2)}x | ${r.msPerStep.toFixed(0)} | ${r.peakMiB.toFixed(0)} |`);
  console.log(`full/LoRA step time: ${(rows[1].msPerStep / rows[0].msPerStep).toFixed(2)}x; full/LoRA peak memory: ${(rows[1].peakMiB / rows[0].peakMiB).toFixed(2)}x`);
}
