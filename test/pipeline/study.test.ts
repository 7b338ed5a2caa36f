/** `eval` and `reproduce --scale smoke` on stories260K and the real corpora: the results layout, scores and report. */
import test from 'ava';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadDataset, sampleSplit } from '../../lib/corpus/index.ts';
import { readResults } from '../../lib/report/index.ts';
import { prf } from '../../lib/metrics/index.ts';
import { runEvaluation, runReproduce } from '../../lib/pipeline/index.ts';
import { sharedFile, reportMissing } from '../helpers/shared.ts';
import { THREADS, stories, tempDir } from '../native/helpers.ts';

const corpora = sharedFile('corpora', 'NCBI-disease');
const missing = stories.missing ?? corpora.missing;
const maybe = missing ? test.skip : test;
reportMissing(test, 'study tests', missing);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

maybe('eval writes one run per dataset, format and draw; gold counts reach the scores', async (t) => {
  const out = tempDir('mfner-eval-');
  // Forcing empty answers: no predictions, so every gold mention is a false negative.
  const runs = await runEvaluation({
    model: stories.path,
    datasets: ['NCBI-disease'],
    configuration: 'only:multi_term',
    draws: [1, 2],
    testCap: 3,
    out,
    extract: { constraint: 'root ::= "Answer: []"', maxTokens: 16, threads: THREADS, batchSize: 3 },
  });
  t.deepEqual(runs.map((r) => [r.run.dataset, r.run.format, r.run.draw]), [['NCBI-disease', 'multi_term', 1], ['NCBI-disease', 'multi_term', 2]]);
  const data = await loadDataset('NCBI-disease');
  for (const r of runs) {
    const gold = sampleSplit(data.splits.test, 'NCBI-disease', 'test', r.run.draw, 3);
    const mentions = gold.reduce((n, d) => n + d.entities.length, 0);
    t.deepEqual(r.run.scores.text.counts, { tp: 0, fp: 0, fn: mentions });
    t.deepEqual(r.run.predictions.map((p) => p.id), gold.map((d) => d.id));
    t.true(r.run.predictions.every((p) => p.answers.length === 1 && p.answers[0].problems.length === 0 && p.answers[0].raw === 'Answer: []'));
    t.is(r.summary.constraint, 'gbnf');
  }
  t.is(readResults(out).length, 2, 'the results directory validates');
});

maybe('eval --dev-threshold: a second run per format keeps a subset of the predictions, at a threshold no worse on the dev sample', async (t) => {
  const out = tempDir('mfner-eval-thr-');
  const runs = await runEvaluation({
    model: stories.path,
    datasets: ['NCBI-disease'],
    configuration: 'only:multi_term',
    draws: [1],
    testCap: 4,
    devThreshold: true,
    devCap: 4,
    out,
    extract: { maxTokens: 48, threads: THREADS, batchSize: 4 },
  });
  t.deepEqual(runs.map((r) => r.run.model), ['stories260K', 'stories260K+dev-threshold']);
  const [greedy, filtered] = runs.map((r) => r.run);
  t.is(greedy.threshold, undefined);
  const thr = filtered.threshold;
  if (!thr) return t.fail('the filtered run records no threshold');
  t.is(thr.devDocuments, 4);
  t.true(prf(thr.dev).f1 >= prf(thr.devUnfiltered).f1);
  t.true(thr.minConfidence >= 0 && thr.minConfidence <= 1);
  const key = (e: { type: string; spans: unknown; text: string }) => JSON.stringify([e.type, e.spans, e.text]);
  greedy.predictions.forEach((p, i) => {
    const kept = new Set(p.entities.map(key));
    t.true(filtered.predictions[i].entities.every((e) => kept.has(key(e))), `document ${i}: only the greedy run's entities`);
  });
  // dropping false positives only lowers fp; the gold side is the same sample
  t.true(filtered.scores.text.counts.fp <= greedy.scores.text.counts.fp);
  t.is(filtered.scores.text.counts.tp + filtered.scores.text.counts.fn, greedy.scores.text.counts.tp + greedy.scores.text.counts.fn);
  t.is(readResults(out).length, 2, 'both runs validate');
});

maybe('reproduce --scale smoke: sample, train (4 LoRA steps), evaluate the adapter on 2 datasets × 2 formats × 1 draw, report', async (t) => {
  const out = tempDir('mfner-repro-');
  const logs: string[] = [];
  const summary = await runReproduce({ models: [stories.path], out, scale: 'smoke', threads: THREADS, log: (l) => logs.push(l) });
  t.deepEqual(summary.models, ['stories260K']);
  t.is(summary.steps.length, 1);
  const trained = summary.steps[0].train;
  if (trained === 'skipped') t.fail('the train step was skipped');
  else {
    t.is(trained.method, 'lora');
    t.is(trained.steps, 4);
    t.true(Number.isFinite(trained.finalLoss) && existsSync(trained.result!));
  }
  t.true(summary.steps[0].sampled['NCBI-disease'] > 0 && summary.steps[0].sampled.BC5CDR > 0);
  t.true(logs.some((l) => /trained \(lora\) 4 steps/u.test(l)));
  const runs = readResults(out);
  t.deepEqual(
    runs.map((r) => `${r.dataset}/${r.format}`).sort(),
    ['BC5CDR/multi_term', 'BC5CDR/single_term', 'NCBI-disease/multi_term', 'NCBI-disease/single_term'],
  );
  t.true(existsSync(path.join(out, 'report', 'report.md')));
  t.regex(readFileSync(path.join(out, 'report', 'report.md'), 'utf8'), /Table 3/);
  t.regex(summary.table, /multi_term/);
});

test('reproduce --scale paper refuses to run without training', async (t) => {
  const err = await t.throwsAsync(runReproduce({ out: tempDir(), scale: 'paper', noTrain: true }));
  t.is((err as { code?: string }).code, 'ERR_TRAIN_UNAVAILABLE');
});

maybe('mfner eval on the command line prints the table and exits 0', (t) => {
  const out = tempDir('mfner-eval-cli-');
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', path.join(root, 'lib/cli/bin.ts'), 'eval', '--model', stories.path, '--datasets', 'NCBI-disease', '--config', 'only:single_term', '--draws', '1', '--test-cap', '2', '--max-tokens', '8', '--threads', '1', '--out', out],
    { cwd: root, encoding: 'utf8', timeout: 120_000 },
  );
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /\| single_term \|/);
  t.is(readResults(out).length, 1);
});
