import test from 'ava';
import { FORMAT_NAMES, PROMPT_TEMPLATE, buildExamples, buildPrompt, getFormat } from '../../lib/formats/index.ts';
import { ENTITIES, IN_TEXT_ORDER, TEXT, TYPES } from './genia-example.ts';

const SENTENCE_WITH = (middle: string) => `These results suggest that ${middle} as an immediate early gene.`;
const SCAFFOLD = (appends: string[]) =>
  [
    'Answer:',
    '```python',
    'def named_entity_recognition(input_text):',
    '    """Extract the named entities mentioned in input_text."""',
    '    entity_list = []',
    ...appends.map((a) => `    entity_list.append(${a})`),
    '    return entity_list',
    '```',
  ].join('\n');

/** single_* formats: one answer per type, in the order of TYPES. */
const SINGLE: Record<string, string[]> = {
  single_tag: [
    `Answer: ${SENTENCE_WITH('BCL6 plays a role in activated lymphocytes')}`,
    `Answer: ${SENTENCE_WITH('@@BCL6## plays a role in activated lymphocytes')}`,
    `Answer: ${SENTENCE_WITH('BCL6 plays a role in activated lymphocytes')}`,
    `Answer: ${SENTENCE_WITH('BCL6 plays a role in activated lymphocytes')}`,
    `Answer: ${SENTENCE_WITH('BCL6 plays a role in @@activated @@lymphocytes####')}`,
  ],
  single_code: [
    SCAFFOLD([]),
    SCAFFOLD(['"BCL6"']),
    SCAFFOLD([]),
    SCAFFOLD([]),
    SCAFFOLD(['"activated lymphocytes"', '"lymphocytes"']),
  ],
  single_term: ['Answer: []', 'Answer: ["BCL6"]', 'Answer: []', 'Answer: []', 'Answer: ["activated lymphocytes", "lymphocytes"]'],
  single_span: ['Answer: []', 'Answer: [[27, 31]]', 'Answer: []', 'Answer: []', 'Answer: [[48, 69], [58, 69]]'],
};

const MULTI: Record<string, string | string[]> = {
  conv_term: ['Answer: []', 'Answer: ["BCL6"]', 'Answer: []', 'Answer: []', 'Answer: ["activated lymphocytes", "lymphocytes"]'],
  multi_tag: `Answer: ${SENTENCE_WITH(
    '<protein>BCL6</protein> plays a role in <cell_type>activated <cell_type>lymphocytes</cell_type></cell_type>',
  )}`,
  multi_code: SCAFFOLD([
    '{"text": "BCL6", "type": "protein"}',
    '{"text": "activated lymphocytes", "type": "cell_type"}',
    '{"text": "lymphocytes", "type": "cell_type"}',
  ]),
  multi_term:
    'Answer: [{"text": "BCL6", "type": "protein"}, {"text": "activated lymphocytes", "type": "cell_type"}, ' +
    '{"text": "lymphocytes", "type": "cell_type"}]',
  multi_span:
    'Answer: [{"span": [27, 31], "type": "protein"}, {"span": [48, 69], "type": "cell_type"}, ' +
    '{"span": [58, 69], "type": "cell_type"}]',
  multi_triple: 'Answer:\nBCL6; is a; protein\nactivated lymphocytes; is a; cell_type\nlymphocytes; is a; cell_type',
  multi_bio:
    'Layer 1: O O O O B-protein O O O O B-cell_type I-cell_type O O O O O O\n' +
    'Layer 2: O O O O O O O O O O B-cell_type O O O O O O',
  multi_brat: 'Answer:\nT1 protein 27 31 BCL6\nT2 cell_type 48 69 activated lymphocytes\nT3 cell_type 58 69 lymphocytes',
};

test('every format has an exact expected rendering here', (t) => {
  t.deepEqual([...Object.keys(SINGLE), ...Object.keys(MULTI)].sort(), [...FORMAT_NAMES].sort());
});

