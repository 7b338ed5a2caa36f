/**
 * `mfner train` and `mfner loss` in child processes on stories260K (one thread): annotated
 * documents rendered in a format, full fine-tuning with dev micro-F1 evaluation (constrained
 * generation, parsing, scoring) keeping the best weights; the run layout; no document text in
 * the logs; SIGINT saves a checkpoint and the same command resumes it; `loss` agrees that the
 * trained model fits its training examples better than the base model.
 */
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fileTrainingData } from '../../lib/train/data.ts';
import { sharedFile, reportMissing } from '../helpers/shared.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = path.join(root, 'lib/cli/bin.ts');
const stories = sharedFile('models', 'stories260K.gguf');
const maybe = stories.missing ? test.skip : test.serial;
reportMissing(test, 'stories260K training CLI tests', stories.missing);

const SECRET = 'Zebrafinch';
const names = ['Tom', 'Lily', 'Sam', 'Anna', 'Ben', 'Mia', 'Max', 'Sue', 'Tim', 'Kim', 'Bob', 'Jan'];
const animals = ['dog', 'cat', 'bird', 'fish', 'frog', 'duck'];

function doc(i: number) {
  const text = `${names[i % names.length]} saw a ${animals[i % animals.length]} in the park.${i === 0 ? ` ${SECRET}` : ''}`;
  const s = text.indexOf(animals[i % animals.length]);
  return { id: `d${i}`, text, entities: [{ type: 'Animal', spans: [[s, s + animals[i % animals.length].length]] }] };
}

function files() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mfner-train-cli-'));
  const train = path.join(dir, 'train.jsonl');
  const dev = path.join(dir, 'dev.jsonl');
  writeFileSync(train, `${Array.from({ length: 24 }, (_, i) => JSON.stringify(doc(i))).join('\n')}\n`);
  writeFileSync(dev, `${[100, 101, 103].map((i) => JSON.stringify(doc(i))).join('\n')}\n`);
  return { dir, train, dev };
}

function runCli(args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', bin, ...args], { cwd: root, encoding: 'utf8', timeout: 240_000 });
}

const common = (f: { train: string; dev: string }) => [
  '--model', stories.path, '--data', f.train, '--config', 'only:multi_term', '--lr', '3e-3', '--batch', '4', '--accumulation', '2',
  '--context', '512', '--gen-context', '512', '--threads', '1', '--max-tokens', '48', '--gen-batch', '3',
];

