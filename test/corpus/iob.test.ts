import test from 'ava';
import { all, fixtureWriter } from './fixtures.ts';
import { readIob } from '../../lib/corpus/iob.ts';
import { CorpusError, SkipReport } from '../../lib/corpus/errors.ts';
import { loadDataset } from '../../lib/corpus/registry.ts';
import type { CorpusDocument } from '../../lib/corpus/document.ts';
import { corporaRoot, count, offsetsHold, withCorpora } from './corpora.ts';

const file = fixtureWriter('iob');
const spansOf = (d: CorpusDocument) => d.entities.map((e) => [e.type, e.text, ...e.spans.flat()]);

withCorpora('the four IOB corpora: measured counts, offsets slice to the entity text', async (t) => {
  const expected: Record<string, Record<string, [number, number]>> = {
    AnatEM: { train: [5861, 6946], dev: [2118, 2139], test: [3830, 4616] },
    BC2GM: { train: [12574, 15197], dev: [2519, 3061], test: [5038, 6325] },
    BC5CDR: { train: [4560, 9385], dev: [4581, 9593], test: [4797, 9809] },
    'NCBI-disease': { train: [5424, 5134], dev: [923, 787], test: [940, 960] },
  };
  for (const [name, splits] of Object.entries(expected)) {
    const loaded = await loadDataset(name, { root: corporaRoot });
    for (const [split, [sentences, entities]] of Object.entries(splits)) {
      const docs = loaded.splits[split as 'train'];
      const c = count(docs);
      t.deepEqual([c.sentences, c.entities, c.nested, c.discontinuous], [sentences, entities, 0, 0], `${name} ${split}`);
      t.is(offsetsHold(docs), undefined);
      // The paper's texts: tokens joined by single spaces.
      t.true(docs.every((d) => !/\s\s|^\s|\s$/.test(d.text)));
    }
  }
});

withCorpora('hand-checked BC2GM and BC5CDR sentences', async (t) => {
  const bc2gm = await loadDataset('bc2gm', { root: corporaRoot });
  const first = bc2gm.splits.train[0];
  t.is(first.id, 'BC2GM/train#0');
  t.true(first.text.startsWith('Immunohistochemical staining was positive for S - 100 in all 9 cases'));
  t.deepEqual(spansOf(first), [
    ['GENE', 'S - 100', 46, 53],
    ['GENE', 'HMB - 45', 92, 100],
    ['GENE', 'cytokeratin', 140, 151],
  ]);
  const bc5 = await loadDataset('bc5cdr', { root: corporaRoot });
  t.deepEqual(spansOf(bc5.splits.test[0]), [
    ['Disease', 'Torsade de pointes', 0, 18],
    ['Disease', 'ventricular tachycardia', 19, 42],
    ['Chemical', 'dobutamine', 72, 82],
    ['Disease', 'dilated cardiomyopathy', 111, 133],
    ['Disease', 'congestive heart failure', 138, 162],
  ]);
});

test('IOB2, IOB1 and BIOES read the same entities; I- without B- starts an entity', async (t) => {
  const tokens = ['IL', '-', '2', 'and', 'c-fos', 'in', 'T', 'cells'];
  const schemes: Record<string, string[]> = {
    iob2: ['B-P', 'I-P', 'I-P', 'O', 'B-P', 'O', 'B-C', 'I-C'],
    iob1: ['I-P', 'I-P', 'I-P', 'O', 'I-P', 'O', 'I-C', 'I-C'],
    bioes: ['B-P', 'I-P', 'E-P', 'O', 'S-P', 'O', 'B-C', 'E-C'],
    bilou: ['B-P', 'I-P', 'L-P', 'O', 'U-P', 'O', 'B-C', 'L-C'],
  };
  const want = [
    ['P', 'IL - 2', 0, 6],
    ['P', 'c-fos', 11, 16],
    ['C', 'T cells', 20, 27],
  ];
  for (const [name, tags] of Object.entries(schemes)) {
    const p = file(`${name}.tsv`, `${tokens.map((tok, i) => `${tok}\t${tags[i]}`).join('\n')}\n`);
    const docs = await all(readIob(p));
    t.is(docs.length, 1, name);
    t.is(docs[0].text, 'IL - 2 and c-fos in T cells');
    t.deepEqual(spansOf(docs[0]), want, name);
  }
  // IOB1: B- separates two adjacent entities of the same type; an I- of another type starts one.
  const p = file('iob1-adjacent.tsv', 'a\tI-X\nb\tB-X\nc\tI-Y\nd\tE-Y\ne\tE-X\n');
  t.deepEqual(spansOf((await all(readIob(p)))[0]), [
    ['X', 'a', 0, 1],
    ['X', 'b', 2, 3],
    ['Y', 'c d', 4, 7],
    ['X', 'e', 8, 9],
  ]);
});

test('sentences, CRLF, BOM, -DOCSTART- and extra columns', async (t) => {
  const p = file('crlf.tsv', '\ufeff-DOCSTART-\tO\r\n\r\nA\tNN\tB-X\r\nb\tNN\tO\r\n\r\n\r\nc\tI-X\r\n');
  const docs = await all(readIob(p));
  t.deepEqual(docs.map((d) => [d.id, d.text]), [
    ['crlf.tsv#0', 'A b'],
    ['crlf.tsv#1', 'c'],
  ]);
  t.deepEqual(spansOf(docs[1]), [['X', 'c', 0, 1]]);
});

test('malformed IOB lines name file and line, never the text; lenient mode counts skips', async (t) => {
  const p = file('bad.tsv', 'ok\tO\nsecret-token\tZ-X\n\nonecolumn\n\nfine\tB-X\n\nx\tB-Unknown\n');
  const err = await t.throwsAsync(all(readIob(p)), { instanceOf: CorpusError });
  t.is(err!.message, 'bad.tsv:2: unknown tag "Z-X" (expected O, B-, I-, E-, S-, L- or U-)');
  t.false(err!.message.includes('secret-token'));
  const report = new SkipReport();
  const docs = await all(readIob(p, { lenient: true, report, types: ['X'] }));
  t.deepEqual(docs.map((d) => d.id), ['bad.tsv#2']);
  t.deepEqual(
    report.skips.map((s) => `${s.file}:${s.line}: ${s.reason}`),
    [
      'bad.tsv:2: unknown tag "Z-X" (expected O, B-, I-, E-, S-, L- or U-)',
      'bad.tsv:4: expected "token<TAB>tag"',
      'bad.tsv:8: unknown entity type "Unknown" (expected X)',
    ],
  );
  await t.throwsAsync(all(readIob(p, { lenient: true })), { message: /needs a SkipReport/ });
});
