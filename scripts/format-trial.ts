/**
 * A short trial of one training recipe, the way docs/training.md compares them: a corpus model
 * (the --scale cpu vocabulary and shape), trained with --scale cpu's settings for a few thousand
 * steps on one configuration, scored on 500 test sentences of NCBI-disease and BC5CDR with the
 * format constraint, and on NCBI-disease without it (does the model copy, or answer from memory?).
 *
 *   npx tsx scripts/format-trial.ts --out tmp/trial [--steps 2000] [--pieces trailing|isolated]
 *     [--config only:multi_term] [--mention-replacement 1] [--model file.gguf] [--threads 2]
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Model } from '../lib/native/index.ts';
import { makeCorpusModel } from '../lib/train/corpus-model.ts';
import { datasetTrainingData, runTraining, type TrainingData } from '../lib/train/index.ts';
import { runEvaluation } from '../lib/pipeline/evaluate.ts';
import { FALLBACK_CHAT_TEMPLATE } from '../lib/pipeline/extract.ts';
import { CPU_CONFIGURATION, SCALES } from '../lib/pipeline/reproduce.ts';

const { values: a } = parseArgs({
  options: {
    out: { type: 'string' },
    steps: { type: 'string', default: '2000' },
    pieces: { type: 'string', default: 'trailing' },
    config: { type: 'string', default: 'only:multi_term' },
    'mention-replacement': { type: 'string', default: '0' },
    model: { type: 'string' },
    threads: { type: 'string', default: '2' },
    root: { type: 'string', default: '../shared/corpora' },
  },
});
if (!a.out || !['trailing', 'isolated'].includes(a.pieces!)) {
  console.error('usage: format-trial.ts --out <dir> [--steps n] [--pieces trailing|isolated] [--config c] [--mention-replacement n] [--model gguf]');
  process.exit(2);
}
const started = Date.now();
const log = (s: string) => console.log(`${new Date().toISOString().slice(11, 19)} ${s}`);
const plan = SCALES.cpu;
const threads = Number(a.threads);
const datasets = plan.datasets;
let file = a.model;
if (!file) {
  // The vocabulary of --scale cpu (learnt from its four formats), so trials share one model.
  const m = await makeCorpusModel({ datasets, configurations: [CPU_CONFIGURATION], root: a.root, vocabSize: plan.corpusVocabSize, trailingSpace: a.pieces === 'trailing', dir: path.join(a.out, 'models') });
  file = m.path;
}
const parts: TrainingData[] = [];
for (const d of datasets) parts.push(await datasetTrainingData({ datasets: [d], configuration: a.config!, draw: 1, devCap: 0, root: a.root, mentionReplacement: Number(a['mention-replacement']) }));
const data: TrainingData = { train: parts.flatMap((p) => p.train), dev: [], report: parts[0].report };
log(`${data.train.length} training examples, model ${file}`);
const model = await Model.load(file);
const chatTemplate = model.metadata.chatTemplate ? undefined : FALLBACK_CHAT_TEMPLATE;
await model.dispose();
const s = plan.train;
let last = 0;
const t = await runTraining({
  model: file, method: 'full', data, out: path.join(a.out, 'train'), maxSteps: Number(a.steps),
  batchSize: s.batchSize, accumulation: s.accumulation, lr: s.lr, schedule: s.schedule, warmupRatio: s.warmupRatio, weightDecay: s.weightDecay,
  evaluate: false, contextSize: s.contextSize, threads, chatTemplate, generation: { maxTokens: plan.maxTokens, batchSize: plan.batchSize },
  onProgress: (p) => {
    if (Date.now() - last < 60_000) return;
    last = Date.now();
    log(`step ${p.step}/${p.totalSteps}, loss ${p.loss.toFixed(3)}, ${p.tokensPerSecond.toFixed(0)} tokens/s`);
  },
});
log(`trained ${t.steps} steps in ${t.seconds.toFixed(0)} s, ${t.tokensPerSecond.toFixed(0)} tokens/s, final loss ${t.finalLoss?.toFixed(3)}`);
for (const constraint of ['format', 'none'] as const) {
  const runs = await runEvaluation({
    model: t.result!, modelName: `trial-${constraint}`, datasets: constraint === 'none' ? ['NCBI-disease'] : datasets, configuration: a.config!, draws: [1],
    testCap: plan.testCap, out: path.join(a.out, `eval-${constraint}`), root: a.root, extract: { maxTokens: plan.maxTokens, batchSize: plan.batchSize, threads, constraint },
  });
  for (const r of runs) log(`constraint ${constraint}: ${r.summary.dataset} ${r.summary.format} F1 ${r.summary.f1.toFixed(3)} (P ${r.summary.precision.toFixed(3)}, R ${r.summary.recall.toFixed(3)})`);
}
log(`${((Date.now() - started) / 1000).toFixed(0)} s in all`);
