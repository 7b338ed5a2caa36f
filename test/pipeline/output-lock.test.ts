/**
 * Issue 15 item 2: one writer per extract output. A second holder fails with ERR_OUTPUT_LOCKED
 * (in this process, from another process, through runExtractJob and through the CLI, exit 1),
 * and a lock left by a process that is gone, or a garbage lock, is taken over so a killed run
 * resumes.
 */
import test, { type ExecutionContext } from 'ava';
import { reportMissing } from '../helpers/shared.ts';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { acquireOutputLock, lockPath, processAlive, runExtractJob, type LockInfo } from '../../lib/pipeline/index.ts';
import { THREADS, stories, tempDir } from '../native/helpers.ts';

const root = path.resolve(import.meta.dirname, '../..');
const lockModule = path.join(root, 'lib/pipeline/output-lock.ts');
const maybe = stories.missing ? test.skip : test.serial;
reportMissing(test, 'stories260K output-lock tests', stories.missing);

const SECRET = 'OKAPI-5521';

function locked(t: ExecutionContext, out: string): Error {
  return t.throws(() => acquireOutputLock(out), { code: 'ERR_OUTPUT_LOCKED' })!;
}

/** The pid of a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', ''], { stdio: 'ignore' });
  if (r.pid === undefined || processAlive(r.pid)) throw new Error('no dead pid');
  return r.pid;
}

/** A child process that takes the lock of `out`, says so, and holds it until killed. */
async function holder(out: string): Promise<ChildProcess> {
  const code = `import { acquireOutputLock } from ${JSON.stringify(lockModule)};
acquireOutputLock(${JSON.stringify(out)}); process.stdout.write('held\\n'); setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('held') && resolve());
    child.on('exit', (c) => reject(new Error(`lock holder exited with ${c}`)));
  });
  return child;
}

async function kill(child: ChildProcess): Promise<void> {
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  child.kill('SIGKILL');
  await exited;
}

test('a second acquire in the same process fails with ERR_OUTPUT_LOCKED naming the output; release frees it', (t) => {
  const out = path.join(tempDir('mfner-lock-'), 'out.jsonl');
  const lock = acquireOutputLock(out);
  t.is(lock.path, lockPath(out));
  t.is(path.basename(lock.path), '.out.jsonl.mfner-lock');
  const info = JSON.parse(readFileSync(lock.path, 'utf8')) as LockInfo;
  t.like(info, { pid: process.pid, hostname: os.hostname(), output: out });
  t.false(Number.isNaN(Date.parse(info.startedAt)));
  const err = locked(t, out);
  t.true(err.message.includes(out), err.message);
  lock.release();
  lock.release();
  t.false(existsSync(lock.path));
  acquireOutputLock(out).release();
});

test('a lock left by a dead process is taken over; so is a garbage one', (t) => {
  const out = path.join(tempDir('mfner-lock-'), 'out.jsonl');
  const pid = deadPid();
  writeFileSync(lockPath(out), JSON.stringify({ pid, hostname: os.hostname(), startedAt: '2020-01-01T00:00:00Z', output: out }));
  const lock = acquireOutputLock(out);
  t.is((JSON.parse(readFileSync(lockPath(out), 'utf8')) as LockInfo).pid, process.pid);
  lock.release();
  writeFileSync(lockPath(out), '{"pid": 12');
  acquireOutputLock(out).release();
  writeFileSync(lockPath(out), '');
  acquireOutputLock(out).release();
  t.false(existsSync(lockPath(out)));
});

test('a lock held on another host is not taken over, even with a dead pid', (t) => {
  const out = path.join(tempDir('mfner-lock-'), 'out.jsonl');
  writeFileSync(lockPath(out), JSON.stringify({ pid: deadPid(), hostname: `${os.hostname()}-elsewhere`, startedAt: '2020-01-01T00:00:00Z', output: out }));
  const err = locked(t, out);
  t.regex(err.message, /elsewhere/);
  t.true(err.message.includes(lockPath(out)), 'says which file to delete');
});

test('a release does not remove a lock that is no longer its own', (t) => {
  const out = path.join(tempDir('mfner-lock-'), 'out.jsonl');
  const lock = acquireOutputLock(out);
  const other = JSON.stringify({ pid: process.pid, hostname: os.hostname(), startedAt: 'later', output: out });
  writeFileSync(lock.path, other);
  lock.release();
  t.is(readFileSync(lockPath(out), 'utf8'), other);
});

test.serial('another process holding the lock: refused; killed (SIGKILL): taken over', async (t) => {
  const out = path.join(tempDir('mfner-lock-'), 'out.jsonl');
  const child = await holder(out);
  try {
    const err = locked(t, out);
    t.regex(err.message, new RegExp(`pid ${child.pid} on this host`));
  } finally {
    await kill(child);
  }
  acquireOutputLock(out).release();
  t.pass();
});

maybe('runExtractJob and mfner extract refuse an output another run holds (exit 1, no input text); after a kill they run', async (t) => {
  const dir = tempDir('mfner-lock-');
  const input = path.join(dir, 'in.jsonl');
  writeFileSync(input, `${JSON.stringify({ id: 'a', text: `Aspirin (${SECRET}) for migraine.` })}\n${JSON.stringify({ id: 'b', text: 'BCL6 rose.' })}\n`);
  const out = path.join(dir, 'out.jsonl');
  const options = { model: stories.path, format: 'multi_term' as const, types: ['Chemical'], input, output: out, maxTokens: 8, threads: THREADS };

  // In this process: the API refuses before it loads the model or touches the output.
  const lock = acquireOutputLock(out);
  await t.throwsAsync(runExtractJob(options), { code: 'ERR_OUTPUT_LOCKED' });
  lock.release();
  t.false(existsSync(out));

  // Another process holds it: the CLI says so in one line and exits 1.
  const child = await holder(out);
  const cli = (extra: string[] = []) =>
    spawnSync(process.execPath, ['--import=tsx', path.join(root, 'lib/cli/bin.ts'), 'extract', '--model', stories.path, '--format', 'multi_term', '--types', 'Chemical', '--in', input, '--out', out, '--max-tokens', '8', '--json', ...extra], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, MFNER_THREADS: '1' },
      timeout: 120_000,
    });
  try {
    const r = cli();
    t.is(r.status, 1, r.stderr);
    const lines = r.stderr.trim().split('\n');
    t.is(lines.length, 1, r.stderr);
    t.true(lines[0].startsWith(`mfner: ${out} is being written by another mfner run (pid ${child.pid}`), r.stderr);
    t.regex(lines[0], /\[ERR_OUTPUT_LOCKED\]$/);
    t.false(r.stderr.includes(SECRET));
    t.false(existsSync(out));
  } finally {
    await kill(child);
  }

  // Its lock is stale now: the run goes ahead and leaves no lock behind.
  const r = cli();
  t.is(r.status, 0, r.stderr);
  t.is((JSON.parse(r.stdout) as { records: number }).records, 2);
  t.false(existsSync(lockPath(out)));
  const again = await runExtractJob(options);
  t.true(again.alreadyComplete);
  t.false(existsSync(lockPath(out)));
});
