import test from 'ava';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadGenia } from '../../lib/corpus/genia.ts';
import { mapGeniaClass } from '../../lib/corpus/genia-types.ts';
import { CorpusError, SkipReport } from '../../lib/corpus/errors.ts';
import type { CorpusDocument } from '../../lib/corpus/document.ts';
import { corporaRoot, count, offsetsHold, withCorpora } from './corpora.ts';

const xml = path.join(corporaRoot, 'GENIA/GENIA_term_3.02/GENIAcorpus3.02.xml');
const splitsDir = path.join(corporaRoot, 'GENIA/CNN_Nested_NER-genia/splits');
// One load per file, shared by the tests below (the XML is 9 MB).
const loaded = withCorpora === test ? loadGenia(xml, { splitsDir }) : undefined;

withCorpora('GENIA default: standard split, counts, duplicate article kept once', async (t) => {
  const { splits, stats } = (await loaded)!;
  t.is(stats.articles, 1999);
  t.deepEqual(stats.duplicateArticles, ['MEDLINE:97218353']);
  t.deepEqual([stats.unassignedArticles, stats.missingArticles], [[], []]);
  t.is(stats.coordinations, 1597);
  t.is(stats.droppedDuplicateEntities, 33);
  // The same sentence and entity totals as the CNN_Nested_NER readme's table (15038/1765/1732;
  // 46203/4714/5119), which is computed from the same XML and split.
  t.deepEqual(count(splits.train), { sentences: 15038, entities: 46203, nested: 8279, discontinuous: 0 });
  t.deepEqual(count(splits.dev), { sentences: 1765, entities: 4714, nested: 844, discontinuous: 0 });
  t.deepEqual(count(splits.test), { sentences: 1732, entities: 5119, nested: 1146, discontinuous: 0 });
  for (const docs of Object.values(splits)) t.is(offsetsHold(docs), undefined);
});

withCorpora('GENIA hand-checked sentence: mapping, nesting, coordination dropped', async (t) => {
  const { splits } = (await loaded)!;
  const doc = splits.dev.find((d) => d.id === 'MEDLINE:93061407-1')!;
  t.is(
    doc.text,
    'The expression of c-fos, c-jun and jun B proto-oncogenes was studied in phytohemagglutinin (PHA) activated peripheral blood lymphocytes (PBL) from young and aged humans.',
  );
  t.deepEqual(
    doc.entities.map((e) => [e.type, e.text, e.spans, e.nested]),
    [
      ['cell_line', 'phytohemagglutinin (PHA) activated peripheral blood lymphocytes', [[72, 135]], true],
      ['protein', 'phytohemagglutinin', [[72, 90]], true],
      ['protein', 'PHA', [[92, 95]], true],
      ['cell_type', 'PBL', [[137, 140]], false],
    ],
  );
});

withCorpora('GENIA default agrees with the independent processed dev/test jsonlines', async (t) => {
  const { splits } = (await loaded)!;
  const squash = (s: string) => s.replace(/\s+/gu, '');
  for (const split of ['dev', 'test'] as const) {
    const ours = new Map<string, CorpusDocument>(splits[split].map((d) => [d.id, d]));
    const lines = readFileSync(path.join(corporaRoot, `GENIA/CNN_Nested_NER-genia/${split}.jsonlines`), 'utf8').trim().split('\n');
    let agree = 0;
    let entities = 0;
    for (const line of lines) {
      const ref = JSON.parse(line) as { sent_id: string; tokens: string[]; entity_mentions: { start: number; end: number; entity_type: string }[] };
      const theirs = ref.entity_mentions.map((m) => `${m.entity_type}|${squash(ref.tokens.slice(m.start, m.end).join(''))}`).sort();
      const mine = (ours.get(ref.sent_id)?.entities ?? []).map((e) => `${e.type}|${squash(e.text)}`).sort();
      entities += theirs.length;
      if (JSON.stringify(theirs) === JSON.stringify(mine)) agree++;
    }
    // Measured: every sentence agrees (type + text ignoring whitespace, as multisets).
    t.deepEqual([split, lines.length, agree, entities], [split, splits[split].length, splits[split].length, count(splits[split]).entities]);
  }
});

