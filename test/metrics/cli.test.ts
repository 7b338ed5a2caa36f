import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { FIXTURE_DIR } from '../report/make-fixture.ts';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');
const mfner = (...args: string[]) => run(process.execPath, ['--import=tsx', path.join(root, 'lib/cli/bin.ts'), ...args], { cwd: root });

const dir = mkdtempSync(path.join(tmpdir(), 'mfner-score-'));
const jsonl = (name: string, rows: unknown[]) => {
  const file = path.join(dir, name);
  writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return file;
};
// code points: "𝛼" is one code point, so "IL-2" is [2, 6] and "T cells" [17, 24]
const gold = jsonl('gold.jsonl', [
  { id: 'a', text: '𝛼 IL-2 activates T cells', entities: [{ type: 'protein', spans: [[2, 6]] }, { type: 'cell_type', spans: [[17, 24]] }] },
  { id: 'b', text: 'nothing', entities: [] },
]);
const pred = jsonl('pred.jsonl', [
  { id: 'a', entities: [{ type: 'protein', spans: [[2, 6]] }, { type: 'cell_type', spans: [], text: 'T  cells', grounded: false }] },
  { id: 'b', entities: [{ type: 'protein', spans: [[0, 7]] }] },
]);

test('mfner score --json: micro and per-type counts, both modes', async (t) => {
  const text = JSON.parse((await mfner('score', '--gold', gold, '--pred', pred, '--json')).stdout);
  t.is(text.mode, 'text');
  t.is(text.documents, 2);
  t.like(text.micro, { tp: 2, fp: 1, fn: 0, precision: 2 / 3, recall: 1, f1: 0.8 });
  t.like(text.perType.protein, { tp: 1, fp: 1, fn: 0 });
  t.like(text.perType.cell_type, { tp: 1, fp: 0, fn: 0 });
  t.deepEqual(text.complex.simple, { gold: 2, found: 2, recall: 1 });
  // strict: the ungrounded "T cells" cannot match
  const strict = JSON.parse((await mfner('score', '--gold', gold, '--pred', pred, '--mode', 'strict', '--json')).stdout);
  t.like(strict.micro, { tp: 1, fp: 2, fn: 1 });
});

test('mfner score prints a readable table by default', async (t) => {
  const { stdout } = await mfner('score', '--gold', gold, '--pred', pred);
  t.regex(stdout, /^micro\s+0\.6667\s+1\.0000\s+0\.8000\s+2\s+1\s+0$/m);
  t.regex(stdout, /recall on nested gold entities: – \(0\/0\)/);
});

test('mfner score: a bad line is an error naming file and line, without document text', async (t) => {
  const badPred = jsonl('bad.jsonl', [{ id: 'a', entities: [{ type: 'protein', spans: [[5, 99]] }] }]);
  const err = await t.throwsAsync(mfner('score', '--gold', gold, '--pred', badPred));
  const stderr = (err as unknown as { stderr: string }).stderr;
  t.regex(stderr, /bad\.jsonl:1: entities\[0\]: span 5-99 .*outside the text/);
  t.false(stderr.includes('activates'));
  const unknown = jsonl('unknown.jsonl', [{ id: 'zz', entities: [] }]);
  await t.throwsAsync(mfner('score', '--gold', gold, '--pred', unknown), { message: /"zz" is not in the gold file/ });
});

test('mfner report writes tables and plots for a results directory', async (t) => {
  const out = path.join(dir, 'report');
  const { stdout } = await mfner('report', FIXTURE_DIR, '--out', out, '--bootstrap-iterations', '200', '--no-plots');
  const written = stdout.trim().split('\n').map((f) => path.basename(f)).sort();
  t.true(written.includes('report.md') && written.includes('table7.csv'));
  t.false(written.some((f) => f.endsWith('.svg')));
  t.deepEqual(readdirSync(out).sort(), written);
});
