/**
 * Issue 15, item 5: loader edge cases. Each fixture is written here into a temporary folder;
 * every error names the file and the line, and no input text reaches the message.
 */
import test from 'ava';
import fc from 'fast-check';
import { all, fixtureWriter } from './fixtures.ts';
import { loadBratDocument } from '../../lib/corpus/brat.ts';
import { loadCadec } from '../../lib/corpus/cadec.ts';
import type { CorpusDocument } from '../../lib/corpus/document.ts';
import { CorpusError, SkipReport } from '../../lib/corpus/errors.ts';
import { readIob } from '../../lib/corpus/iob.ts';
import { findJsonSyntaxError } from '../../lib/corpus/json-position.ts';
import { readJsonl } from '../../lib/corpus/jsonl.ts';
import { stripBom } from '../../lib/corpus/lines.ts';
import { readPubtator } from '../../lib/corpus/pubtator.ts';

const file = fixtureWriter('hardening');
const BOM = '\uFEFF';
/** Words of the fixtures that must never appear in an error message. */
const SECRETS = ['Zorblat', 'Quuxine', 'Fendrel'];
function noLeak(t: { false(v: boolean, m?: string): void }, message: string): void {
  for (const s of SECRETS) t.false(message.includes(s), `message quotes input text: ${message}`);
}
const spansOf = (d: CorpusDocument) => d.entities.map((e) => [e.type, e.text, e.spans]);

test('stripBom drops one leading BOM only', (t) => {
  t.is(stripBom(`${BOM}a${BOM}`), `a${BOM}`);
  t.is(stripBom(`${BOM}${BOM}a`), `${BOM}a`);
  t.is(stripBom('a'), 'a');
  t.is(stripBom(''), '');
});

test('BRAT: a BOM at the start of the .ann is accepted; the same file without it reads the same', async (t) => {
  const text = 'Zorblat binds Quuxine.';
  const ann = 'T1\tProtein 0 7\tZorblat\nT2\tChemical 14 21\tQuuxine\n';
  const bomTxt = file('bom.txt', text);
  file('bom.ann', `${BOM}${ann}`);
  const plainTxt = file('plain.txt', text);
  file('plain.ann', ann);
  const withBom = await loadBratDocument(bomTxt);
  const without = await loadBratDocument(plainTxt);
  t.deepEqual(spansOf(withBom), [
    ['Protein', 'Zorblat', [[0, 7]]],
    ['Chemical', 'Quuxine', [[14, 21]]],
  ]);
  t.deepEqual(spansOf(withBom), spansOf(without));
  // CRLF with a BOM as well.
  file('bom.ann', `${BOM}${ann.replace(/\n/gu, '\r\n')}`);
  t.deepEqual(spansOf(await loadBratDocument(bomTxt)), spansOf(without));
});

test('BRAT: a duplicate T id is an error naming file, line and id; lenient keeps the first', async (t) => {
  const dupTxt = file('dup.txt', 'Zorblat binds Quuxine and Fendrel.');
  file('dup.ann', 'T1\tProtein 0 7\tZorblat\nR1\tBinds Arg1:T1 Arg2:T2\nT2\tChemical 14 21\tQuuxine\nT1\tChemical 26 33\tFendrel\n');
  const err = await t.throwsAsync(loadBratDocument(dupTxt), { instanceOf: CorpusError });
  t.is(err!.message, 'dup.ann:4 (T1): duplicate annotation id (first on line 1)');
  noLeak(t, err!.message);
  const report = new SkipReport();
  const doc = await loadBratDocument(dupTxt, { lenient: true, report });
  t.deepEqual(spansOf(doc), [
    ['Protein', 'Zorblat', [[0, 7]]],
    ['Chemical', 'Quuxine', [[14, 21]]],
  ]);
  t.deepEqual(report.skips, [{ file: 'dup.ann', line: 4, annotation: 'T1', reason: 'duplicate annotation id (first on line 1)' }]);
  // Ids of other kinds are not T ids: an R1 and a T1 do not clash, nor do T1 and T10.
  file('dup.ann', 'T1\tProtein 0 7\tZorblat\nT10\tChemical 14 21\tQuuxine\n#1\tAnnotatorNotes T1\tx\n');
  t.is((await loadBratDocument(dupTxt)).entities.length, 2);
});

test('CADEC: a BOM is accepted', async (t) => {
  const records = [{ sentence: ['Zorblat', 'pain'], ner: [{ index: [1], type: 'ADR' }] }];
  const p = file('bom.json', `${BOM}${JSON.stringify(records)}`);
  const docs = await loadCadec(p);
  t.deepEqual(docs.map((d) => [d.text, spansOf(d)]), [['Zorblat pain', [['ADR', 'pain', [[8, 12]]]]]]);
});

test('CADEC: invalid JSON names file, line and column, never the text', async (t) => {
  const cases: Array<[string, string]> = [
    // a missing value on line 3, column 40 (code points: 𝛼 counts once, it would be 41 in UTF-16 units)
    ['[\n {"sentence": ["Zorblat"], "ner": []},\n {"sentence": ["𝛼", "Quuxine"], "ner": ]}\n]', 'bad.json:3:40: invalid JSON (unexpected character)'],
    ['[{"sentence": ["Zorblat"], "ner": []}', 'bad.json:1:38: invalid JSON (unexpected end of input)'],
    ['[{"sentence": ["Zorblat\nQuuxine"]}]', 'bad.json:1:24: invalid JSON (control character inside a string)'],
    ['[{"sentence": ["Zorblat"], "ner": []}] Fendrel', 'bad.json:1:40: invalid JSON (unexpected content after the JSON value)'],
    [`${BOM}${BOM}[]`, 'bad.json:1:1: invalid JSON (unexpected character)'],
    ['', 'bad.json:1:1: invalid JSON (unexpected end of input)'],
    ["[{'sentence': ['Zorblat']}]", 'bad.json:1:3: invalid JSON (expected a property name)'],
  ];
  for (const [content, message] of cases) {
    const err = await t.throwsAsync(loadCadec(file('bad.json', content)), { instanceOf: CorpusError });
    t.is(err!.message, message);
    noLeak(t, err!.message);
  }
});

