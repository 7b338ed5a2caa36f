import test from 'ava';
import { getFormat, makeEntity } from '../../lib/formats/index.ts';
import { BCL6, IN_TEXT_ORDER, LYMPHOCYTES, TEXT, TYPES } from './genia-example.ts';

const kinds = (r: { problems: Array<{ kind: string }> }) => r.problems.map((p) => p.kind);
const parse = (name: string, answer: string | string[], text = TEXT, types: readonly string[] = TYPES) =>
  getFormat(name).parse(answer, text, types);

test('chatter, code fences, trailing commas, single quotes and escaped quotes are read', (t) => {
  const wanted = { entities: IN_TEXT_ORDER, problems: [] };
  const items = `{"text": "BCL6", "type": "protein"}, {'text': 'activated lymphocytes', 'type': 'cell_type'}, {text: "lymphocytes", type: "cell_type"},`;
  t.deepEqual(parse('multi_term', `Sure! Here they are.\nAnswer: \`\`\`json\n[${items}]\n\`\`\`\nHope this helps [1].`), wanted);
  t.deepEqual(parse('single_term', 'Answer: [\\"activated lymphocytes\\", \\"lymphocytes\\"]', TEXT, ['cell_type']), {
    entities: IN_TEXT_ORDER.slice(1),
    problems: [],
  });
  const text = "Crohn's disease and ulcerative colitis";
  const r = parse('single_term', "Answer: ['Crohn's disease', 'ulcerative colitis']", text, ['Disease']);
  t.deepEqual(r.entities.map((e) => e.text), ["Crohn's disease", 'ulcerative colitis']);
});

test('an answer cut at the token limit keeps every complete item', (t) => {
  const r = parse('multi_term', 'Answer: [{"text": "BCL6", "type": "protein"}, {"text": "activated lymph');
  t.deepEqual(r.entities, [BCL6]);
  t.deepEqual(kinds(r), ['truncated']);
  const s = parse('single_span', 'Answer: [[48, 69], [58, 6', TEXT, ['cell_type']);
  t.deepEqual(s.entities.map((e) => e.spans), [[[48, 69]]]);
  t.deepEqual(kinds(s), ['truncated']);
  const tr = parse('multi_triple', 'Answer:\nBCL6; is a; protein\nactivated lymphocytes; is');
  t.deepEqual(tr.entities, [BCL6]);
  t.deepEqual(kinds(tr), ['truncated']);
  const code = parse('single_code', 'Answer:\n```python\ndef f(input_text):\n    entity_list = []\n    entity_list.append("BCL6")\n    entity_list.append("lymp', TEXT, ['protein']);
  t.deepEqual(code.entities, [BCL6]);
  t.deepEqual(kinds(code), ['truncated']);
});

test('labels in another case map to the canonical type; unknown types are dropped with a problem', (t) => {
  const r = parse('multi_triple', 'Answer:\nBCL6; is a; PROTEIN\nlymphocytes; is a; Cell Type\nBCL6; is a; gene\n');
  t.deepEqual(r.entities, [BCL6, LYMPHOCYTES]);
  t.deepEqual(r.problems, [{ kind: 'unknown-type', message: r.problems[0].message, item: 3 }]);
  t.false(r.problems[0].message.includes('gene'));
  const tag = parse('multi_tag', 'Answer: These results suggest that <Protein>BCL6</Protein> plays a role in activated <virus>lymphocytes</virus> as an immediate early gene.');
  t.deepEqual(tag.entities, [BCL6]);
  t.deepEqual(kinds(tag), ['unknown-type']);
});

test('duplicates: each item is one mention, taking successive occurrences of its text', (t) => {
  const text = 'IL-2 induces IL-2R; IL-2 binds.';
  const r = parse('single_term', 'Answer: ["IL-2", "IL-2", "IL-2", "IL-2"]', text, ['protein']);
  t.deepEqual(r.entities.slice(0, 3).map((e) => e.spans), [[[0, 4]], [[13, 17]], [[20, 24]]]);
  t.deepEqual(r.entities[3], { type: 'protein', spans: [], text: 'IL-2', grounded: false });
  t.deepEqual(r.problems, [{ kind: 'repeated', message: r.problems[0].message, item: 3 }]);
  // In multi_* formats an item is (type, text): the same text under two types is two mentions of one occurrence.
  const m = parse('multi_term', 'Answer: [{"text": "BCL6", "type": "protein"}, {"text": "BCL6", "type": "DNA"}]');
  t.deepEqual(m.entities.map((e) => [e.type, e.spans]), [['DNA', [[27, 31]]], ['protein', [[27, 31]]]]);
  t.deepEqual(m.problems, []);
});

test('grounding prefers an occurrence on word bounds, then takes one inside a word', (t) => {
  const text = 'It induced fever in mice.';
  const r = parse('single_term', 'Answer: ["in", "in"]', text, ['Disease']);
  t.deepEqual(r.entities.map((e) => e.spans), [[[3, 5]], [[17, 19]]]);
  t.deepEqual(parse('single_term', 'Answer: ["in"]', text, ['Disease']).entities[0].spans, [[17, 19]], 'the word "in", not "in" of "induced"');
  t.deepEqual(r.problems, []);
});

