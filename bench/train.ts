/**
 * Training throughput and peak memory: LoRA (rank 16, all linear layers) and full fine-tuning
 * on made models of the Qwen2.5-0.5B shape (width 896, 14/2 heads, FFN 4864, Qwen vocabulary,
 * QKV bias) and the Llama-3.2-1B shape (width 2048, 32/8 heads, FFN 8192, Llama 3 vocabulary),
 * both with a tied head and F32, with fewer layers (--layers, default 2: the 128k-152k-row
 * embedding dominates either way), sequence 256, a few steps. Baseline in the same run: a forward-only pass
 * (loss, no backward) on the same trainer; ratios are train/forward time per token.
 * Each configuration runs in its own child process so its peak RSS is its own.
 *
 * PyTorch CPU reference (bench/train_reference.py): the same Qwen2 architecture, shape, layer
 * count, sequence, labelled rows, LoRA rank/alpha/targets and AdamW, at the same thread count,
 * run in the same invocation in alternating rounds (mfner, PyTorch, then PyTorch, mfner, ...)
 * because these machines drift. Needs Debian's python3-torch with libopenblas0-openmp (without
 * it torch uses a reference BLAS ~70x slower); the python is $MFNER_PYTHON, else the first of
 * /usr/bin/python3, python3 that imports torch; without one the reference is skipped, saying so.
 *
 *   npx tsx bench/train.ts [--shapes qwen2.5-0.5b,llama-3.2-1b] [--layers 2] [--steps 3] [--threads N]
 *                          [--seq 256] [--rounds 2] [--no-reference]
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Model } from '../lib/native/index.ts';
import { FULL_FINE_TUNING_LOAD, Trainer } from '../lib/train/index.ts';
import { ARCHITECTURES, SHAPES as MADE_SHAPES, type MadeArchitecture } from '../lib/native/make-model.ts';
import { madeF32 } from '../test/train/helpers.ts';

const args = process.argv.slice(2);
const opt = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const layers = Number(opt('layers', '2'));
const steps = Number(opt('steps', '3'));
const threads = Number(opt('threads', String(Math.min(os.availableParallelism(), 8))));
const seq = Number(opt('seq', '256'));
const rounds = Number(opt('rounds', '2'));
const shapes = opt('shapes', 'qwen2.5-0.5b,llama-3.2-1b').split(',');

/**
 * The two paper models' shapes (lib/native/make-model.ts, from the Hugging Face configs) with
 * `--layers` layers, and the PyTorch reference's flags for the same block.
 */
function benchShape(architecture: MadeArchitecture, shape: 'qwen2.5-0.5b' | 'llama-3.2-1b', vocab: number) {
  const s = MADE_SHAPES[shape];
  const a = ARCHITECTURES[architecture];
  return {
    label: `${shape} shape (width ${s.nEmbd}, ${s.nHead}/${s.nHeadKv} heads, FFN ${s.nFf}, vocab ${vocab}${a.qkvBias ? ', QKV bias' : ''}, tied, F32)`,
    make: (l: number) => madeF32(architecture, `bench-${shape}-${l}l`, { nEmbd: s.nEmbd, nLayer: l, nHead: s.nHead, nHeadKv: s.nHeadKv, nFf: s.nFf }),
    vocab,
    reference: [
      ...['--width', s.nEmbd, '--heads', s.nHead, '--kv-heads', s.nHeadKv, '--ffn', s.nFf, '--vocab', vocab, '--rope-theta', a.ropeTheta, '--eps', a.rmsEps].map(String),
      ...(a.qkvBias ? [] : ['--no-qkv-bias']),
    ],
  };
}
const SHAPES: Record<string, ReturnType<typeof benchShape>> = {
  'qwen2.5-0.5b': benchShape('qwen2', 'qwen2.5-0.5b', 151936),
  'llama-3.2-1b': benchShape('llama', 'llama-3.2-1b', 128256),
};
for (const shape of shapes) if (!SHAPES[shape]) throw new Error(`--shapes: unknown shape ${shape} (known: ${Object.keys(SHAPES).join(', ')})`);

interface RefRow { method: string; trainTokS: number; forwardTokS: number; msPerStep: number; peakMiB: number; trainable: number }
interface Row { method: string; trainTokS: number; forwardTokS: number; ratio: number; peakMiB: number; trainable: number; msPerStep: number }