test('JSONL: invalid JSON gives the column too', async (t) => {
  const p = file('bad.jsonl', '{"text": "Zorblat", "entities": []}\n{"text": "Quuxine", "entities": [}\n');
  const err = await t.throwsAsync(all(readJsonl(p)), { instanceOf: CorpusError });
  t.is(err!.message, 'bad.jsonl:2:34: invalid JSON (unexpected character)');
  noLeak(t, err!.message);
});

test('findJsonSyntaxError agrees with JSON.parse on valid and damaged JSON', (t) => {
  const valid = (s: string) => {
    try {
      JSON.parse(s);
      return true;
    } catch {
      return false;
    }
  };
  const pieces = fc.constantFrom('{', '}', '[', ']', ',', ':', '"', '"a"', '1', '-', '0', '.5', 'e', 'true', 'nul', 'null', ' ', '\n', '\\', '\\u12', '\\n', 'x', '\u0001', '01', '1.', '2e+3', BOM);
  const damaged = fc.tuple(fc.json(), fc.nat(), fc.nat(3)).map(([j, at, n]) => {
    const k = at % (j.length + 1);
    return j.slice(0, k) + j.slice(k + n);
  });
  fc.assert(
    fc.property(fc.oneof(fc.json(), damaged, fc.array(pieces, { maxLength: 12 }).map((a) => a.join(''))), (s) => {
      const found = findJsonSyntaxError(s);
      t.is(found === undefined, valid(s));
      if (found) t.true(found.offset >= 0 && found.offset <= s.length && found.line >= 1 && found.column >= 1);
    }),
    { numRuns: 20000 },
  );
  // Deep nesting is scanned without recursion.
  t.is(findJsonSyntaxError(`${'['.repeat(100000)}${']'.repeat(100000)}`), undefined);
  t.is(findJsonSyntaxError(`${'['.repeat(100000)}`)?.reason, 'unexpected end of input');
});

test('PubTator: a mention without its type column is an error, not a relation', async (t) => {
  const p = file(
    'notype.pubtator',
    ['1|t|Zorblat and Quuxine', '1\t0\t7\tZorblat\tChemical', '1\t12\t19\tQuuxine', '1\tCID\tD001\tD002', '', '2|t|Fendrel', '2\t0\t7\tFendrel\tChemical', ''].join('\n'),
  );
  const err = await t.throwsAsync(all(readPubtator(p)), { instanceOf: CorpusError });
  t.is(err!.message, 'notype.pubtator:3: mention without a type column');
  noLeak(t, err!.message);
  const report = new SkipReport();
  const docs = await all(readPubtator(p, { lenient: true, report }));
  // The line is skipped and counted; the rest of its document (and the relation) stay as they were.
  t.deepEqual(docs.map((d) => [d.id, spansOf(d)]), [
    ['1', [['Chemical', 'Zorblat', [[0, 7]]]]],
    ['2', [['Chemical', 'Fendrel', [[0, 7]]]]],
  ]);
  t.deepEqual(report.skips, [{ file: 'notype.pubtator', line: 3, reason: 'mention without a type column' }]);
  // An empty type column is no better.
  const q = file('emptytype.pubtator', ['1|t|Zorblat', '1\t0\t7\tZorblat\t', ''].join('\n'));
  const err2 = await t.throwsAsync(all(readPubtator(q)), { instanceOf: CorpusError });
  t.is(err2!.message, 'emptytype.pubtator:2: mention with an empty type column');
});

test('IOB: a line that is only a tab is an error, not a sentence break', async (t) => {
  const p = file('tab.tsv', ['Zorblat\tB-X', 'Quuxine\tI-X', '\t', 'Fendrel\tO', '', 'ok\tO', ''].join('\n'));
  const err = await t.throwsAsync(all(readIob(p)), { instanceOf: CorpusError });
  t.is(err!.message, 'tab.tsv:3: empty token or token containing whitespace');
  noLeak(t, err!.message);
  // Lenient: the sentence holding the line is dropped (its offsets would be wrong), and counted.
  const report = new SkipReport();
  const docs = await all(readIob(p, { lenient: true, report }));
  t.deepEqual(docs.map((d) => [d.id, d.text]), [['tab.tsv#1', 'ok']]);
  t.deepEqual(report.skips, [{ file: 'tab.tsv', line: 3, reason: 'empty token or token containing whitespace' }]);
  // Tabs with spaces, and a token with an empty tag, are errors too; lines of spaces stay blank lines.
  for (const [line, reason] of [
    [' \t ', 'empty token or token containing whitespace'],
    ['\t\t', 'empty token or token containing whitespace'],
    ['Zorblat\t', 'empty tag'],
    ['Zorblat\t  ', 'empty tag'],
  ]) {
    const q = file('tab2.tsv', `a\tO\n${line}\nb\tO\n`);
    const e = await t.throwsAsync(all(readIob(q)), { instanceOf: CorpusError });
    t.is(e!.message, `tab2.tsv:2: ${reason}`);
    noLeak(t, e!.message);
  }
  const spaces = await all(readIob(file('spaces.tsv', 'a\tO\n   \nb\tO\n')));
  t.deepEqual(spaces.map((d) => d.text), ['a', 'b']);
});
