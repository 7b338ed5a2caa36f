import test from 'ava';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readResults, writeReport } from '../../lib/report/index.ts';
import { FIXTURE_DIR, makeFixture } from './make-fixture.ts';

test('the committed fixture is exactly what the generator writes', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mfner-fixture-'));
  t.is(makeFixture(dir), 32);
  const list = (root: string) => (readdirSync(path.join(root, 'runs'), { recursive: true }) as string[]).filter((f) => f.endsWith('.json')).sort();
  t.deepEqual(list(dir), list(FIXTURE_DIR));
  for (const f of list(FIXTURE_DIR)) {
    t.is(readFileSync(path.join(dir, 'runs', f), 'utf8'), readFileSync(path.join(FIXTURE_DIR, 'runs', f), 'utf8'), f);
  }
});

test('golden report: Markdown equals the reviewed expected file; CSV, JSON and SVG are written', async (t) => {
  const out = mkdtempSync(path.join(tmpdir(), 'mfner-report-'));
  const { files } = await writeReport(FIXTURE_DIR, { outDir: out });
  const md = readFileSync(path.join(out, 'report.md'), 'utf8');
  t.is(md, readFileSync(path.join(FIXTURE_DIR, 'expected-report.md'), 'utf8'));

  const json = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8'));
  const ids = json.tables.map((x: { id: string }) => x.id);
  t.deepEqual(ids, ['table2', 'table3', 'table4', 'table5-tiny-a', 'table5-tiny-b', 'table6', 'table7', 'answer-health', 'span-shifts', 'bootstrap']);
  for (const id of ids) t.true(files.includes(path.join(out, `${id}.csv`)), id);

  // CSV: one line per row plus the header, every line with as many fields as the header
  const csv = readFileSync(path.join(out, 'table3.csv'), 'utf8').trimEnd().split('\n');
  t.is(csv.length, 1 + 3);
  t.true(csv.every((l) => l.split(',').length === csv[0].split(',').length));
  t.is(csv[0], 'Format,tiny-a all,tiny-a all std,tiny-a only,tiny-a only std,tiny-b all,tiny-b all std,tiny-b only,tiny-b only std');

  for (const [name, must] of [
    ['f1-by-format.svg', ['conv_term', 'multi_span', 'tiny-a', 'tiny-b']],
    ['span-shifts.svg', ['multi_span', 'start (near miss)']],
    ['answer-health.svg', ['entities not grounded', 'multi_triple']],
  ] as const) {
    const svg = readFileSync(path.join(out, name), 'utf8');
    t.true(svg.startsWith('<svg'), name);
    for (const m of must) t.true(svg.includes(m), `${name} mentions ${m}`);
  }
});

test('the fixture reads back as 32 valid runs', (t) => {
  const runs = readResults(FIXTURE_DIR);
  t.is(runs.length, 32);
  t.deepEqual([...new Set(runs.map((r) => r.configuration))].sort(), ['all', 'only:conv_term']);
});