test('grounding: exact, then whitespace-insensitive, then word fragments; never invented', (t) => {
  const text = 'levels of IL - 2 and of left and right ventricle mass';
  const r = parse('single_term', 'Answer: ["IL-2", "left ventricle", "𝛼-actin"]', text, ['X']);
  t.deepEqual(r.entities, [
    makeEntity(text, 'X', [[10, 16]]),
    makeEntity(text, 'X', [[24, 28], [39, 48]]),
    { type: 'X', spans: [], text: '𝛼-actin', grounded: false },
  ]);
  t.deepEqual(r.problems, [{ kind: 'ungrounded', message: r.problems[0].message, item: 2 }]);
  t.is(r.entities[1].text, 'left ventricle');
});

test('grounding steps over characters beyond the BMP (regression: looped forever)', (t) => {
  const text = '𝛼 𝛼 𝛼';
  const r = parse('single_term', 'Answer: ["𝛼 ", "𝛼", "𝛼", "𝛼"]', text, ['X']);
  t.deepEqual(r.entities.filter((e) => e.grounded !== false).map((e) => e.spans[0][0]), [0, 3, 6]);
  t.deepEqual(kinds(r), ['repeated']);
});

test('span formats: offsets outside the text or with end <= start are problems', (t) => {
  const r = parse('multi_span', 'Answer: [{"span": [27, 31], "type": "protein"}, {"span": [90, 200], "type": "DNA"}, {"span": [5, 5], "type": "DNA"}, {"span": "x", "type": "DNA"}]');
  t.deepEqual(r.entities, [BCL6]);
  t.deepEqual(kinds(r), ['invalid-offsets', 'invalid-offsets', 'malformed-item']);
  t.deepEqual(r.problems.map((p) => p.item), [1, 2, 3]);
});

test('span and BRAT offsets count code points', (t) => {
  const text = '𝛼𝛼 and β-actin';
  const beta = makeEntity(text, 'protein', [[9, 16]]);
  t.is(getFormat('single_span').render(text, [beta], ['protein']), 'Answer: [[7, 14]]');
  t.deepEqual(parse('single_span', 'Answer: [[7, 14]]', text, ['protein']).entities, [beta]);
  t.is(getFormat('multi_brat').render(text, [beta], ['protein']), 'Answer:\nT1 protein 7 14 β-actin');
});

test('BRAT near misses take the found position and record the shift; farther ones are searched', (t) => {
  const text = 'In comparison , by day 24 , the majority of groups also treated with prednisolone displayed significantly less corneal clouding and neovascularization .';
  const r = parse('multi_brat', 'Answer:\nT1 Disorder 106 113 corneal\nT2 Disorder 20 27 neovascularization\n', text, ['Disorder']);
  const start = text.indexOf('corneal');
  t.is(start, 111);
  t.deepEqual(r.entities[0], makeEntity(text, 'Disorder', [[111, 118]]));
  t.deepEqual(r.problems[0], { kind: 'offset-shift', message: r.problems[0].message, item: 1, shift: [-5, -5] });
  t.deepEqual(r.entities[1].spans, [[text.indexOf('neovascularization'), text.indexOf('neovascularization') + 18]]);
  t.deepEqual(r.problems[1].kind, 'offset-mismatch');
  const far = parse('multi_brat', 'Answer:\nT1 Disorder 105 112 corneal', text, ['Disorder']);
  t.is(far.problems[0].kind, 'offset-mismatch');
  const disc = makeEntity('the left and right ventricle', 'A', [[4, 8], [19, 28]]);
  const d = parse('multi_brat', 'Answer:\nT1 A 2 6;17 26 left ventricle', 'the left and right ventricle', ['A']);
  t.deepEqual(d.entities, [disc]);
  t.deepEqual(d.problems.map((p) => [p.kind, p.shift]), [['offset-shift', [-2, -2]]]);
  // Offsets past the end are a problem, and still repaired when the text is near.
  const past = parse('multi_brat', 'Answer:\nT1 A 21 30 ventricle', 'the left and right ventricle', ['A']);
  t.deepEqual(past.entities.map((e) => e.spans), [[[19, 28]]]);
  t.deepEqual(past.problems.map((p) => [p.kind, p.shift]), [['invalid-offsets', undefined], ['offset-shift', [2, 2]]]);
});