for (const [name, answers] of Object.entries(SINGLE)) {
  test(`${name}: exact answers on the GENIA example, one per type, parsed back`, (t) => {
    const format = getFormat(name);
    t.true(format.capabilities.perType);
    TYPES.forEach((type, i) => {
      t.is(format.render(TEXT, ENTITIES, [type]), answers[i], type);
      const back = format.parse(answers[i], TEXT, [type]);
      t.deepEqual(back.problems, [], type);
      t.deepEqual(back.entities, IN_TEXT_ORDER.filter((e) => e.type === type), type);
    });
  });
}

for (const [name, answer] of Object.entries(MULTI)) {
  test(`${name}: exact answer on the GENIA example, parsed back`, (t) => {
    const format = getFormat(name);
    t.deepEqual(format.render(TEXT, ENTITIES, TYPES), answer);
    const back = format.parse(answer, TEXT, TYPES);
    t.deepEqual(back.problems, []);
    t.deepEqual(back.entities, IN_TEXT_ORDER);
  });
}

test('multi_bio labels 17 tokens: the final full stop is its own token', (t) => {
  const first = (getFormat('multi_bio').render(TEXT, ENTITIES, TYPES) as string).split('\n')[0];
  t.is(first.replace('Layer 1: ', '').split(' ').length, 17);
});

test('instructions name the types asked for and quote nothing from the text', (t) => {
  for (const name of FORMAT_NAMES) {
    const format = getFormat(name);
    const asked = format.capabilities.perType && !format.capabilities.multiTurn ? ['cell_type'] : [...TYPES];
    const instruction = format.instruction(asked);
    for (const type of asked) t.true(instruction.includes(type), `${name} names ${type}`);
    for (const word of ['BCL6', 'lymphocytes', 'immediate']) t.false(instruction.includes(word), `${name}`);
  }
});

test('the prompt template is Listing 1, filled literally', (t) => {
  t.is(
    PROMPT_TEMPLATE,
    'The task you need to complete is named entity recognition. Follow {dataset} guidelines.\n\n{format}\n\nText: {text}',
  );
  t.is(
    buildPrompt('Genia', 'F $& {text}', 'a {format} b'),
    'The task you need to complete is named entity recognition. Follow Genia guidelines.\n\nF $& {text}\n\nText: a {format} b',
  );
});

test('conv_term dialogue: Listing-1 prompt, blank line, Type: turns, one answer per type', (t) => {
  const format = getFormat('conv_term');
  const [dialogue, ...rest] = buildExamples(format, { dataset: 'Genia', text: TEXT, entities: ENTITIES, types: TYPES });
  t.is(rest.length, 0);
  t.is(dialogue.length, 2 * TYPES.length);
  t.is(dialogue[0].content, `${buildPrompt('Genia', format.instruction(TYPES), TEXT)}\n\nType: cell_line`);
  t.deepEqual(dialogue.slice(2).filter((m) => m.role === 'user').map((m) => m.content), [
    'Type: protein',
    'Type: RNA',
    'Type: DNA',
    'Type: cell_type',
  ]);
  t.deepEqual(dialogue.filter((m) => m.role === 'assistant').map((m) => m.content), MULTI.conv_term);
});

test('single_* formats give one dialogue per type, multi_* one dialogue', (t) => {
  const input = { dataset: 'Genia', text: TEXT, entities: ENTITIES, types: TYPES };
  const single = buildExamples(getFormat('single_span'), input);
  t.is(single.length, TYPES.length);
  t.is(single[4][1].content, 'Answer: [[48, 69], [58, 69]]');
  t.true(single[4][0].content.endsWith(`Text: ${TEXT}`));
  const multi = buildExamples(getFormat('multi_span'), input);
  t.is(multi.length, 1);
  t.is(multi[0][1].content, MULTI.multi_span as string);
});

test('getFormat names the valid formats when the name is unknown', (t) => {
  const err = t.throws(() => getFormat('multi_json'));
  t.regex(err!.message, /multi_json/);
  for (const name of FORMAT_NAMES) t.true(err!.message.includes(name));
});
