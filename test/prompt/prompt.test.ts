import test from 'ava';
import { PROMPT_TEMPLATE, FORMAT_NAMES, getFormat, type Format, type FormatName } from '../../lib/formats/index.ts';
import { makeDocument } from '../../lib/corpus/document.ts';
import { buildMessages } from '../../lib/prompt/messages.ts';
import { CONFIGURATION_NAMES, configurationFormats, datasetAllows } from '../../lib/prompt/configurations.ts';
import { buildPromptExamples } from '../../lib/prompt/examples.ts';
import { getStub } from './stub-formats.ts';

const TEXT = 'These results suggest that BCL6 plays a role in activated lymphocytes as an immediate early gene.';
const GENIA_TYPES = ['cell_line', 'protein', 'RNA', 'DNA', 'cell_type'];
const doc = makeDocument('paper', TEXT, [
  { type: 'protein', spans: [[27, 31]] },
  { type: 'cell_type', spans: [[48, 69]] },
  { type: 'cell_type', spans: [[58, 69]] },
]);

test('the Listing-1 prompt, exactly', (t) => {
  t.is(
    PROMPT_TEMPLATE,
    'The task you need to complete is named entity recognition. Follow {dataset} guidelines.\n\n{format}\n\nText: {text}',
  );
  const messages = buildMessages(getStub('single_term'), 'Genia', TEXT, ['cell_type'], doc.entities);
  t.deepEqual(messages, [
    {
      role: 'user',
      content:
        'The task you need to complete is named entity recognition. Follow Genia guidelines.\n\n' +
        '[single_term instruction for cell_type]\n\n' +
        'Text: These results suggest that BCL6 plays a role in activated lymphocytes as an immediate early gene.',
    },
    { role: 'assistant', content: 'Answer: ["activated lymphocytes","lymphocytes"]', target: true },
  ]);
  // Braces or `$&` in a text are not template syntax.
  const odd = buildMessages(getStub('multi_term'), 'X', 'a {text} $& b', ['T']);
  t.true(odd[0].content.endsWith('Text: a {text} $& b'));
  t.is(odd.length, 1);
});

test('conv_term: one user turn per type, every assistant turn a target', (t) => {
  const messages = buildMessages(getStub('conv_term'), 'Genia', TEXT, GENIA_TYPES, doc.entities);
  t.is(messages.length, 10);
  t.is(
    messages[0].content,
    'The task you need to complete is named entity recognition. Follow Genia guidelines.\n\n' +
      '[conv_term instruction for cell_line, protein, RNA, DNA, cell_type]\n\n' +
      `Text: ${TEXT}\n\nType: cell_line`,
  );
  t.deepEqual(messages.slice(1).map((m) => [m.role, m.content, m.target ?? false]), [
    ['assistant', 'Answer: []', true],
    ['user', 'Type: protein', false],
    ['assistant', 'Answer: ["BCL6"]', true],
    ['user', 'Type: RNA', false],
    ['assistant', 'Answer: []', true],
    ['user', 'Type: DNA', false],
    ['assistant', 'Answer: []', true],
    ['user', 'Type: cell_type', false],
    ['assistant', 'Answer: ["activated lymphocytes","lymphocytes"]', true],
  ]);
  // For inference: user turns only; the caller interleaves the model's answers.
  t.deepEqual(buildMessages(getStub('conv_term'), 'Genia', TEXT, ['RNA', 'DNA']).map((m) => m.content), [
    messages[0].content.replace(/Type: cell_line$/, 'Type: RNA').replace('cell_line, protein, RNA, DNA, cell_type', 'RNA, DNA'),
    'Type: DNA',
  ]);
});

test('configurations', (t) => {
  t.deepEqual(configurationFormats('all'), [...FORMAT_NAMES]);
  t.deepEqual(configurationFormats('7best'), ['conv_term', 'multi_tag', 'multi_term', 'multi_triple', 'single_code', 'single_tag', 'single_term']);
  t.deepEqual(configurationFormats('term_ner'), ['multi_term', 'single_term']);
  t.deepEqual(configurationFormats('only:multi_brat'), ['multi_brat']);
  t.is(CONFIGURATION_NAMES.length, 15);
  t.throws(() => configurationFormats('only:xml'), { message: /unknown configuration "only:xml"/ });
  t.throws(() => configurationFormats('best'), { message: /use all, 7best, term_ner, only:<format> or each:/ });
  // each: lists formats with +, returned in the paper's order; unknown or repeated ones are refused.
  t.deepEqual(configurationFormats('each:multi_bio+multi_term+single_tag'), ['single_tag', 'multi_term', 'multi_bio']);
  t.deepEqual(configurationFormats('each:multi_span'), ['multi_span']);
  for (const bad of ['each:', 'each:multi_term+', 'each:multi_term+xml', 'each:multi_term+multi_term', 'each:multi_term,multi_bio']) {
    t.throws(() => configurationFormats(bad), { message: /unknown configuration/ }, bad);
  }
  const refused = FORMAT_NAMES.filter((n) => !datasetAllows(getStub(n), true));
  t.deepEqual(refused, ['single_tag', 'multi_tag', 'single_span', 'multi_span', 'multi_bio']);
});

