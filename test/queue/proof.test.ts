/**
 * The proof: a real redis-server, two workers as real child processes on one queue, 300
 * documents (and two malformed lines); one worker is SIGKILLed mid-batch. The collected output
 * has exactly one record per input record and is byte-identical to a single-machine
 * `mfner extract` with the same options; the killed worker's batch was redelivered after its
 * lock expired; no document text is left in Redis or appears in the workers' logs.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { stories, tempDir } from '../native/helpers.ts';
import { NO_REDIS, REDIS, SECRET, dropQueue, dumpQueue, runCli, spawnCli, uniqueName, writeDocs } from './helpers.ts';

const skip = NO_REDIS ?? stories.missing;
if (skip) test('queue proof', (t) => (t.log(skip), t.pass()));
const maybe = skip ? test.skip : test.serial;

const TASK = ['--model', stories.path, '--format', 'multi_term', '--types', 'Chemical,Disease', '--max-tokens', '4'];

maybe('two workers, one SIGKILLed mid-batch: one record per input, identical to mfner extract, nothing left in Redis', async (t) => {
  const url = REDIS!;
  const name = uniqueName('proof');
  const dir = tempDir('mfner-queue-');
  const input = path.join(dir, 'docs.jsonl');
  const records = writeDocs(input, 300);
  const results = path.join(dir, 'results');
  t.teardown(() => dropQueue(url, name));

  const sub = runCli(['submit', '--queue', url, '--name', name, '--in', input, ...TASK, '--batch-records', '10', '--json']);
  t.is(sub.status, 0, sub.stderr);
  const submitted = JSON.parse(sub.stdout) as { run: string; records: number; documents: number; inputErrors: number; batches: number; enqueued: number };
  t.deepEqual([submitted.records, submitted.documents, submitted.inputErrors, submitted.batches, submitted.enqueued], [records, 300, 2, 31, 31]);

  // The single-machine reference runs alongside (its cost overlaps the queue's on 2 cores).
  const single = path.join(dir, 'single.jsonl');
  const reference = spawnCli(['extract', '--in', input, '--out', single, ...TASK, '--threads', '1', '--batch', '8']);

  const worker = (extra: string[] = []) =>
    spawnCli(['worker', '--queue', url, '--name', name, '--model', stories.path, '--results', results, '--threads', '1', '--batch', '8', '--lock-ms', '2000', ...extra]);
  const a = worker();
  const b = worker(['--exit-when-idle', '1500']);
  // Kill A as soon as it starts its second batch: it is then mid-batch, holding the lock.
  await a.waitFor(/: done /);
  const startLine = await a.waitFor(/: start /, a.lines.findIndex((l) => /: done /.test(l)) + 1);
  a.proc.kill('SIGKILL');
  const killedId = /: start (\S+)/.exec(startLine)![1];
  t.is((await a.exited).signal, 'SIGKILL');
  t.false(a.lines.some((l) => l.includes(`done ${killedId}`)), 'A was killed before finishing the batch');

  const bExit = await b.exited;
  t.is(bExit.code, 0, b.lines.slice(-10).join('\n'));
  // B took the killed batch over after the lock expired.
  t.true(b.lines.some((l) => l.includes(`done ${killedId}`)), 'the killed batch was redelivered');

  const status = runCli(['queue', 'status', '--queue', url, '--name', name, '--run', submitted.run, '--json']);
  t.is(status.status, 0, status.stderr);
  const s = JSON.parse(status.stdout) as { run: { done: number; batches: number; failed: number }; counts: Record<string, number> };
  t.deepEqual([s.run.done, s.run.batches, s.run.failed, s.counts.waiting, s.counts.active, s.counts.failed], [31, 31, 0, 0, 0, 0]);

  const merged = path.join(dir, 'merged.jsonl');
  const col = runCli(['collect', '--queue', url, '--name', name, '--run', submitted.run, '--results', results, '--out', merged]);
  t.is(col.status, 0, col.stderr);

  t.is((await reference.exited).code, 0, reference.lines.join('\n'));

  const out = readFileSync(merged, 'utf8');
  const lines = out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { line: number });
  t.is(lines.length, records);
  t.is(new Set(lines.map((l) => l.line)).size, records);
  t.is(out, readFileSync(single, 'utf8'));

  // Text: gone from Redis (completed jobs are deleted), never in the logs.
  const dump = await dumpQueue(url, name);
  t.true(dump.keys.length > 0);
  t.false(dump.text.includes(SECRET), 'no document text left in Redis');
  t.false(dump.text.includes('aspirin'));
  for (const l of [...a.lines, ...b.lines, sub.stderr, col.stderr]) t.false(l.includes(SECRET) || l.includes('aspirin'), 'no text in logs');

  // Submitting again is idempotent: every batch is already done.
  const again = runCli(['submit', '--queue', url, '--name', name, '--in', input, ...TASK, '--batch-records', '10', '--json']);
  t.is(again.status, 0, again.stderr);
  const r2 = JSON.parse(again.stdout) as { run: string; alreadyDone: number; enqueued: number };
  t.deepEqual([r2.run, r2.alreadyDone, r2.enqueued], [submitted.run, 31, 0]);
});
