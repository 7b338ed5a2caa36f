/**
 * Issue 15 item 3: more threads than CPUs are capped at the CPU count, from an argument or from
 * $MFNER_THREADS, at the native boundary (every Context) and in the CLI (with one warning line).
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { Model, cpuCount, defaultThreads, resolveThreads } from '../../lib/native/index.ts';
import { stories } from './helpers.ts';

const root = path.resolve(import.meta.dirname, '../..');
const maybe = stories.missing ? test.skip : test;

function withEnv<T>(value: string | undefined, f: () => T): T {
  const saved = process.env.MFNER_THREADS;
  if (value === undefined) delete process.env.MFNER_THREADS;
  else process.env.MFNER_THREADS = value;
  try {
    return f();
  } finally {
    if (saved === undefined) delete process.env.MFNER_THREADS;
    else process.env.MFNER_THREADS = saved;
  }
}

test('resolveThreads caps at the CPU count and says so once', (t) => {
  const cpus = cpuCount();
  t.is(cpus, Math.max(1, os.availableParallelism()));
  const warnings: string[] = [];
  const warn = (m: string) => warnings.push(m);
  t.is(resolveThreads(999, { warn, label: '--threads 999' }), cpus);
  t.deepEqual(warnings, [`--threads 999 is more than the ${cpus} CPU${cpus === 1 ? '' : 's'} here; using ${cpus}`]);
  t.is(resolveThreads(cpus, { warn }), cpus);
  t.is(resolveThreads(1, { warn }), 1);
  t.is(warnings.length, 1, 'no warning at or below the CPU count');
  // Not its business: the native layer refuses these with ERR_INVALID_ARG.
  t.is(resolveThreads(0), 0);
  t.true(Number.isNaN(resolveThreads(Number.NaN)));
});

test.serial('$MFNER_THREADS above the CPU count is capped the same way; undefined means the default', (t) => {
  const cpus = cpuCount();
  const warnings: string[] = [];
  t.is(withEnv('999', () => defaultThreads({ warn: (m) => warnings.push(m) })), cpus);
  t.regex(warnings[0] ?? '', /^MFNER_THREADS=999 is more than the \d+ CPUs? here; using \d+$/);
  t.is(withEnv('999', () => resolveThreads(undefined)), cpus);
  t.is(withEnv('1', () => resolveThreads(undefined)), 1);
  t.is(withEnv(undefined, () => resolveThreads(undefined)), Math.max(1, Math.min(8, Math.floor(cpus / 2))));
});

maybe('a Context asked for 999 threads gets the CPU count; one without threads gets the default', async (t) => {
  const model = await Model.load(stories.path);
  try {
    const big = await model.createContext({ contextSize: 64, threads: 999 });
    t.is(big.info.threads, cpuCount());
    await big.dispose();
    // Before, an explicit `threads: undefined` (extract without --threads) reached the native default of 2.
    const dflt = await model.createContext({ contextSize: 64, threads: undefined });
    t.is(dflt.info.threads, defaultThreads());
    await dflt.dispose();
  } finally {
    await model.dispose();
  }
});

maybe('mfner generate --threads 999 finishes, with one warning line', (t) => {
  const r = spawnSync(process.execPath, ['--import=tsx', path.join(root, 'lib/cli/bin.ts'), 'generate', '--model', stories.path, '--max-tokens', '3', '--threads', '999', '--json'], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, MFNER_THREADS: '1' },
    timeout: 60_000,
  });
  t.is(r.status, 0, r.stderr);
  t.is(JSON.parse(r.stdout).tokens.length, 3);
  const cpus = cpuCount();
  t.is(r.stderr, `mfner: --threads 999 is more than the ${cpus} CPU${cpus === 1 ? '' : 's'} here; using ${cpus}\n`);
});

maybe('$MFNER_THREADS=999 under the CLI: the same cap and one warning', (t) => {
  const r = spawnSync(process.execPath, ['--import=tsx', path.join(root, 'lib/cli/bin.ts'), 'generate', '--model', stories.path, '--max-tokens', '3', '--json'], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, MFNER_THREADS: '999' },
    timeout: 60_000,
  });
  t.is(r.status, 0, r.stderr);
  t.regex(r.stderr, /^mfner: MFNER_THREADS=999 is more than the \d+ CPUs? here; using \d+\n$/);
});
