/**
 * Steps of one group (trainer.ts epochSteps, TrainExample.group) against the plain shuffle, for
 * a configuration that mixes prompts: under `each:` a step of eight mixed examples shares only
 * the system turn, a step of one (dataset, format, types) group also shares the instruction
 * (packExamples' sharePrefixes). Both arms train the same pool of examples once, from the same
 * weights, in the same process, alternating rounds; reported: example tokens/s and seconds per
 * pool of each arm, and the ratio.
 *
 *   npx tsx bench/grouped-steps.ts [--configuration each:multi_term+single_tag+multi_span+multi_bio]
 *     [--datasets NCBI-disease,BC5CDR] [--pool 320] [--batch 8] [--rounds 2] [--threads 2] [--root ../shared/corpora]
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { Model } from '../lib/native/index.ts';
import { packageRoot } from '../lib/native/package-root.ts';
import { FULL_FINE_TUNING_LOAD, Trainer, packExamples } from '../lib/train/index.ts';
import { epochSteps } from '../lib/train/trainer.ts';
import { makeCorpusModel } from '../lib/train/corpus-model.ts';
import { datasetTrainingData } from '../lib/train/data.ts';

const { values } = parseArgs({
  options: {
    configuration: { type: 'string', default: 'each:multi_term+single_tag+multi_span+multi_bio' },
    datasets: { type: 'string', default: 'NCBI-disease,BC5CDR' },
    pool: { type: 'string', default: '320' },
    batch: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '2' },
    threads: { type: 'string', default: String(Math.min(os.availableParallelism(), 2)) },
    root: { type: 'string', default: path.join(packageRoot, '..', 'shared', 'corpora') },
  },
});
const configuration = values.configuration;
const datasets = values.datasets.split(',');
const pool = Number(values.pool);
const batch = Number(values.batch);
const rounds = Number(values.rounds);
const threads = Number(values.threads);
const root = values.root;
const context = 1024;

if (!existsSync(root)) {
  console.log(`skipped: no corpora at ${root} (--root)`);
  process.exit(0);
}
const made = await makeCorpusModel({ datasets, configurations: [configuration], dir: path.join(packageRoot, '.cache', 'models'), root, vocabSize: 12288 });
const parts = await Promise.all(datasets.map((d) => datasetTrainingData({ datasets: [d], configuration, draw: 1, devCap: 0, root })));
const all = parts.flatMap((p) => p.train);
// a seeded, spread-out pool, the same in both arms
const examples = all.filter((_, i) => i % Math.max(1, Math.floor(all.length / pool)) === 0).slice(0, pool);
const groups = examples.map((e) => e.group);
const arms = { mixed: examples.map(() => undefined), grouped: groups };

const model = await Model.load(made.path, FULL_FINE_TUNING_LOAD);
const totals: Record<string, { seconds: number; tokens: number; steps: number }> = { mixed: { seconds: 0, tokens: 0, steps: 0 }, grouped: { seconds: 0, tokens: 0, steps: 0 } };
for (let r = 0; r < rounds; r++) {
  const order = r % 2 === 0 ? (['mixed', 'grouped'] as const) : (['grouped', 'mixed'] as const);
  for (const arm of order) {
    const trainer = Trainer.create(model, { method: 'full', contextSize: context, threads, lr: 1e-3 });
    try {
      const tok = examples.map((e) => trainer.tokenize(e));
      const usable = tok.map((_, i) => i).filter((i) => tok[i].tokens.length <= context && tok[i].targets > 0);
      await trainer.loadWeights(made.path);
      // graph allocation on a first step, untimed
      await trainer.optimizerStep(packExamples(tok, usable.slice(0, batch), context, { sharePrefixes: true }), 1e-3);
      const steps = epochSteps(arms[arm], usable, batch, 11 + r);
      const t0 = performance.now();
      for (const s of steps) totals[arm].tokens += (await trainer.optimizerStep(packExamples(tok, s, context, { sharePrefixes: true }), 1e-3)).tokens;
      totals[arm].seconds += (performance.now() - t0) / 1000;
      totals[arm].steps += steps.length;
    } finally {
      trainer.dispose();
    }
  }
}
await model.dispose();
const rate = (a: string) => totals[a].tokens / totals[a].seconds;
console.log(`model ${path.basename(made.path)} (${made.shape.nLayer} x ${made.shape.nEmbd}, vocabulary ${made.vocabularySize}); ${configuration} on ${datasets.join(',')}; pool ${examples.length} examples (${new Set(groups).size} groups), batch ${batch}, ${threads} threads, ${rounds} rounds`);
for (const a of Object.keys(arms)) console.log(`${a.padEnd(8)} ${rate(a).toFixed(0)} example tokens/s, ${(totals[a].seconds / rounds).toFixed(1)} s per pool in ${totals[a].steps / rounds} steps`);
console.log(`ratio grouped / mixed: ${(rate('grouped') / rate('mixed')).toFixed(2)}x`);