test('each: renders every training document in each allowed format; all draws one per document', (t) => {
  const dataset = { name: 'NCBI-disease', guidelineName: 'NCBI-disease', labels: ['Disease'], hasDiscontinuous: false };
  const docs = [
    makeDocument('a', 'Colorectal cancer runs in families .', [{ type: 'Disease', spans: [[0, 17]] }]),
    makeDocument('b', 'Nothing here .', []),
  ];
  const each = buildPromptExamples(docs, { dataset, configuration: 'each:multi_term+single_tag+multi_bio', split: 'train', draw: 1, getFormat: getStub });
  t.deepEqual(each.examples.map((e) => e.id), ['a|single_tag|Disease', 'a|multi_term', 'a|multi_bio', 'b|single_tag|Disease', 'b|multi_term', 'b|multi_bio']);
  t.deepEqual(each.report.byFormat, { single_tag: 2, multi_term: 2, multi_bio: 2 });
  const dev = buildPromptExamples(docs, { dataset, configuration: 'each:multi_term+multi_bio', split: 'dev', draw: 1, getFormat: getStub });
  t.is(dev.examples.length, 4);
  const drawn = buildPromptExamples(docs, { dataset, configuration: '7best', split: 'train', draw: 1, getFormat: getStub });
  t.deepEqual(drawn.examples.map((e) => e.documentId), ['a', 'b'], 'one format per document under a paper configuration');
  // A format the dataset refuses (discontinuous entities) is left out of each: as of any configuration.
  const disc = { ...dataset, hasDiscontinuous: true };
  const some = buildPromptExamples(docs, { dataset: disc, configuration: 'each:multi_term+multi_bio', split: 'train', draw: 1, getFormat: getStub });
  t.deepEqual([...new Set(some.examples.map((e) => e.format))], ['multi_term']);
});

function realFormats(): ((name: FormatName) => Format) | undefined {
  try {
    FORMAT_NAMES.forEach((n) => getFormat(n));
    return getFormat;
  } catch {
    return undefined;
  }
}
const real = realFormats();
(real ? test : test.skip)('the real formats refuse discontinuous entities exactly where the paper says', (t) => {
  t.deepEqual(
    FORMAT_NAMES.filter((n) => !datasetAllows(real!(n), true)),
    ['single_tag', 'multi_tag', 'single_span', 'multi_span', 'multi_bio'],
  );
});

test('single_* in training: every type with entities plus one drawn empty type; at test: every type', (t) => {
  const dataset = { name: 'GENIA', guidelineName: 'Genia', labels: GENIA_TYPES, hasDiscontinuous: false };
  const train = buildPromptExamples([doc], { dataset, configuration: 'only:single_term', split: 'train', draw: 1, getFormat: getStub });
  const asked = train.examples.map((e) => e.types[0]);
  t.is(asked.length, 3);
  t.true(asked.includes('protein') && asked.includes('cell_type'));
  const negative = asked.find((x) => x !== 'protein' && x !== 'cell_type')!;
  t.true(['cell_line', 'RNA', 'DNA'].includes(negative));
  t.deepEqual(asked, GENIA_TYPES.filter((x) => asked.includes(x)), 'in label order');
  t.deepEqual(train.examples.find((e) => e.types[0] === negative)!.messages[1].content, 'Answer: []');
  t.deepEqual(train.examples.find((e) => e.types[0] === 'cell_type')!.entities.map((e) => e.text), ['activated lymphocytes', 'lymphocytes']);
  const testSplit = buildPromptExamples([doc], { dataset, configuration: 'only:single_term', split: 'test', draw: 1, getFormat: getStub });
  t.deepEqual(testSplit.examples.map((e) => e.types[0]), GENIA_TYPES);
  t.deepEqual(testSplit.examples.map((e) => e.id), GENIA_TYPES.map((x) => `paper|single_term|${x}`));
  // A sentence without entities in a one-type dataset still gives its (empty) example.
  const empty = makeDocument('e', 'Nothing here .', []);
  const one = { name: 'NCBI-disease', guidelineName: 'NCBI-disease', labels: ['Disease'], hasDiscontinuous: false };
  const r = buildPromptExamples([empty], { dataset: one, configuration: 'only:single_tag', split: 'train', draw: 2, getFormat: getStub });
  t.deepEqual(r.examples.map((e) => [e.types, e.messages[1].content]), [[['Disease'], 'Answer: []']]);
});
