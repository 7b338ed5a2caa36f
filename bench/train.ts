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
 * Base types (`--types`): LoRA over the GGUF types users download. The F32 made model is converted
 * by llama.cpp's own quantizer (`quantizeModel`, as `mfner quantize`) to each file type: f16,
 * bf16, q8_0, q4_0, q4_k_m, q5_k_m, q6_k (the *_k_m mixes as llama.cpp writes them: at width 896
 * some matrices fall back to other types). Full fine-tuning runs on the F32 base only. The file
 * size and peak RSS are reported per type. With the reference on, PyTorch F32 LoRA (the
 * baseline of every ratio) and PyTorch bfloat16 LoRA (`--dtype bfloat16`) run in the same rounds.
 *
 *   npx tsx bench/train.ts [--shapes qwen2.5-0.5b,llama-3.2-1b] [--layers 2] [--steps 3] [--threads N]
 *                          [--seq 256] [--rounds 2] [--types f32,f16,bf16,q8_0,q4_k_m] [--methods lora,full]
 *                          [--no-reference]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Model } from '../lib/native/index.ts';
import { loadBinding } from '../lib/native/binding.ts';
import { trainingLoadOptions, Trainer } from '../lib/train/index.ts';
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
const types = opt('types', 'f32').split(',');
const methods = opt('methods', 'lora,full').split(',') as ('lora' | 'full')[];
for (const m of methods) if (m !== 'lora' && m !== 'full') throw new Error(`--methods: lora, full (not ${m})`);

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

interface RefRow { method: string; dtype?: string; trainTokS: number; forwardTokS: number; msPerStep: number; peakMiB: number; trainable: number }
interface Row { method: string; trainTokS: number; forwardTokS: number; ratio: number; peakMiB: number; loadedMiB: number; trainable: number; msPerStep: number; fileMiB: number }

/** The bench model in a llama.cpp file type: the F32 made model, quantized once and cached beside it. */
async function modelFile(shape: string, type: string): Promise<string> {
  const f32 = await SHAPES[shape].make(layers);
  if (type === 'f32') return f32;
  const out = f32.replace(/\.gguf$/, `-${type}.gguf`);
  if (!existsSync(out)) await loadBinding().quantizeModel({ input: f32, output: out, type, threads });
  return out;
}

async function child(shape: string, method: 'lora' | 'full', type: string): Promise<Row> {
  const file = await modelFile(shape, type);
  const vocab = SHAPES[shape].vocab;
  const model = await Model.load(file, trainingLoadOptions(method));
  const trainer = Trainer.create(model, { method, contextSize: seq, threads, rank: 16, alpha: 32, lr: 1e-5 });
  // anonymous RSS before any step (Linux): the process, tokenizer, adapter and inference buffers,
  // without the model file's mapped pages; the peak adds the file as read and the training graph
  // (activations, gradients, optimizer moments), so peak − file − this is the training graph
  const anon = /RssAnon:\s+(\d+) kB/.exec(existsSync('/proc/self/status') ? readFileSync('/proc/self/status', 'utf8') : '');
  const loadedMiB = anon ? Number(anon[1]) / 1024 : process.memoryUsage().rss / 2 ** 20;
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
    loadedMiB,
    trainable: trainer.info().trainableParameters,
    msPerStep: train / steps,
    fileMiB: statSync(file).size / 2 ** 20,
  };
  await trainer.dispose();
  await model.dispose();
  return row;
}

