/**
 * Random walks through every format's constraint on real vocabularies (stories260K's 512-token
 * SentencePiece, made Qwen2 152k and Llama-3 128k BPE models): every walk ends in an answer that
 * parses with zero problems, and every entity sits in the input where its text says.
 * MFNER_WALKS raises the number of walks per format, model and sentence (default 6).
 */
import test from 'ava';
import { createFormatConstraint, tokenTrie } from '../../lib/decode/index.ts';
import { getFormat } from '../../lib/formats/index.ts';
import { FORMAT_NAMES } from '../../lib/formats/types.ts';
import { SENTENCES, TYPES as TYPES_ALL, answerText, loadModels, randomWalk, rng, typesFor } from './helpers.ts';

const WALKS = Number(process.env.MFNER_WALKS ?? 6);
const models = loadModels();

test('the token trie holds every token with text and knows the end-of-generation tokens', async (t) => {
  for (const { name, model } of await models) {
    const info = tokenTrie(model).info();
    t.true(info.tokens > 0.9 * model.metadata.vocabularySize, name);
    t.true(info.eog.length >= 1, name);
    t.true(info.buildMs < 5000, name);
  }
});

for (const format of FORMAT_NAMES) {
  test(`${format}: random walks end in answers that parse with zero problems, entities grounded`, async (t) => {
    const parser = getFormat(format);
    let walks = 0;
    let entities = 0;
    for (const { name, model } of await models) {
      const eog = new Set(tokenTrie(model).info().eog);
      for (const [si, text] of SENTENCES.entries()) {
        for (let w = 0; w < WALKS; w++) {
          const types = typesFor(format, w);
          const c = createFormatConstraint(model, { format, text, types, maxEntities: 6 });
          const random = rng(1000 * si + w + 7);
          const tokens = randomWalk(c, eog, random, w % 2 === 0 ? 0.1 : 0.5);
          const answer = answerText(model, tokens);
          const parsed = format === 'conv_term' ? parser.parse([answer], text, types) : parser.parse(answer, text, types);
          const where = `${name}, sentence ${si}, walk ${w}`;
          t.deepEqual(parsed.problems, [], where);
          for (const e of parsed.entities) {
            t.not(e.grounded, false, where);
            t.true(e.spans.length > 0, where);
            for (const [s, end] of e.spans) t.true(s >= 0 && end > s && end <= text.length, where);
            t.is(e.spans.map(([s, end]) => text.slice(s, end)).join(' '), e.text, where);
            t.true(types.includes(e.type), where);
          }
          entities += parsed.entities.length;
          walks++;
        }
      }
    }
    t.log(`${walks} walks, ${entities} entities`);
    t.true(entities > 0);
  });
}

test('allowed() rejects a prefix that leaves the format, and EOG only where the answer may end', async (t) => {
  const { model } = (await models).find((m) => m.name === 'qwen2')!;
  const text = SENTENCES[0];
  const c = createFormatConstraint(model, { format: 'single_term', text, types: ['protein'] });
  const eog = new Set(tokenTrie(model).info().eog);
  const start = c.allowed(new Int32Array())!;
  t.false([...start].some((x) => eog.has(x)));
  t.is(c.allowed(model.tokenize('Answer: ["BCL7"]', { addSpecial: false })), null);
  const done = c.allowed(model.tokenize('Answer: ["BCL6"]', { addSpecial: false }))!;
  t.true(done.length > 0 && [...done].every((x) => eog.has(x)));
  const rep = c.allowed(model.tokenize('Answer: ["BCL6", "BCL6', { addSpecial: false }));
  t.truthy(rep);
  t.false([...rep!].some((x) => answerText(model, [x]).startsWith('"')), 'BCL6 occurs once: it cannot be closed twice');
});

