/**
 * `mfner bench formats` (lib/decode/bench.ts): mask figures for a format in one table or JSON; the
 * pipeline's own `mfner bench` options still reach it. Decode figures are heavy: bench/ runs them.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { benchFormats, formatBenchTable } from '../../lib/decode/bench.ts';

const root = path.resolve(import.meta.dirname, '../..');
function mfner(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import=tsx', path.join(root, 'lib/cli/bin.ts'), ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, MFNER_THREADS: '1' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('benchFormats (masks only): per-format mask and GBNF figures, one table', async (t) => {
  const result = await benchFormats({ masksOnly: true, formats: ['multi_term', 'single_tag'], gbnfSteps: 2 });
  t.deepEqual(result.rows.map((r) => r.format), ['multi_term', 'single_tag']);
  for (const r of result.rows) {
    t.true(r.mask.steps > 2 && r.mask.meanUs > 0 && r.gbnfMask.steps === 2, r.format);
    t.is(r.ratio, undefined);
  }
  const table = formatBenchTable(result);
  t.regex(table, /\| multi_term \| [\d.]+ \| [\d.]+ \| \d+ \| \d+ \|/);
});

test('mfner bench formats --json takes its own --formats and --json after the subcommand', (t) => {
  const r = mfner('bench', 'formats', '--masks-only', '--formats', 'multi_span', '--gbnf-steps', '1', '--json');
  t.is(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  t.deepEqual(out.rows.map((x: { format: string }) => x.format), ['multi_span']);
  const bad = mfner('bench', 'formats', '--masks-only', '--formats', 'nope');
  t.not(bad.code, 0);
});