withCorpora('GENIA with coordination kept: members become discontinuous entities', async (t) => {
  const report = new SkipReport();
  const { splits, stats } = await loadGenia(xml, { splitsDir, coordination: 'keep', report });
  t.deepEqual(stats.coordinationMembers, { kept: 2118, unresolved: 115, otherType: 1239 });
  t.is(report.count, 115);
  t.deepEqual(count(splits.train), { sentences: 15038, entities: 47962, nested: 8384, discontinuous: 1026 });
  for (const docs of Object.values(splits)) t.is(offsetsHold(docs), undefined);
  const doc = splits.dev.find((d) => d.id === 'MEDLINE:93061407-1')!;
  t.deepEqual(
    doc.entities.filter((e) => e.type === 'DNA').map((e) => [e.text, e.spans]),
    [
      ['c-fos proto-oncogenes', [[18, 23], [41, 56]]],
      ['c-jun proto-oncogenes', [[25, 30], [41, 56]]],
      ['jun B proto-oncogenes', [[35, 56]]],
    ],
  );
});

test('GENIA class mapping', (t) => {
  t.is(mapGeniaClass('G#DNA_domain_or_region'), 'DNA');
  t.is(mapGeniaClass('G#DNA_N/A'), 'DNA');
  t.is(mapGeniaClass('G#RNA_molecule'), 'RNA');
  t.is(mapGeniaClass('G#protein_complex'), 'protein');
  t.is(mapGeniaClass('G#cell_line'), 'cell_line');
  t.is(mapGeniaClass('G#cell_type'), 'cell_type');
  t.is(mapGeniaClass('G#other_name'), undefined);
  t.is(mapGeniaClass('G#virus'), undefined);
});

test('GENIA: malformed XML and structure errors name file and line', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mfner-genia-'));
  const splits = path.join(dir, 'splits');
  mkdirSync(splits);
  writeFileSync(path.join(splits, 'train.txt'), 'MEDLINE:1\n');
  writeFileSync(path.join(splits, 'dev.txt'), '');
  writeFileSync(path.join(splits, 'test.txt'), '');
  const file = path.join(dir, 'g.xml');
  const article = (body: string) =>
    `<set>\n<article><articleinfo><bibliomisc>MEDLINE:1</bibliomisc></articleinfo>\n<title>${body}</title><abstract></abstract></article>\n</set>`;
  writeFileSync(file, article('<sentence><cons sem="G#cell_type">T &lt; cells</cons> and <cons sem="G#protein_molecule">p50</cons></sentence>'));
  const ok = await loadGenia(file, { splitsDir: splits });
  t.deepEqual(ok.splits.train.map((d) => [d.id, d.text, d.entities.map((e) => e.text)]), [['MEDLINE:1-0', 'T < cells and p50', ['T < cells', 'p50']]]);
  writeFileSync(file, article('<sentence><cons sem="G#cell_type">secret\n words</sentence>'));
  const err = await t.throwsAsync(loadGenia(file, { splitsDir: splits }), { instanceOf: CorpusError });
  t.regex(err!.message, /^g\.xml:4: malformed XML: /);
  t.false(err!.message.includes('secret'));
  writeFileSync(file, article('<cons sem="G#cell_type">x</cons>'));
  await t.throwsAsync(loadGenia(file, { splitsDir: splits }), { message: 'g.xml:3: <cons> outside a <sentence>' });
  writeFileSync(path.join(splits, 'dev.txt'), 'MEDLINE:1\n');
  await t.throwsAsync(loadGenia(file, { splitsDir: splits }), { message: 'dev.txt:1: MEDLINE:1 is in two splits' });
});
