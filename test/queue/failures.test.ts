/**
 * Failure paths on a real redis-server: a batch whose result cannot be written is retried
 * with backoff, then reported failed (status names it with its reason, collect refuses);
 * `queue retry` and a healthy worker finish it. A worker with another model fails batches
 * at once with ERR_MODEL_MISMATCH. A password-protected Redis refuses a client without the
 * password and accepts one with it (from the URL or $MFNER_REDIS_PASSWORD).
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { copyFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { stories, tempDir } from '../native/helpers.ts';
import { NO_REDIS, REDIS, SECRET, dropQueue, runCli, uniqueName, writeDocs } from './helpers.ts';

const skip = NO_REDIS ?? stories.missing;
if (skip) test('queue failure paths', (t) => (t.log(skip), t.pass()));
const maybe = skip ? test.skip : test.serial;
const TASK = ['--format', 'multi_term', '--types', 'Chemical,Disease', '--max-tokens', '4'];

maybe('a batch that keeps failing is retried with backoff, reported, and finished after queue retry', async (t) => {
  const url = REDIS!;
  const name = uniqueName('fail');
  const dir = tempDir('mfner-queue-fail-');
  const input = path.join(dir, 'docs.jsonl');
  writeDocs(input, 6);
  t.teardown(() => dropQueue(url, name));
  const sub = runCli(['submit', '--queue', url, '--name', name, '--in', input, '--model', stories.path, ...TASK, '--batch-records', '8', '--attempts', '2', '--backoff-ms', '300', '--json']);
  t.is(sub.status, 0, sub.stderr);
  const { run } = JSON.parse(sub.stdout) as { run: string };
  // A results "directory" that is a file: every write fails.
  const notADir = path.join(dir, 'results-file');
  writeFileSync(notADir, 'x');
  const bad = runCli(['worker', '--queue', url, '--name', name, '--model', stories.path, '--results', notADir, '--threads', '1', '--exit-when-idle', '1000']);
  t.is(bad.status, 0, bad.stderr);
  t.is(bad.stderr.match(/: failed /g)?.length, 2, bad.stderr); // two attempts
  t.true(bad.stderr.includes('attempt 2'));
  t.false(bad.stderr.includes(SECRET));

  const st = runCli(['queue', 'status', '--queue', url, '--name', name, '--run', run, '--json']);
  const s = JSON.parse(st.stdout) as { counts: Record<string, number>; failed: Array<{ attempts: number; reason: string }>; run: { failed: number; done: number } };
  t.deepEqual([s.counts.failed, s.run.failed, s.run.done, s.failed[0].attempts], [1, 1, 0, 2]);
  t.regex(s.failed[0].reason, /ENOTDIR|EEXIST|not a directory/i);
  t.false(st.stdout.includes(SECRET));

  const out = path.join(dir, 'merged.jsonl');
  const col = runCli(['collect', '--queue', url, '--name', name, '--run', run, '--results', path.join(dir, 'results'), '--out', out]);
  t.is(col.status, 1);
  t.regex(col.stderr, /1 of 1 batches of run \S+ have no usable result yet \(failed: 1\).*\[ERR_INCOMPLETE\]/);

  t.is(runCli(['queue', 'retry', '--queue', url, '--name', name]).status, 0);
  const good = runCli(['worker', '--queue', url, '--name', name, '--model', stories.path, '--results', path.join(dir, 'results'), '--threads', '1', '--exit-when-idle', '1000']);
  t.is(good.status, 0, good.stderr);
  const col2 = runCli(['collect', '--queue', url, '--name', name, '--run', run, '--results', path.join(dir, 'results'), '--out', out, '--json']);
  t.is(col2.status, 0, col2.stderr);
  t.is((JSON.parse(col2.stdout) as { records: number }).records, 6);
});

maybe('a worker with another model fails the batch at once with ERR_MODEL_MISMATCH', async (t) => {
  const url = REDIS!;
  const name = uniqueName('mismatch');
  const dir = tempDir('mfner-queue-mm-');
  const input = path.join(dir, 'docs.jsonl');
  writeDocs(input, 3);
  t.teardown(() => dropQueue(url, name));
  const other = path.join(dir, 'other.gguf');
  copyFileSync(stories.path, other);
  writeFileSync(other, Buffer.from([0]), { flag: 'a' }); // another file: another SHA-256
  t.is(runCli(['submit', '--queue', url, '--name', name, '--in', input, '--model', other, ...TASK, '--attempts', '3']).status, 0);
  const w = runCli(['worker', '--queue', url, '--name', name, '--model', stories.path, '--results', path.join(dir, 'r'), '--threads', '1', '--exit-when-idle', '800']);
  t.is(w.stderr.match(/: failed /g)?.length, 1, w.stderr); // unrecoverable: no retries
  t.regex(w.stderr, /ERR_MODEL_MISMATCH: the batch asks for model other\.gguf/);
});

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

maybe('password: refused without it, accepted from the URL or $MFNER_REDIS_PASSWORD, never printed', async (t) => {
  const port = await freePort();
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--requirepass', 's3cret-pw'], { stdio: 'ignore' });
  t.teardown(() => void server.kill('SIGTERM'));
  const { Redis } = await import('ioredis');
  for (let i = 0; i < 50; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => (c.destroy(), resolve(true)));
      c.on('error', () => resolve(false));
    });
    if (ok) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  void Redis;
  const base = `redis://127.0.0.1:${port}`;
  const none = runCli(['queue', 'status', '--queue', base]);
  t.is(none.status, 1);
  t.regex(none.stderr, /refused the credentials.*\[ERR_QUEUE_AUTH\]/);
  const withUrl = runCli(['queue', 'status', '--queue', `redis://:s3cret-pw@127.0.0.1:${port}`]);
  t.is(withUrl.status, 0, withUrl.stderr);
  t.false(withUrl.stdout.includes('s3cret-pw'));
  t.regex(withUrl.stdout, /redis:\/\/:\*\*\*@127\.0\.0\.1/);
  const withEnv = runCli(['queue', 'status', '--queue', base], { MFNER_REDIS_PASSWORD: 's3cret-pw' });
  t.is(withEnv.status, 0, withEnv.stderr);
});