test('multi_bio tokens split off punctuation except between letters or digits', (t) => {
  const text = 'c-fos and IL-2 (PHA) at 3.5 µM, 𝛼-actin gene.';
  const r = getFormat('multi_bio').render(text, [makeEntity(text, 'p', [[16, 19]])], ['p']);
  // 13 tokens: c-fos and IL-2 ( PHA ) at 3.5 µM , 𝛼-actin gene .
  t.is(r, 'Layer 1: O O O O B-p O O O O O O O O');
  t.false(getFormat('multi_bio').canRender(text, [makeEntity(text, 'p', [[0, 1]])]));
  t.throws(() => getFormat('multi_bio').render(text, [makeEntity(text, 'p', [[0, 1]])], ['p']), { message: /inside a token/ });
});

test('multi_bio layers greedily: nested, crossing and same-span entities go deeper', (t) => {
  const text = 'a b c d';
  const e = (s: number, end: number, type = 'X') => makeEntity(text, type, [[s, end]]);
  const answer = getFormat('multi_bio').render(text, [e(0, 5), e(2, 7), e(0, 5), e(6, 7, 'Y')], ['X', 'Y']);
  // Text order puts both a-c first: the second goes to layer 2, so b-d only fits in layer 3.
  t.is(answer, 'Layer 1: B-X I-X I-X B-Y\nLayer 2: B-X I-X I-X O\nLayer 3: O B-X I-X I-X');
  const r = getFormat('multi_bio').parse('Layer 1: I-x B-y O\nLayer 2: B-X I-X I-X I-X O', 'a b c', ['X', 'Y']);
  t.deepEqual(r.entities, [e(0, 5), e(0, 1), e(2, 3, 'Y')].map((x) => ({ ...x, text: 'a b c'.slice(x.spans[0][0], x.spans[0][1]) })));
  t.deepEqual(kinds(r), ['bio-sequence', 'label-count']);
  const bold = getFormat('multi_bio').parse('**Layer 1:** B-X O B-Y', 'a b c', ['X', 'Y']);
  t.deepEqual(bold, { entities: [e(0, 1), e(4, 5, 'Y')].map((x) => ({ ...x, text: 'a b c'.slice(x.spans[0][0], x.spans[0][1]) })), problems: [] });
});

test('render refuses what a format cannot express, naming no text; canRender agrees', (t) => {
  const text = 'left and right ventricle';
  const disc = [makeEntity(text, 'A', [[0, 4], [15, 24]])];
  for (const name of ['single_span', 'multi_span', 'multi_bio', 'single_tag', 'multi_tag']) {
    const f = getFormat(name);
    t.false(f.canRender(text, disc), name);
    const err = t.throws(() => f.render(text, disc, ['A']), { name: 'RenderError' }, name);
    t.regex(err!.message, /discontinuous/);
    t.false(err!.message.includes('ventricle'));
  }
  for (const name of ['multi_term', 'multi_brat', 'multi_triple', 'conv_term']) t.true(getFormat(name).canRender(text, disc), name);
  const crossing = [makeEntity(text, 'A', [[0, 8]]), makeEntity(text, 'A', [[5, 14]])];
  t.false(getFormat('multi_tag').canRender(text, crossing));
  t.true(getFormat('multi_bio').canRender(text, crossing));
  t.false(getFormat('single_tag').canRender('see #3', []));
  t.throws(() => getFormat('single_term').render(text, disc, ['A', 'B']), { message: /one type per prompt/ });
  t.throws(() => getFormat('multi_term').render(text, disc, ['B']), { message: /not among the types/ });
  t.false(getFormat('multi_term').canRender(text, [{ type: 'A', spans: [], text: 'x', grounded: false }]));
});

test('conv_term: a cut dialogue and extra answers are problems', (t) => {
  const cut = parse('conv_term', ['Answer: []', 'Answer: ["BCL6"]']);
  t.deepEqual(cut.entities, [BCL6]);
  t.deepEqual(cut.problems.map((p) => [p.kind, p.item]), [['turn-count', 2]]);
  const extra = parse('conv_term', ['Answer: ["BCL6"]', 'Answer: ["x"]'], TEXT, ['protein']);
  t.deepEqual(extra.entities, [BCL6]);
  t.deepEqual(kinds(extra), ['turn-count']);
  t.deepEqual(parse('conv_term', 'Answer: ["BCL6"]', TEXT, ['protein']), { entities: [BCL6], problems: [] });
});

test('tag formats: markdown escapes, stray markers and an altered text', (t) => {
  const r = parse('single_tag', 'Answer: These results suggest that BCL6 plays a role in @@activated @@lymphocytes\\#\\#\\#\\# as an immediate early gene.', TEXT, ['cell_type']);
  t.deepEqual(r, { entities: IN_TEXT_ORDER.slice(1), problems: [] });
  const stray = parse('single_tag', 'Answer: These results suggest that @@BCL6## plays## a role', TEXT, ['protein']);
  t.deepEqual(stray.entities, [BCL6]);
  t.deepEqual(kinds(stray), ['unbalanced-tags', 'truncated']);
  const altered = parse('multi_tag', 'Answer: Results suggest that <protein>BCL6</protein> plays a role.');
  t.deepEqual(altered.entities, [BCL6]);
  t.deepEqual(kinds(altered), ['text-altered']);
});