if (args[0] === '--child') {
  process.stdout.write(`${JSON.stringify(await child(args[1], args[2] as 'lora' | 'full', args[3]))}\n`);
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
  const runMfner = (shape: string, method: string, type: string): Row => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', here, '--child', shape, method, type, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    if (r.status !== 0) throw new Error(`mfner ${method} ${type} child failed (${r.status ?? r.signal})`);
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as Row;
  };
  const runTorch = (shape: string, method: string, dtype: string): RefRow => {
    const r = spawnSync(python!, [reference, '--method', method, '--dtype', dtype, '--layers', String(layers), '--steps', String(steps), '--threads', String(threads), '--seq', String(seq), '--rank', '16', '--alpha', '32', ...SHAPES[shape].reference], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads) },
    });
    if (r.status !== 0) throw new Error(`PyTorch ${method} ${dtype} reference failed (${r.status})`);
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as RefRow;
  };
  // mfner rows: LoRA over every --types base, full fine-tuning over F32; PyTorch rows: F32 for
  // each method (the baseline of its ratios), bfloat16 LoRA beside it
  const keys = shapes.flatMap((shape) => methods.flatMap((method) => (method === 'lora' ? types : ['f32']).map((type) => ({ shape, method, type, key: `${shape} ${method} ${type}` }))));
  const refKeys = python ? shapes.flatMap((shape) => methods.flatMap((method) => (method === 'lora' ? ['float32', 'bfloat16'] : ['float32']).map((dtype) => ({ shape, method, dtype, key: `${shape} ${method} ${dtype}` })))) : [];
  const mf: Record<string, Row[]> = Object.fromEntries(keys.map((k) => [k.key, []]));
  const pt: Record<string, RefRow[]> = Object.fromEntries(refKeys.map((k) => [k.key, []]));
  const report = (round: number, key: string, side: string, last: Row | RefRow) =>
    console.error(`round ${round + 1}/${rounds} ${key} ${side}: ${last.trainTokS.toFixed(1)} train tok/s, peak ${last.peakMiB.toFixed(0)} MiB`);
  for (let round = 0; round < rounds; round++) {
    // the machine drifts: alternate which side goes first, and reverse the order of the base
    // types, round by round, so that a drift within a round does not favour one of them
    const sides = round % 2 === 0 ? ['mfner', 'torch'] : ['torch', 'mfner'];
    const ordered = round % 2 === 0 ? keys : [...keys].reverse();
    for (const side of sides) {
      if (side === 'mfner') {
        for (const { shape, method, type, key } of ordered) report(round, key, 'mfner', (mf[key].push(runMfner(shape, method, type)), mf[key].at(-1)!));
      } else {
        for (const { shape, method, dtype, key } of refKeys) report(round, key, 'PyTorch', (pt[key].push(runTorch(shape, method, dtype)), pt[key].at(-1)!));
      }
    }
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const max = (xs: number[]) => Math.max(...xs);
  console.log(`made models with ${layers} layer(s) on both sides, sequence ${seq}, ${steps} timed steps after one warm-up, ${threads} threads, ${rounds} alternating round(s), ${os.cpus()[0]?.model ?? 'cpu'}; reference: ${python ? `${python} (${why})` : 'skipped'}`);
  for (const shape of shapes) console.log(`- ${shape}: ${SHAPES[shape].label}`);
  console.log('| shape | method | base | file MiB | trainable params | train tok/s | forward-only tok/s | ms/step | anon RSS before a step MiB | peak RSS MiB | peak − file − before (training graph) MiB | ÷ F32 base | ÷ PyTorch F32 (per round) |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const { shape, method, type, key } of keys) {
    const m = mf[key];
    const tok = mean(m.map((r) => r.trainTokS));
    const f32 = mf[`${shape} ${method} f32`];
    const ref = pt[`${shape} ${method} float32`];
    const peak = max(m.map((r) => r.peakMiB));
    const loaded = max(m.map((r) => r.loadedMiB));
    // without mmap (full fine-tuning) the weights are anonymous memory already: no file term
    const graph = method === 'lora' ? (peak - m[0].fileMiB - loaded).toFixed(0) : '–';
    const cells = [shape, method, `mfner ${type}`, m[0].fileMiB.toFixed(0), m[0].trainable.toLocaleString('en-US'), tok.toFixed(1), mean(m.map((r) => r.forwardTokS)).toFixed(1), mean(m.map((r) => r.msPerStep)).toFixed(0), loaded.toFixed(0), peak.toFixed(0), graph];
    cells.push(f32?.length ? `${(tok / mean(f32.map((r) => r.trainTokS))).toFixed(2)}x (${m.map((r, i) => (r.trainTokS / f32[i].trainTokS).toFixed(2)).join(', ')})` : '–');
    // per round: this row against its round's PyTorch F32, and against its round's F32 base
    cells.push(ref?.length ? `${(tok / mean(ref.map((r) => r.trainTokS))).toFixed(2)}x (${m.map((r, i) => (r.trainTokS / ref[i].trainTokS).toFixed(2)).join(', ')})` : '–');
    console.log(`| ${cells.join(' | ')} |`);
  }
  for (const { shape, method, dtype, key } of refKeys) {
    const p = pt[key];
    const tok = mean(p.map((r) => r.trainTokS));
    const ref = pt[`${shape} ${method} float32`];
    console.log(`| ${shape} | ${method} | PyTorch ${dtype} | – | ${p[0].trainable.toLocaleString('en-US')} | ${tok.toFixed(1)} | ${mean(p.map((r) => r.forwardTokS)).toFixed(1)} | ${mean(p.map((r) => r.msPerStep)).toFixed(0)} | – | ${max(p.map((r) => r.peakMiB)).toFixed(0)} | – | – | ${(tok / mean(ref.map((r) => r.trainTokS))).toFixed(2)}x |`);
  }
  if (python) console.log('goals (issue 29): F16 base ≥ 1.0x the F32 base; the best of BF16 / Q8_0 ≥ 1.5x PyTorch F32 LoRA; peak RSS ≤ file + activations + 0.5 GB (anon RSS before a step ≤ 512 MiB)');
}