test('item texts start and end at word bounds unless wordBounds is false', async (t) => {
  const { model } = (await models).find((m) => m.name === 'qwen2')!;
  const text = 'Loss of ATM in A - T patients and in sporadic T - PLL .';
  const prefix = 'Answer: [{"text": "';
  const accepts = (answer: string, wordBounds?: boolean) => {
    const c = createFormatConstraint(model, { format: 'multi_term', text, types: ['Disease'], wordBounds });
    return c.allowed(model.tokenize(answer, { addSpecial: false })) !== null;
  };
  // "A" is a word of its own ("A - T") and the first letter of "ATM": closing it is fine.
  t.true(accepts(`${prefix}A", "type": "Disease"}`));
  t.true(accepts(`${prefix}ATM", "type": "Disease"}`));
  t.true(accepts(`${prefix}sporadic T - PLL", "type": "Disease"}`));
  // Inside a word: "AT" (of ATM), "TM", "sporadic T - P", "oss".
  for (const inside of ['AT', 'TM', 'sporadic T - P', 'oss', 'PL']) {
    t.false(accepts(`${prefix}${inside}", "type": "Disease"}`), inside);
    t.true(accepts(`${prefix}${inside}", "type": "Disease"}`, false), `${inside} without word bounds`);
  }
  // The walk is never left without a way out: after "sporadic T - P" only "LL" may follow.
  const c = createFormatConstraint(model, { format: 'multi_term', text, types: ['Disease'] });
  const next = c.allowed(model.tokenize(`${prefix}sporadic T - P`, { addSpecial: false }))!;
  t.true(next.length > 0);
  t.true([...next].every((x) => 'LL'.startsWith(answerText(model, [x]))), 'only the rest of the word');
});

test('textOrder: each item starts after the previous one ends, at its first occurrence there', async (t) => {
  const { model } = (await models).find((m) => m.name === 'qwen2')!;
  const text = 'T - PLL and A - T : a T - PLL case .';
  const item = (x: string) => `{"text": "${x}", "type": "Disease"}`;
  const accepts = (items: string[], textOrder: boolean, close = true) => {
    const c = createFormatConstraint(model, { format: 'multi_term', text, types: ['Disease'], textOrder });
    return c.allowed(model.tokenize(`Answer: [${items.map(item).join(', ')}${close ? ']' : ''}`, { addSpecial: false })) !== null;
  };
  // In order, a repeated mention taking its second occurrence.
  t.true(accepts(['T - PLL', 'A - T', 'T - PLL'], true));
  // A repeat of the same mention with an extension, and an item before the previous one: refused.
  t.false(accepts(['A - T', 'A - T :'], true));
  t.false(accepts(['A - T', 'T - PLL', 'T - PLL'], true), 'T - PLL occurs once after A - T');
  t.false(accepts(['A - T', 'PLL and'], true));
  // Nor may it overlap the previous one (its tail: "- T").
  t.false(accepts(['A - T', '- T'], true));
  t.true(accepts(['A - T', '- T'], false));
  // Without it (the default) all of these are answers.
  t.true(accepts(['A - T', 'A - T :'], false));
  t.true(accepts(['A - T', 'PLL and'], false));
  // Never a dead end after the last mention, and nothing before it may follow.
  const c = createFormatConstraint(model, { format: 'multi_term', text, types: ['Disease'], textOrder: true });
  const tail = c.allowed(model.tokenize(`Answer: [${item('case')}`, { addSpecial: false }))!;
  t.true(tail.length > 0);
  t.false(accepts(['case', 'T - PLL'], true));
  t.true(accepts(['case'], true));
  // Random walks under the rule end in answers whose items can be found one after another.
  const parser = getFormat('multi_term');
  const eog = new Set(tokenTrie(model).info().eog);
  let items = 0;
  for (const [si, sentence] of SENTENCES.entries()) {
    for (let w = 0; w < 8; w++) {
      const walk = createFormatConstraint(model, { format: 'multi_term', text: sentence, types: TYPES_ALL, textOrder: true, maxEntities: 6 });
      const answer = answerText(model, randomWalk(walk, eog, rng(31 * si + w), 0.3));
      const parsed = parser.parse(answer, sentence, TYPES_ALL);
      t.deepEqual(parsed.problems, [], answer);
      const texts = (JSON.parse(answer.slice('Answer: '.length)) as { text: string }[]).map((x) => x.text);
      let from = 0;
      for (const x of texts) {
        const at = sentence.indexOf(x, from);
        t.true(at >= 0, `${x} after position ${from} in: ${answer}`);
        from = at + x.length;
        items++;
      }
    }
  }
  t.true(items > 10, `${items} items walked`);
});

