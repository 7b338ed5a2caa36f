import test from 'ava';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeEntity } from '../../lib/formats/entity.ts';
import { buildRun, readResults, readRun, runPath, validateRun, writeRun, type RunFile } from '../../lib/report/index.ts';

const TEXT = '𝛼 IL-2 binds';
const gold = [{ id: 'x', text: TEXT, entities: [makeEntity(TEXT, 'protein', [[3, 7]])] }];
const base = () =>
  buildRun({
    model: 'org/model', configuration: 'only:multi_brat', dataset: 'D', format: 'multi_brat', draw: 2, gold,
    predictions: [{
      id: 'x',
      entities: [makeEntity(TEXT, 'protein', [[3, 7]]), { type: 'protein', spans: [], text: 'IL-9', grounded: false }],
      answers: [{ problems: [{ kind: 'offset-shift', message: 'line 1 moved', shift: [-2, -2] }], raw: 'T1 protein 0 4 IL-2' }],
    }],
  });
const tmp = () => mkdtempSync(path.join(tmpdir(), 'mfner-results-'));

test('a run file keeps code-point offsets, scores in both modes, health and shifts', (t) => {
  const r = base();
  t.deepEqual(r.predictions[0].entities[0].spans, [[2, 6]]); // JS [3, 7] past the astral 𝛼
  t.deepEqual(r.scores.text.counts, { tp: 1, fp: 1, fn: 0 });
  t.deepEqual(r.scores.strict.counts, { tp: 1, fp: 1, fn: 0 });
  t.deepEqual(r.scores.health, { answers: 1, answersWithProblems: 1, entities: 2, ungrounded: 1, problemKinds: { 'offset-shift': 1 } });
  t.deepEqual(r.scores.spanShifts.repaired, { pairs: 1, start: { '-2': 1 }, end: { '-2': 1 } });
  t.deepEqual(r.scores.gold, { documents: 1, entities: 1, nested: 0, discontinuous: 0 });
});

test('write then read gives the same run, at a path safe for any file system', (t) => {
  const dir = tmp();
  const file = writeRun(dir, base());
  t.is(file, runPath(dir, base()));
  t.true(file.includes(path.join('runs', 'org%2Fmodel', 'only%3Amulti_brat', 'D', 'multi_brat', 'draw-2.json')));
  t.deepEqual(readRun(file), base());
  t.deepEqual(readResults(dir), [base()]);
});

test('the validator names the broken field', (t) => {
  const broken = (f: (r: RunFile & Record<string, any>) => void) => {
    const r = structuredClone(base()) as RunFile & Record<string, any>;
    f(r);
    return () => validateRun(r);
  };
  t.throws(broken((r) => (r.schema = 'other' as never)), { message: /run\.schema/ });
  t.throws(broken((r) => (r.draw = -1)), { message: /run\.draw/ });
  t.throws(broken((r) => delete (r as Partial<typeof r>).model), { message: /run\.model/ });
  t.throws(broken((r) => (r.scores.text.counts.tp = 5)), { message: /scores\.text\.counts: differs from the sum/ });
  t.throws(broken((r) => (r.scores.strict.complex.simple.found = 9)), { message: /complex\.simple\.found: exceeds gold/ });
  t.throws(broken((r) => (r.predictions[0].entities[0].spans = [[4, 4]])), { message: /entities\[0\]\.spans\[0\]: end must exceed start/ });
  t.throws(broken((r) => r.predictions.pop()), { message: /predictions: has 0 entries for 1 gold/ });
  t.throws(broken((r) => (r.scores.spanShifts.repaired.pairs = 3)), { message: /repaired\.start: sums to 1, not pairs = 3/ });
  t.notThrows(broken(() => {}));
});

test('reading: bad JSON, no runs directory, and two files for one run are errors', (t) => {
  const dir = tmp();
  t.throws(() => readResults(dir), { message: /no runs directory/ });
  writeRun(dir, base());
  const copy = path.join(dir, 'runs', 'elsewhere.json');
  writeFileSync(copy, readFileSync(runPath(dir, base())));
  t.throws(() => readResults(dir), { message: /same run/ });
  const bad = tmp();
  mkdirSync(path.join(bad, 'runs'));
  writeFileSync(path.join(bad, 'runs', 'x.json'), '{not json');
  t.throws(() => readResults(bad), { message: /x\.json: not readable as JSON/ });
});
