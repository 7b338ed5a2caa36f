import test from 'ava';
import { makeEntity } from '../../lib/formats/entity.ts';
import type { DrawSummary, GoldDocument } from '../../lib/metrics/index.ts';
import {
  buildRun,
  formatCell,
  paperBaseline,
  table2,
  table3,
  table4,
  table5,
  table7,
  tableToCsv,
  tableToMarkdown,
  type RunPrediction,
} from '../../lib/report/index.ts';

const TEXT = 'a b c';
const gold: GoldDocument[] = [{ id: 'g', text: TEXT, entities: [makeEntity(TEXT, 'X', [[0, 1]]), makeEntity(TEXT, 'X', [[2, 3]])] }];
const hitA = makeEntity(TEXT, 'X', [[0, 1]]);
const hitB = makeEntity(TEXT, 'X', [[2, 3]]);
const wrong = makeEntity(TEXT, 'X', [[4, 5]]);
const pred = (...entities: (typeof hitA)[]): RunPrediction[] => [{ id: 'g', entities, answers: [{ problems: [] }] }];
const run = (format: string, draw: number, p: RunPrediction[], dataset = 'D', configuration = 'all') =>
  buildRun({ model: 'm', configuration, dataset, format, draw, gold, predictions: p });

// draw 0: f1 finds both (tp 2); f2 one hit and one spurious (tp 1, fp 1, fn 1)
// draw 1: f1 finds one (tp 1, fn 1); f2 nothing (fn 2)
const runs = [run('f1', 0, pred(hitA, hitB)), run('f2', 0, pred(hitA, wrong)), run('f1', 1, pred(hitB)), run('f2', 1, pred())];
const opts = { mode: 'text' as const, table6Format: 'f1' };
const close = (a: number, b: number) => Math.abs(a - b) < 1e-12;

test('Table 2 by hand: pooled per draw, then mean and sample std over draws', (t) => {
  const row = table2(runs, opts).rows[0];
  // draw 0 pooled: tp 3, fp 1, fn 1 → P = R = F1 = 0.75; draw 1: tp 1, fp 0, fn 3 → P 1, R 0.25, F1 0.4
  const p = row['m|P'] as DrawSummary;
  const r = row['m|R'] as DrawSummary;
  const f = row['m|F1'] as DrawSummary;
  t.true(close(p.mean, 0.875) && close(p.std!, 0.25 / Math.SQRT2));
  t.true(close(r.mean, 0.5) && close(r.std!, 0.5 / Math.SQRT2));
  t.true(close(f.mean, 0.575) && close(f.std!, 0.35 / Math.SQRT2));
  t.is(formatCell(f, { key: 'x', label: 'x' }), '0.57 (±0.25)');
});

test('Table 3 by hand: one format per row, "only" from only:<format> runs', (t) => {
  const withOnly = [...runs, run('f1', 0, pred(hitA), 'D', 'only:f1')];
  const t3 = table3(withOnly, opts);
  t.deepEqual(t3.columns.map((c) => c.label), ['Format', 'm all', 'm only']);
  const f1 = t3.rows.find((r) => r.format === 'f1')!;
  // all: draw 0 F1 1, draw 1 F1 2/3
  t.true(close((f1['m|all'] as DrawSummary).mean, 5 / 6));
  // only: one draw, tp 1 fn 1 → 2/3, no std
  t.deepEqual(f1['m|only'], { mean: 2 / 3, std: null, n: 1 });
  t.is(t3.rows.find((r) => r.format === 'f2')!['m|only'], null);
  // f2 all: draw 0 tp 1 fp 1 fn 1 → F1 0.5, draw 1 → 0: mean 0.25, std 0.5/√2
  t.regex(tableToMarkdown(t3), /\| f2 \| 0\.25 \(±0\.35\) \| – \|/);
});

test('Table 4 leaves out datasets with discontinuous gold, and says which', (t) => {
  const text = 'left and right lung';
  const discGold: GoldDocument[] = [{ id: 'h', text, entities: [makeEntity(text, 'X', [[0, 4], [15, 19]])] }];
  const disc = buildRun({ model: 'm', configuration: 'all', dataset: 'Disc', format: 'f1', draw: 0, gold: discGold, predictions: [] });
  const t4 = table4([...runs, disc], opts);
  t.regex(t4.caption, /Left out .*: Disc\./);
  t.true(close((t4.rows.find((r) => r.format === 'f1')!['m|all'] as DrawSummary).mean, 5 / 6));
});

test('Table 7 by hand: recall on simple minus recall on nested, dash without discontinuous gold', (t) => {
  const text = 'human B cells and IL-2';
  const g: GoldDocument[] = [{
    id: 'n',
    text,
    entities: [makeEntity(text, 'cell', [[0, 13]]), makeEntity(text, 'cell', [[6, 13]]), makeEntity(text, 'protein', [[18, 22]])],
  }];
  const r = buildRun({
    model: 'm', configuration: 'all', dataset: 'N', format: 'f1', draw: 0, gold: g,
    predictions: [{ id: 'n', entities: [makeEntity(text, 'cell', [[6, 13]]), makeEntity(text, 'protein', [[18, 22]])] }],
  });
  const row = table7([r], opts).rows[0];
  t.deepEqual(row['m|nested'], { mean: 0.5, std: null, n: 1 }); // 1 − 1/2
  t.is(row['m|discont'], null);
});

test('Table 5 places the paper\'s baselines by dataset name', (t) => {
  t.is(paperBaseline('NCBI-disease')?.uninerSupervised, 0.87);
  t.is(paperBaseline('PGxCorpus')?.base, 0.59);
  t.is(paperBaseline('BC5CDR')?.gliner, 0.66);
  t.is(paperBaseline('CADEC')?.uie, null);
  t.is(paperBaseline('Toy'), undefined);
  const [t5] = table5([run('f1', 0, pred(hitA, hitB), 'AnatEM')], opts);
  const row = t5.rows[0];
  t.is(row['paper|uie'], 0.89);
  t.is(row['paper|uninerZeroShot'], 0.25);
  t.deepEqual(row['ours|all'], { mean: 1, std: null, n: 1 });
});

test('CSV splits mean and std into two columns and quotes when needed', (t) => {
  const csv = tableToCsv({
    id: 'x', title: 'x', caption: '',
    columns: [{ key: 'a', label: 'name, with comma' }, { key: 'b', label: 'F1' }],
    rows: [{ a: 'r"1', b: { mean: 0.5, std: 0.1, n: 3 } }, { a: 'r2', b: null }],
  });
  t.is(csv, '"name, with comma",F1,F1 std\n"r""1",0.5,0.1\nr2,,\n');
});