async function child(shape: string, method: 'lora' | 'full'): Promise<Row> {
  const file = await SHAPES[shape].make(layers);
  const vocab = SHAPES[shape].vocab;
  const model = await Model.load(file, method === 'full' ? FULL_FINE_TUNING_LOAD : {});
  const trainer = Trainer.create(model, { method, contextSize: seq, threads, rank: 16, alpha: 32, lr: 1e-5 });
  let state = 12345;
  const rand = () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 4294967296);
  const batch = () => {
    const tokens = Int32Array.from({ length: seq }, () => 1 + Math.floor(rand() * (vocab - 2000)));
    const labels = new Int32Array(seq).fill(-1);
    for (let i = seq / 2; i < seq - 1; i++) labels[i] = tokens[i + 1];
    return { tokens, positions: Int32Array.from({ length: seq }, (_, i) => i), sequences: new Int32Array(seq), labels, targets: seq / 2 - 1, examples: [0], exampleTokens: seq };
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
  process.stdout.write(`${JSON.stringify(await child(args[1], args[2] as 'lora' | 'full'))}\n`);
} else {
  const here = fileURLToPath(import.meta.url);
  const reference = path.join(path.dirname(here), 'train_reference.py');
  const findPython = (): { python?: string; why: string } => {
    if (args.includes('--no-reference')) return { why: '--no-reference' };
    const candidates = process.env.MFNER_PYTHON ? [process.env.MFNER_PYTHON] : ['/usr/bin/python3', 'python3'];
    for (const c of candidates) {
      if (c.startsWith('/') && !existsSync(c)) continue;
      const r = spawnSync(c, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
      if (r.status === 0) return { python: c, why: `torch ${r.stdout.trim()}` };
    }
    return { why: `no python with torch among ${candidates.join(', ')} (apt-get install -y python3-torch libopenblas0-openmp, or set MFNER_PYTHON)` };
  };
  const { python, why } = findPython();
  if (!python) console.log(`PyTorch reference skipped: ${why}`);
  const runMfner = (shape: string, method: string): Row => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', here, '--child', shape, method, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    if (r.status !== 0) throw new Error(`mfner ${method} child failed (${r.status})`);
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as Row;
  };
  const runTorch = (shape: string, method: string): RefRow => {
    const r = spawnSync(python!, [reference, '--method', method, '--layers', String(layers), '--steps', String(steps), '--threads', String(threads), '--seq', String(seq), '--rank', '16', '--alpha', '32', ...SHAPES[shape].reference], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads) },
    });
    if (r.status !== 0) throw new Error(`PyTorch ${method} reference failed (${r.status})`);
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as RefRow;
  };
  const keys = shapes.flatMap((shape) => ['lora', 'full'].map((method) => ({ shape, method, key: `${shape} ${method}` })));
  const mf: Record<string, Row[]> = Object.fromEntries(keys.map((k) => [k.key, []]));
  const pt: Record<string, RefRow[]> = Object.fromEntries(keys.map((k) => [k.key, []]));
  for (let round = 0; round < rounds; round++) {
    for (const { shape, method, key } of keys) {
      const order = python ? (round % 2 === 0 ? ['mfner', 'torch'] : ['torch', 'mfner']) : ['mfner'];
      for (const side of order) {
        if (side === 'mfner') mf[key].push(runMfner(shape, method));
        else pt[key].push(runTorch(shape, method));
        const last = side === 'mfner' ? mf[key].at(-1)! : pt[key].at(-1)!;
        console.error(`round ${round + 1}/${rounds} ${key} ${side}: ${last.trainTokS.toFixed(1)} train tok/s, peak ${last.peakMiB.toFixed(0)} MiB`);
      }
    }
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const max = (xs: number[]) => Math.max(...xs);
  console.log(`made models with ${layers} layer(s) on both sides, sequence ${seq}, ${steps} timed steps after one warm-up, ${threads} threads, ${rounds} alternating round(s), ${os.cpus()[0]?.model ?? 'cpu'}; reference: ${python ? `${python} (${why})` : 'skipped'}`);
  for (const shape of shapes) console.log(`- ${shape}: ${SHAPES[shape].label}`);
  console.log('| shape | method | trainable params | mfner train tok/s | mfner forward-only tok/s | mfner ms/step | mfner peak RSS MiB | PyTorch train tok/s | PyTorch forward-only tok/s | PyTorch peak RSS MiB | mfner ÷ PyTorch train (per round) | memory mfner ÷ PyTorch |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const { shape, method, key } of keys) {
    const m = mf[key];
    const p = pt[key];
    const cells = [shape, method, m[0].trainable.toLocaleString('en-US'), mean(m.map((r) => r.trainTokS)).toFixed(1), mean(m.map((r) => r.forwardTokS)).toFixed(1), mean(m.map((r) => r.msPerStep)).toFixed(0), max(m.map((r) => r.peakMiB)).toFixed(0)];
    if (p.length) {
      const ratios = m.map((r, i) => r.trainTokS / p[i].trainTokS);
      cells.push(mean(p.map((r) => r.trainTokS)).toFixed(1), mean(p.map((r) => r.forwardTokS)).toFixed(1), max(p.map((r) => r.peakMiB)).toFixed(0), `${(mean(m.map((r) => r.trainTokS)) / mean(p.map((r) => r.trainTokS))).toFixed(2)}x (${ratios.map((x) => x.toFixed(2)).join(', ')})`, `${(max(m.map((r) => r.peakMiB)) / max(p.map((r) => r.peakMiB))).toFixed(2)}x`);
      if (p[0].trainable !== m[0].trainable) console.log(`note: trainable parameters differ for ${key}: mfner ${m[0].trainable}, PyTorch ${p[0].trainable}`);
    } else cells.push('–', '–', '–', '–', '–');
    console.log(`| ${cells.join(' | ')} |`);
  }
  if (python) console.log('goal: mfner ÷ PyTorch train tok/s ≥ 1.5x');
}
