import test from 'ava';
import { all, fixtureWriter } from './fixtures.ts';
import { readPubtator } from '../../lib/corpus/pubtator.ts';
import { documentToJson, readJsonl } from '../../lib/corpus/jsonl.ts';
import { CorpusError, SkipReport } from '../../lib/corpus/errors.ts';

const file = fixtureWriter('user');

test('PubTator: title + " " + abstract, code-point offsets, relations skipped', async (t) => {
  const p = file(
    'a.pubtator',
    [
      '123|t|𝛼-Synuclein in PD',
      '123|a|Levels of 𝛼-synuclein rose.',
      '123\t0\t11\t𝛼-Synuclein\tGene\tG:1',
      '123\t15\t17\tPD\tDisease\tD:1',
      '123\t28\t39\t𝛼-synuclein\tGene',
      '123\tCID\tG:1\tD:1',
      '',
      '456|t|No entities here',
      '456|a|',
      '',
    ].join('\n'),
  );
  const docs = await all(readPubtator(p));
  t.is(docs.length, 2);
  t.is(docs[0].text, '𝛼-Synuclein in PD Levels of 𝛼-synuclein rose.');
  t.deepEqual(docs[0].entities.map((e) => [e.type, e.text, e.spans]), [
    ['Gene', '𝛼-Synuclein', [[0, 12]]],
    ['Disease', 'PD', [[16, 18]]],
    ['Gene', '𝛼-synuclein', [[29, 41]]],
  ]);
  t.deepEqual(documentToJson(docs[0]).entities.map((e) => e.spans), [[[0, 11]], [[15, 17]], [[28, 39]]]);
  t.deepEqual([docs[1].id, docs[1].text, docs[1].entities], ['456', 'No entities here ', []]);
});

test('PubTator malformed input: file and line, lenient skips counted', async (t) => {
  const p = file('b.pubtator', ['1|t|secret words', '1\t0\t6\tsecrex\tX', '1\tnot\tnumbers\tm\tX', '', '2|t|fine', '2\t0\t4\tfine\tX', ''].join('\n'));
  const err = await t.throwsAsync(all(readPubtator(p)), { instanceOf: CorpusError });
  t.is(err!.message, 'b.pubtator:3: expected "PMID<TAB>start<TAB>end<TAB>mention<TAB>type"');
  const report = new SkipReport();
  const docs = await all(readPubtator(p, { lenient: true, report }));
  t.deepEqual(docs.map((d) => [d.id, d.entities.length]), [['1', 0], ['2', 1]]);
  t.deepEqual(report.skips.map((s) => `${s.line}: ${s.reason}`), [
    '3: expected "PMID<TAB>start<TAB>end<TAB>mention<TAB>type"',
    '2: offsets do not match the mention text',
  ]);
  t.false(report.skips.some((s) => s.reason.includes('secret')));
});

test('JSONL: code points in, JS indices inside, code points out; round trip', async (t) => {
  const line = { id: 'd1', text: 'x 𝛼-actin and left ventricle', entities: [{ type: 'P', spans: [[2, 9]], text: '𝛼-actin' }, { type: 'A', spans: [[19, 28], [2, 9]] }] };
  const p = file('a.jsonl', `${JSON.stringify(line)}\n\n${JSON.stringify({ text: 'no id', entities: [] })}\n`);
  const docs = await all(readJsonl(p));
  t.deepEqual(docs[0].entities.map((e) => [e.text, e.spans, e.discontinuous]), [
    ['𝛼-actin ventricle', [[2, 10], [20, 29]], true],
    ['𝛼-actin', [[2, 10]], false],
  ]);
  t.is(docs[1].id, 'a.jsonl:3');
  const back = documentToJson(docs[0]);
  t.deepEqual(back.entities.map((e) => e.spans), [[[2, 9], [19, 28]], [[2, 9]]]);
  const again = await all(readJsonl(file('b.jsonl', `${JSON.stringify(back)}\n`)));
  t.deepEqual(again[0], docs[0]);
});

test('JSONL malformed input: file, line and entity index, never the text', async (t) => {
  const cases: [string, string][] = [
    ['{"text": "secret"', 'c.jsonl:1:18: invalid JSON (unexpected end of input)'],
    ['{"text": 5}', 'c.jsonl:1: "text" must be a string'],
    ['{"text": "secret", "entities": [{"type": "X", "spans": [[0, 9]]}]}', 'c.jsonl:1 (entities[0]): span 0-9 is empty, reversed or outside the text (6 code points)'],
    ['{"text": "secret", "entities": [{"type": "X", "spans": [[0, 3]], "text": "sex"}]}', 'c.jsonl:1 (entities[0]): offsets do not match the entity text'],
    ['{"text": "secret", "entities": [{"spans": [[0, 3]]}]}', 'c.jsonl:1 (entities[0]): missing entity type'],
    ['{"text": "secret", "entities": [{"type": "X", "spans": [0, 3]}]}', 'c.jsonl:1 (entities[0]): each span must be [start, end] with integer offsets'],
  ];
  for (const [content, message] of cases) {
    await t.throwsAsync(all(readJsonl(file('c.jsonl', content))), { instanceOf: CorpusError, message });
  }
  const report = new SkipReport();
  const docs = await all(readJsonl(file('d.jsonl', `${cases.map((c) => c[0]).join('\n')}\n{"text": "ok"}\n`), { lenient: true, report }));
  t.is(docs.length, 1);
  t.is(report.count, cases.length);
});