maybe('train (full, dev F1 every epoch, best kept) writes the run layout without text in its logs; loss sees the fit', async (t) => {
  const f = files();
  const out = path.join(f.dir, 'run');
  const r = runCli(['train', ...common(f), '--dev-data', f.dev, '--method', 'full', '--epochs', '7', '--eval-per-epoch', '1', '--out', out, '--json']);
  t.is(r.status, 0, r.stderr);
  const summary = JSON.parse(r.stdout) as { steps: number; totalSteps: number; evaluations: { score: number; step: number }[]; bestScore: number; bestStep: number; result: string; aborted: boolean };
  t.is(summary.steps, 21);
  t.false(summary.aborted);
  t.is(summary.evaluations.length, 7);
  t.true(summary.bestScore > 0.5, `best dev micro-F1 ${summary.bestScore}`);
  const best = summary.evaluations.find((e) => e.score === summary.bestScore)!;
  t.is(summary.bestStep, best.step, 'the first evaluation reaching the best score is the one kept');
  for (const file of ['train-config.json', 'train-log.jsonl', 'summary.json', 'model.gguf', 'best/model.gguf', 'best/progress.json', 'checkpoint/model.gguf', 'checkpoint/optimizer.gguf', 'checkpoint/progress.json']) {
    t.true(existsSync(path.join(out, file)), file);
  }
  t.deepEqual(readFileSync(path.join(out, 'model.gguf')), readFileSync(path.join(out, 'best', 'model.gguf')));
  const log = readFileSync(path.join(out, 'train-log.jsonl'), 'utf8');
  for (const text of [SECRET, 'park', 'saw a']) {
    t.false(log.includes(text), `train-log.jsonl quotes "${text}"`);
    t.false(r.stderr.includes(text), `stderr quotes "${text}"`);
    t.false(readFileSync(path.join(out, 'summary.json'), 'utf8').includes(text));
  }
  const steps = log.trim().split('\n').map((l) => JSON.parse(l) as { event: string; loss?: number }).filter((l) => l.event === 'step');
  t.is(steps.length, 21);
  t.true(steps[20].loss! < steps[0].loss! / 4, `loss ${steps[0].loss} -> ${steps[20].loss}`);

  // the same command again: already complete at the checkpoint's last step, nothing retrained
  const again = runCli(['train', ...common(f), '--dev-data', f.dev, '--method', 'full', '--epochs', '7', '--eval-per-epoch', '1', '--out', out, '--json']);
  t.is(again.status, 0, again.stderr);
  t.is((JSON.parse(again.stdout) as { resumedFrom: number }).resumedFrom, 21);
  // other settings into the same directory are refused
  const other = runCli(['train', ...common(f), '--method', 'full', '--epochs', '2', '--out', out]);
  t.is(other.status, 2);
  t.regex(other.stderr, /ERR_OUTPUT_EXISTS/);

  // loss: chat renderings of the training documents fit the trained model far better
  const chats = path.join(f.dir, 'chats.jsonl');
  writeFileSync(chats, `${fileTrainingData(f.train, undefined, { configuration: 'only:multi_term' }).train.slice(0, 6).map((e) => JSON.stringify(e)).join('\n')}\n`);
  const lossOf = (model: string) => {
    const l = runCli(['loss', '--model', model, '--in', chats, '--threads', '1', '--json']);
    t.is(l.status, 0, l.stderr);
    return JSON.parse(l.stdout) as { mean: number; tokens: number; examples: { nll: number; tokens: number }[] };
  };
  const base = lossOf(stories.path);
  const tuned = lossOf(path.join(out, 'model.gguf'));
  t.is(base.examples.length, 6);
  t.is(base.tokens, tuned.tokens);
  t.is(base.examples.reduce((s, e) => s + e.tokens, 0), base.tokens);
  t.true(tuned.mean < base.mean / 4, `loss ${base.mean} -> ${tuned.mean}`);
});

maybe('SIGINT stops LoRA training with a checkpoint; the same command resumes it to the end', async (t) => {
  const f = files();
  const out = path.join(f.dir, 'run');
  const args = ['--import', 'tsx', bin, 'train', ...common(f), '--method', 'lora', '--rank', '4', '--alpha', '8', '--epochs', '5', '--no-eval', '--out', out, '--json'];
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => {
    const poll = setInterval(() => {
      const log = path.join(out, 'train-log.jsonl');
      if (existsSync(log) && readFileSync(log, 'utf8').trim().split('\n').length >= 3) {
        clearInterval(poll);
        child.kill('SIGINT');
      }
    }, 20);
    child.on('exit', (c) => {
      clearInterval(poll);
      resolve(c);
    });
  });
  t.is(code, 130, stderr);
  const stopped = JSON.parse(readFileSync(path.join(out, 'checkpoint', 'progress.json'), 'utf8')) as { step: number };
  t.true(stopped.step >= 3 && stopped.step < 15, `checkpoint at step ${stopped.step}`);
  t.false(existsSync(path.join(out, 'adapter.gguf')), 'no result while interrupted');
  const r = runCli(args.slice(3));
  t.is(r.status, 0, r.stderr);
  const summary = JSON.parse(r.stdout) as { resumedFrom: number; steps: number; result: string };
  t.is(summary.resumedFrom, stopped.step);
  t.is(summary.steps, 15);
  t.true(existsSync(path.join(out, 'adapter.gguf')));
  const steps = readFileSync(path.join(out, 'train-log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step: number });
  t.deepEqual(steps.map((s) => s.step).slice(-15 + stopped.step), Array.from({ length: 15 - stopped.step }, (_, i) => stopped.step + i + 1));
});
