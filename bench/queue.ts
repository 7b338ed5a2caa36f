/**
 * Documents/s through the queue with 1 and 2 workers (child processes, 1 thread each) on this
 * machine, against a single-machine `mfner extract` on the same input. Needs a Redis
 * (MFNER_TEST_REDIS or redis://127.0.0.1:6379) and stories260K (or --model).
 *
 *   npx tsx bench/queue.ts [--docs 200] [--batch-records 20] [--max-tokens 8] [--model file.gguf]
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeDocs, dropQueue, uniqueName } from '../test/queue/helpers.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'lib/cli/bin.ts');
const { values } = parseArgs({
  options: {
    docs: { type: 'string', default: '200' },
    'batch-records': { type: 'string', default: '20' },
    'max-tokens': { type: 'string', default: '8' },
    model: { type: 'string', default: path.join(root, '..', 'shared', 'models', 'stories260K.gguf') },
  },
});
const url = process.env.MFNER_TEST_REDIS ?? 'redis://127.0.0.1:6379';
const docs = Number(values.docs);
const dir = mkdtempSync(path.join(os.tmpdir(), 'mfner-bench-queue-'));
const input = path.join(dir, 'docs.jsonl');
writeDocs(input, docs);
const task = ['--model', values.model!, '--format', 'multi_term', '--types', 'Chemical,Disease', '--max-tokens', values['max-tokens']!];
const cli = (args: string[]) => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', bin, ...args], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mfner ${args[0]} failed: ${r.stderr}`);
  return r;
};

async function queued(workers: number): Promise<number> {
  const name = uniqueName('bench');
  try {
    const t0 = Date.now();
    const run = cli(['submit', '--queue', url, '--name', name, '--in', input, ...task, '--batch-records', values['batch-records']!]).stdout.trim();
    const procs = Array.from({ length: workers }, () =>
      spawn(process.execPath, ['--import', 'tsx', bin, 'worker', '--queue', url, '--name', name, '--model', values.model!, '--results', path.join(dir, `r-${name}`), '--threads', '1', '--exit-when-idle', '300'], { cwd: root, stdio: 'ignore' }),
    );
    await Promise.all(procs.map((p) => new Promise((r) => p.on('exit', r))));
    cli(['collect', '--queue', url, '--name', name, '--run', run, '--results', path.join(dir, `r-${name}`), '--out', path.join(dir, `m-${name}.jsonl`)]);
    // Wall time from submit to the merged file, less the idle wait before the workers exit.
    return (Date.now() - t0 - 300) / 1000;
  } finally {
    await dropQueue(url, name);
  }
}

const t0 = Date.now();
cli(['extract', '--in', input, '--out', path.join(dir, 'single.jsonl'), ...task, '--threads', '1']);
const single = (Date.now() - t0) / 1000;
const one = await queued(1);
const two = await queued(2);
const rate = (s: number) => (docs / s).toFixed(2);
console.log(`queue benchmark: ${docs} documents, ${path.basename(values.model!)}, multi_term, max-tokens ${values['max-tokens']}, ${values['batch-records']} records/job, 1 thread per process, ${os.cpus().length} CPUs`);
console.log(`  mfner extract (1 process)   ${single.toFixed(1)} s  ${rate(single)} docs/s`);
console.log(`  queue, 1 worker             ${one.toFixed(1)} s  ${rate(one)} docs/s   (submit + work + collect, process start-up included)`);
console.log(`  queue, 2 workers            ${two.toFixed(1)} s  ${rate(two)} docs/s   speed-up ${(one / two).toFixed(2)}x over 1 worker`);
rmSync(dir, { recursive: true, force: true });
