/**
 * Shared-prefix training (packExamples' sharePrefixes, patch 0011) against unshared packing, on
 * the model `--scale cpu` trains (a corpus model, made under .cache/models if absent) and real
 * training examples of one configuration. Both arms start from the same weights and take the same
 * steps over the same examples in the same process, alternating rounds (these machines drift);
 * reported: example tokens/s of each arm, the ratio, rows computed per example token, and the
 * largest loss difference between the arms' first steps (they should agree to float rounding).
 *
 *   npx tsx bench/shared-prefix.ts [--configuration only:multi_term] [--datasets NCBI-disease,BC5CDR]
 *     [--steps 8] [--batch 8] [--context 1024] [--rounds 2] [--threads 2] [--root ../shared/corpora]
 */
import os from 'node:os';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { Model } from '../lib/native/index.ts';
import { packageRoot } from '../lib/native/package-root.ts';
import { FULL_FINE_TUNING_LOAD, Trainer, packExamples } from '../lib/train/index.ts';
import { makeCorpusModel } from '../lib/train/corpus-model.ts';
import { datasetTrainingData } from '../lib/train/data.ts';

const args = process.argv.slice(2);
const opt = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const configuration = opt('configuration', 'only:multi_term');
const datasets = opt('datasets', 'NCBI-disease,BC5CDR').split(',');
const steps = Number(opt('steps', '8'));
const batch = Number(opt('batch', '8'));
const context = Number(opt('context', '1024'));
const rounds = Number(opt('rounds', '2'));
const threads = Number(opt('threads', String(Math.min(os.availableParallelism(), 2))));
const root = opt('root', path.join(packageRoot, '..', 'shared', 'corpora'));

if (!existsSync(root)) {
  console.log(`skipped: no corpora at ${root} (--root)`);
  process.exit(0);
}
const made = await makeCorpusModel({ datasets, configurations: ['only:multi_term', 'only:single_tag', 'only:multi_span', 'only:multi_bio'], dir: path.join(packageRoot, '.cache', 'models'), root });
const data = await datasetTrainingData({ datasets, configuration, draw: 1, devCap: 0, root });
// the same examples in both arms: a seeded interleave of the datasets, as training shuffles them
const examples = data.train.filter((_, i) => i % 7 === 3).slice(0, steps * batch);

const model = await Model.load(made.path, FULL_FINE_TUNING_LOAD);
const arms = { unshared: false, shared: true } as const;
const totals: Record<string, { seconds: number; tokens: number; rows: number; firstLoss: number[] }> = { unshared: { seconds: 0, tokens: 0, rows: 0, firstLoss: [] }, shared: { seconds: 0, tokens: 0, rows: 0, firstLoss: [] } };
for (let r = 0; r < rounds; r++) {
  const order = r % 2 === 0 ? (['unshared', 'shared'] as const) : (['shared', 'unshared'] as const);
  for (const arm of order) {
    const trainer = Trainer.create(model, { method: 'full', contextSize: context, threads, lr: 1e-3 });
    try {
      const tok = examples.map((e) => trainer.tokenize(e));
      await trainer.loadWeights(made.path);
      for (let s = 0; s < steps; s++) {
        const idx = Array.from({ length: batch }, (_, k) => s * batch + k).filter((i) => i < tok.length && tok[i].tokens.length <= context);
        const bs = packExamples(tok, idx, context, { sharePrefixes: arms[arm] });
        const t0 = performance.now();
        const { loss, tokens } = await trainer.optimizerStep(bs, 1e-3);
        // the first step is graph allocation: timed from the second on
        if (s > 0) {
          totals[arm].seconds += (performance.now() - t0) / 1000;
          totals[arm].tokens += tokens;
          totals[arm].rows += bs.reduce((a, b) => a + b.tokens.length, 0);
        } else if (r === 0) totals[arm].firstLoss.push(loss);
      }
    } finally {
      trainer.dispose();
    }
  }
}
await model.dispose();
const rate = (a: string) => totals[a].tokens / totals[a].seconds;
console.log(`model ${path.basename(made.path)} (${made.shape.nLayer} x ${made.shape.nEmbd}, vocabulary ${made.vocabularySize}); ${configuration} on ${datasets.join(',')}; ${steps} steps x ${batch} examples, context ${context}, ${threads} threads, ${rounds} rounds`);
for (const a of Object.keys(arms)) console.log(`${a.padEnd(9)} ${rate(a).toFixed(0)} example tokens/s, ${(totals[a].rows / totals[a].tokens).toFixed(3)} rows computed per example token`);
console.log(`ratio shared / unshared: ${(rate('shared') / rate('unshared')).toFixed(2)}x; first-step loss ${totals.unshared.firstLoss[0]?.toFixed(6)} vs ${totals.shared.firstLoss[0]?.toFixed(6)}`);
