/**
 * bench/decode: batched greedy decode throughput (tokens/s) with 1, 4 and 16 sequences on a made
 * Qwen2.5-0.5B-shape model, against llama.cpp's own llama-batched-bench built from the same
 * vendored source, same model, same threads, same KV layout, in the same run.
 *
 *   npx tsx bench/decode.ts [--threads N] [--pp 32] [--tg 32] [--pl 1,4,16] [--shape qwen2.5-0.5b]
 *
 * Both sides time only the generation phase: `tg` llama_decode calls of `pl` tokens each after
 * the prompts are in the cache. mfner's figure also includes sampling (argmax) and batch
 * building, which llama-batched-bench does not do at all.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Model, defaultThreads, madeModelPath, type MadeShape } from '../lib/native/index.ts';
import { packageRoot } from '../lib/native/package-root.ts';

const { values } = parseArgs({
  options: {
    threads: { type: 'string' },
    pp: { type: 'string', default: '32' },
    tg: { type: 'string', default: '32' },
    pl: { type: 'string', default: '1,4,16' },
    shape: { type: 'string', default: 'qwen2.5-0.5b' },
    reps: { type: 'string', default: '3' },
  },
});
const threads = Number(values.threads ?? defaultThreads());
const pp = Number(values.pp);
const tg = Number(values.tg);
const pls = values.pl!.split(',').map(Number);
const reps = Number(values.reps);
const ctxSize = Math.max(...pls) * (pp + tg + 1) + 16;

const batchedBench = path.join(packageRoot, 'build-cmake', 'llama-batched-bench');
if (!existsSync(batchedBench)) {
  process.stderr.write('building llama-batched-bench from the vendored source...\n');
  const r = spawnSync(process.execPath, [path.join(packageRoot, 'scripts', 'install.mjs'), '--target=llama-batched-bench'], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('could not build llama-batched-bench');
}

process.stderr.write(`making/using the ${values.shape} model...\n`);
const modelPath = await madeModelPath('qwen2', values.shape as MadeShape);

// The two sides alternate, `reps` times per batch size, and each keeps its best run: on a shared
// machine, interference only ever slows a run down, so the best is the fairest estimate.
function llamaCppOnce(pl: number): number {
  const ref = spawnSync(batchedBench, ['-m', modelPath, '-c', String(ctxSize), '-b', '2048', '-ub', '512', '-npp', String(pp), '-ntg', String(tg),
    '-npl', String(pl), '-t', String(threads), '-tb', String(threads), '-kvu', '--output-format', 'jsonl'], { encoding: 'utf8' });
  if (ref.status !== 0) throw new Error(`llama-batched-bench failed:\n${ref.stderr}`);
  for (const line of `${ref.stdout}\n${ref.stderr}`.split('\n')) {
    if (line.startsWith('{')) return (JSON.parse(line) as { speed_tg: number }).speed_tg;
  }
  throw new Error('llama-batched-bench printed no result');
}

const model = await Model.load(modelPath);
const vocab = model.metadata.vocabularySize;
const rows: { sequences: number; mfner: number; llamaCpp: number; ratio: number }[] = [];
for (const pl of pls) {
  const ctx = await model.createContext({ contextSize: ctxSize, batchSize: 2048, microBatchSize: 512, sequences: pl, threads });
  const prompts = Array.from({ length: pl }, (_, j) => Int32Array.from({ length: pp }, (_, i) => (1000 + 7919 * (i + 31 * j)) % vocab));
  await ctx.generate(prompts, { maxTokens: 2, ignoreEos: true }); // warm-up
  let mfner = 0;
  let llamaCpp = 0;
  for (let r = 0; r < reps; r++) {
    llamaCpp = Math.max(llamaCpp, llamaCppOnce(pl));
    // tg + 1 tokens: the first comes from the prompt's logits, then tg decode calls of pl tokens.
    const res = await ctx.generate(prompts, { maxTokens: tg + 1, ignoreEos: true });
    mfner = Math.max(mfner, (pl * tg) / (res.timings.generateMs / 1000));
  }
  rows.push({ sequences: pl, mfner, llamaCpp, ratio: mfner / llamaCpp });
  await ctx.dispose();
}
await model.dispose();

const lines = [
  `decode throughput, ${values.shape} (qwen2, F16, random weights), ${threads} thread(s), prompt ${pp}, generate ${tg}, best of ${reps}`,
  '| sequences | mfner tok/s | llama-batched-bench tok/s | ratio |',
  '|---:|---:|---:|---:|',
  ...rows.map((r) => `| ${r.sequences} | ${r.mfner.toFixed(2)} | ${r.llamaCpp.toFixed(2)} | ${r.ratio.toFixed(3)} |`),
];
process.stdout.write(`${lines.join('\n')}\n`);
const outDir = path.join(packageRoot, 'bench', 'results');
mkdirSync(outDir, { recursive: true });
writeFileSync(path.join(outDir, 'decode.json'), `${JSON.stringify({ shape: values.shape, threads, pp, tg, reps, rows, at: new Date().toISOString() }, null, 2)}\n`);
