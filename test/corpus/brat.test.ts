import test from 'ava';
import { parseBrat } from '../../lib/corpus/brat.ts';
import { CorpusError, SkipReport } from '../../lib/corpus/errors.ts';
import { pubmedId, splitByPubmed } from '../../lib/corpus/pgx-split.ts';
import { loadDataset } from '../../lib/corpus/registry.ts';
import { corporaRoot, count, offsetsHold, withCorpora } from './corpora.ts';

withCorpora('PGxCorpus: counts, deterministic 661/142/142 split by PubMed id', async (t) => {
  const pgx = await loadDataset('pgx', { root: corporaRoot });
  t.deepEqual(count(pgx.splits.train), { sentences: 661, entities: 4808, nested: 3338, discontinuous: 303 });
  t.deepEqual(count(pgx.splits.dev), { sentences: 142, entities: 1001, nested: 700, discontinuous: 59 });
  t.deepEqual(count(pgx.splits.test), { sentences: 142, entities: 952, nested: 659, discontinuous: 45 });
  for (const docs of Object.values(pgx.splits)) t.is(offsetsHold(docs), undefined);
  // 6761 T lines in all: none lost.
  t.is(count([...pgx.splits.train, ...pgx.splits.dev, ...pgx.splits.test]).entities, 6761);
  const splitOfPmid = new Map<string, string>();
  for (const [split, docs] of Object.entries(pgx.splits)) {
    for (const d of docs) {
      const prev = splitOfPmid.get(pubmedId(d.id));
      t.true(prev === undefined || prev === split, `abstract ${pubmedId(d.id)} in two splits`);
      splitOfPmid.set(pubmedId(d.id), split);
    }
  }
  t.deepEqual(pgx.splits.test.slice(0, 3).map((d) => d.id), ['10070957_8', '10098858_5', '11368834_10']);
  // The split depends on the ids only, not on their order.
  const ids = [...pgx.splits.train, ...pgx.splits.dev, ...pgx.splits.test].map((d) => d.id);
  const a = splitByPubmed(ids);
  const b = splitByPubmed([...ids].reverse());
  t.deepEqual([...a].sort(), [...b].sort());

  // Hand-checked: "levels of" shared by five discontinuous phenotypes written `116 125;73 82`.
  const doc = pgx.splits.test[0];
  const disc = doc.entities.filter((e) => e.discontinuous);
  t.deepEqual(
    disc.map((e) => [e.type, e.text, e.spans]),
    [
      ['Pharmacodynamic_phenotype', 'levels of dehydroepiandrosterone sulfate', [[73, 82], [281, 311]]],
      ['Pharmacodynamic_phenotype', 'levels of dehydroepiandrosterone', [[73, 82], [229, 251]]],
      ['Pharmacodynamic_phenotype', 'levels of androstenedione', [[73, 82], [188, 203]]],
      ['Pharmacodynamic_phenotype', 'levels of testosterone', [[73, 82], [151, 163]]],
      ['Pharmacodynamic_phenotype', 'levels of estradiol', [[73, 82], [116, 125]]],
    ],
  );
  t.true(doc.entities.find((e) => e.text === 'estrone')!.nested);
  t.false(doc.entities.find((e) => e.text === 'A2/A2 genotype')!.nested);
});

test('BRAT: fragments in any order, code points, trailing spaces, non-entity lines skipped', (t) => {
  const text = '𝛼-synuclein and β levels rise';
  const ann = [
    'T1\tProtein 0 11\t𝛼-synuclein ',
    'T2\tLevel 16 24;0 11\tβ levels 𝛼-synuclein',
    'R1\trel Arg1:T1 Arg2:T2\t',
    '#1\tAnnotatorNotes T1\tsome note',
    'A1\tNegated T1',
    'E1\tRise:T1',
    'N1\tReference T1 db:1\tx',
    '',
  ].join('\n');
  const doc = parseBrat(text, ann, 'd.ann', 'd');
  t.deepEqual(
    doc.entities.map((e) => [e.type, e.text, e.spans, e.discontinuous, e.nested]),
    [
      ['Level', '𝛼-synuclein β levels', [[0, 12], [17, 25]], true, true],
      ['Protein', '𝛼-synuclein', [[0, 12]], false, true],
    ],
  );
});

test('BRAT errors name file, line and annotation id, never the text', (t) => {
  const text = 'private patient words here';
  const bad = (line: string) => t.throws(() => parseBrat(text, line, 'p.ann', 'p'), { instanceOf: CorpusError });
  t.is(bad('T1\tX 0 7\tpatient').message, 'p.ann:1 (T1): offsets do not match the annotation text');
  t.is(bad('T1\tX 0 99\tprivate').message, 'p.ann:1 (T1): fragment 0-99 ends after the text (26 code points)');
  t.is(bad('T1\tX 5 3\tprivate').message, 'p.ann:1 (T1): fragment 5-3 is empty or reversed');
  t.is(bad('T1\tX 0;7\tprivate').message, 'p.ann:1 (T1): expected "start end" fragments separated by ";"');
  t.is(bad('T1 X 0 7 private').message, 'p.ann:1 (T1): expected "T<id><TAB>Type offsets<TAB>text"');
  t.is(bad('Q1\tfoo').message, 'p.ann:1: unknown annotation kind');
  const report = new SkipReport();
  const doc = parseBrat(text, 'T1\tX 0 7\tprivate\nT2\tX 0 7\tnope', 'p.ann', 'p', { lenient: true, report });
  t.is(doc.entities.length, 1);
  t.deepEqual(report.skips, [{ file: 'p.ann', line: 2, annotation: 'T2', reason: 'offsets do not match the annotation text' }]);
});