test('alnumEdges: entities start and end with a letter or digit, in every format with texts or offsets', async (t) => {
  const { model } = (await models).find((m) => m.name === 'qwen2')!;
  const text = 'in T - cell leukaemia ( TCL ) . Loss of "ATM" .';
  const accepts = (answer: string, alnumEdges: boolean, format: 'multi_term' | 'multi_span' = 'multi_term') => {
    const c = createFormatConstraint(model, { format, text, types: ['Disease'], alnumEdges });
    return c.allowed(model.tokenize(answer, { addSpecial: false })) !== null;
  };
  const term = (x: string) => `Answer: [{"text": "${x}", "type": "Disease"}]`;
  t.true(accepts(term('T - cell leukaemia'), true));
  t.true(accepts(term('TCL'), true));
  for (const bad of ['- cell leukaemia (', 'leukaemia (', '( TCL )', '.', '\\"ATM\\"']) {
    // (the last is "ATM" with its quotes, JSON-escaped)
    t.false(accepts(term(bad), true), bad);
  }
  t.true(accepts(term('- cell leukaemia ('), false), 'off: any word-bounded text');
  t.true(accepts(term('.'), false), 'off: any word-bounded text');
  const span = (s: number, e: number) => `Answer: [{"span": [${s}, ${e}], "type": "Disease"}]`;
  const at = (x: string) => [text.indexOf(x), text.indexOf(x) + x.length] as const;
  t.true(accepts(span(...at('TCL')), true, 'multi_span'));
  t.false(accepts(span(...at('( TCL')), true, 'multi_span'));
  t.false(accepts(span(...at('TCL )')), true, 'multi_span'));
  t.true(accepts(span(...at('( TCL )')), false, 'multi_span'));
  // Random walks in every format the rule reaches end in answers whose entities have such edges;
  // a text with no letter or digit leaves only the empty answer (no dead end).
  const eog = new Set(tokenTrie(model).info().eog);
  const edged = /^[\p{L}\p{N}](?:.*[\p{L}\p{N}\p{M}])?$/su;
  let entities = 0;
  for (const format of ['multi_term', 'single_code', 'multi_triple', 'multi_span', 'single_span', 'multi_brat', 'single_tag', 'multi_tag'] as const) {
    const parser = getFormat(format);
    for (const [si, sentence] of [...SENTENCES, '( ) ; " . "'].entries()) {
      for (let w = 0; w < 6; w++) {
        const types = typesFor(format, w);
        const c = createFormatConstraint(model, { format, text: sentence, types, maxEntities: 6, alnumEdges: true, textOrder: w % 2 === 1 });
        const answer = answerText(model, randomWalk(c, eog, rng(53 * si + w), 0.3));
        const parsed = parser.parse(answer, sentence, types);
        const where = `${format} sentence ${si} walk ${w}`;
        t.deepEqual(parsed.problems, [], where);
        for (const e of parsed.entities) for (const [s, end] of e.spans) t.regex(sentence.slice(s, end), edged, where);
        if (si === SENTENCES.length) t.is(parsed.entities.length, 0, where);
        entities += parsed.entities.length;
      }
    }
  }
  t.true(entities > 20, `${entities} entities walked`);
});

for (const format of ['multi_term', 'single_code', 'multi_triple'] as const) {
  test(`${format}: walked item texts sit on word bounds`, async (t) => {
    const { model } = (await models).find((m) => m.name === 'qwen2')!;
    const parser = getFormat(format);
    const eog = new Set(tokenTrie(model).info().eog);
    const inWord = (s: string, i: number) => i > 0 && i < s.length && /[\p{L}\p{N}]/u.test(s[i - 1]) && /[\p{L}\p{N}]/u.test(s[i]);
    let entities = 0;
    for (const [si, text] of SENTENCES.entries()) {
      for (let w = 0; w < 12; w++) {
        const types = typesFor(format, w);
        const c = createFormatConstraint(model, { format, text, types, maxEntities: 6 });
        const answer = answerText(model, randomWalk(c, eog, rng(77 * si + w), 0.3));
        for (const e of parser.parse(answer, text, types).entities) {
          for (const [s, end] of e.spans) t.false(inWord(text, s) || inWord(text, end), `${format} sentence ${si} walk ${w}: [${s}, ${end}]`);
          entities++;
        }
      }
    }
    t.true(entities > 0);
  });
}
