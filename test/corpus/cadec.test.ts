import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadCadec } from '../../lib/corpus/cadec.ts';
import { CorpusError, SkipReport } from '../../lib/corpus/errors.ts';
import { loadDataset } from '../../lib/corpus/registry.ts';
import { corporaRoot, count, offsetsHold, withCorpora } from './corpora.ts';

withCorpora('CADEC: measured counts, discontinuous entities, offsets slice', async (t) => {
  const cadec = await loadDataset('cadec', { root: corporaRoot });
  t.deepEqual(count(cadec.splits.train), { sentences: 5444, entities: 4428, nested: 0, discontinuous: 491 });
  t.deepEqual(count(cadec.splits.dev), { sentences: 1110, entities: 897, nested: 0, discontinuous: 93 });
  t.deepEqual(count(cadec.splits.test), { sentences: 1202, entities: 990, nested: 0, discontinuous: 94 });
  for (const docs of Object.values(cadec.splits)) t.is(offsetsHold(docs), undefined);
  t.true(cadec.hasDiscontinuous);
  // Hand-checked: "weakness in" shared by five ADRs, four of them discontinuous.
  const doc = cadec.splits.train[3];
  t.is(doc.text, 'Muscle aches and weakness in neck , arms , shoulders , upper back , legs .');
  t.deepEqual(
    doc.entities.map((e) => [e.text, e.spans]),
    [
      ['Muscle aches', [[0, 12]]],
      ['weakness in legs', [[17, 28], [68, 72]]],
      ['weakness in upper back', [[17, 28], [55, 65]]],
      ['weakness in shoulders', [[17, 28], [43, 52]]],
      ['weakness in arms', [[17, 28], [36, 40]]],
      ['weakness in neck', [[17, 33]]],
    ],
  );
});

test('CADEC malformed records name the file and record, never the text', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mfner-cadec-'));
  const p = path.join(dir, 'x.json');
  writeFileSync(
    p,
    JSON.stringify([
      { sentence: ['pain', 'in', 'neck'], ner: [{ index: [0, 2], type: 'ADR' }] },
      { sentence: ['private', 'words'], ner: [{ index: [5], type: 'ADR' }] },
      { sentence: ['ok'], ner: [{ index: [0], type: 'Drug' }] },
      { sentence: 'not a list', ner: [] },
    ]),
  );
  const err = await t.throwsAsync(loadCadec(p, { types: ['ADR'] }), { instanceOf: CorpusError });
  t.is(err!.message, 'x.json:1 (record 1, ner[0]): token index 5 outside a sentence of 2 tokens');
  t.false(err!.message.includes('private'));
  const report = new SkipReport();
  const docs = await loadCadec(p, { types: ['ADR'], lenient: true, report });
  t.is(docs.length, 1);
  t.deepEqual(docs[0].entities.map((e) => [e.text, e.discontinuous]), [['pain neck', true]]);
  t.deepEqual(report.skips.map((s) => s.annotation), ['record 1, ner[0]', 'record 2, ner[0]', 'record 3']);
  writeFileSync(p, '[{"sentence": ["a"], "ner": []},\n {"sentence": ');
  await t.throwsAsync(loadCadec(p), { message: 'x.json:2:15: invalid JSON (unexpected end of input)' });
});
