/**
 * Issue 15, item 7: no parsed span may start or end between the two halves of a surrogate
 * pair, whatever lone surrogates the answer holds (a `\ud835` escape, a pair cut by a token
 * limit or by a damaged answer). Texts hold astral characters (emoji, mathematical letters)
 * and sometimes lone surrogates of their own; boundaries are checked against `Array.from`,
 * independently of the library's helpers.
 */
import test from 'ava';
import fc from 'fast-check';
import { FORMAT_NAMES, getFormat, spanText, type Entity, type Format, type FormatName } from '../../lib/formats/index.ts';
import { TYPES } from './arbitraries.ts';

const RUNS = 1500;

const ASTRAL_WORDS = ['𝛼', '𝛼-actin', '😀', '👍🏽', 'IL-𝛽2', 'a𝛼b', '𝛼𝛼', '𝒜', '🧬DNA', '患者', 'cells', 'of', 'T', '(', ')', ',', 'p53'];
const LONE = ['\uD835', '\uDEFC', '\uD83D', '\uDE00'];
const SEPARATORS = [' ', ' ', ' ', '', '  ', '\n'];

/** Texts with astral characters in most words; one in ten also holds a lone surrogate. */
const astralText: fc.Arbitrary<string> = fc
  .array(
    fc.tuple(
      fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...ASTRAL_WORDS) }, { weight: 1, arbitrary: fc.constantFrom(...LONE) }),
      fc.constantFrom(...SEPARATORS),
    ),
    { minLength: 1, maxLength: 14 },
  )
  .map((parts) => parts.map(([w, s]) => w + s).join('').trim())
  .filter((t) => t.length > 0);

/** JS indices that are code-point boundaries, computed from `Array.from` (code points, lone surrogates alone). */
function boundaries(text: string): Set<number> {
  const out = new Set<number>([0]);
  let at = 0;
  for (const ch of Array.from(text)) out.add((at += ch.length));
  return out;
}

function typesFor(format: Format): string[] {
  return format.capabilities.perType && !format.capabilities.multiTurn ? [TYPES[0]] : [...TYPES];
}

/** Writes `piece` (any code units, lone surrogates included) as an item of the format's answer. */
function answerWith(name: FormatName, piece: string, text: string, cut: [number, number], escaped: boolean): string | string[] {
  const str = escaped ? JSON.stringify(piece) : `"${piece.replace(/["\\]/gu, '\\$&')}"`;
  const [a, b] = cut;
  const type = TYPES[0];
  switch (name) {
    case 'single_term':
      return `Answer: [${str}]`;
    case 'conv_term':
      return TYPES.map(() => `Answer: [${str}, ${str}]`);
    case 'multi_term':
      return `Answer: [{"text": ${str}, "type": "${type}"}]`;
    case 'single_code':
      return `Answer:\n\`\`\`python\n    entity_list.append(${str})\n\`\`\``;
    case 'multi_code':
      return `Answer:\n\`\`\`python\n    entity_list.append({"text": ${str}, "type": "${type}"})\n\`\`\``;
    case 'multi_triple':
      return `Answer:\n${piece}; is a; ${type}\n`;
    case 'single_tag':
      return `Answer: ${text.slice(0, a)}@@${text.slice(a, b)}##${text.slice(b)}`;
    case 'multi_tag':
      return `Answer: ${text.slice(0, a)}<${type}>${text.slice(a, b)}</${type}>${text.slice(b)}`;
    case 'multi_brat':
      return `Answer:\nT1 ${type} ${a} ${b} ${piece}\n`;
    // Offsets are code points, so these cannot split a pair; checked all the same.
    case 'single_span':
      return `Answer: [[${a}, ${b}]]`;
    case 'multi_span':
      return `Answer: [{"span": [${a}, ${b}], "type": "${type}"}]`;
    case 'multi_bio':
      return `Layer 1: ${['O', `B-${type}`, `I-${type}`].slice(a % 2).join(' ')} O O O O O O O O O O O O O O`;
  }
}

/** A piece of the text cut at arbitrary code units (so often half a pair), or a lone surrogate. */
const pieceOf = (text: string) =>
  fc.oneof(
    fc.tuple(fc.nat(text.length), fc.nat(text.length)).map(([x, y]) => {
      const [a, b] = x <= y ? [x, y] : [y, x];
      return { piece: text.slice(a, Math.max(b, a + 1)), cut: [a, Math.max(b, a + 1)] as [number, number] };
    }),
    fc.tuple(fc.constantFrom(...LONE), fc.nat(text.length), fc.nat(text.length)).map(([s, x, y]) => ({
      piece: s,
      cut: [Math.min(x, y), Math.max(x, y, Math.min(x, y) + 1)] as [number, number],
    })),
  );

const damage = fc.oneof(
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), s: fc.constantFrom(...LONE) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
);

function damaged(answer: string, d: { kind: 'insert' | 'delete' | 'cut'; at: number; s?: string }): string {
  const at = d.at % (answer.length + 1);
  if (d.kind === 'insert') return answer.slice(0, at) + d.s + answer.slice(at);
  if (d.kind === 'delete') return answer.slice(0, at) + answer.slice(at + 1);
  return answer.slice(0, at);
}

/** Checks every grounded span; returns how many entities were grounded. */
function checkEntities(t: { true(v: boolean, m?: string): void; is(a: unknown, b: unknown): void }, text: string, entities: readonly Entity[]): number {
  const ok = boundaries(text);
  let grounded = 0;
  for (const e of entities) {
    if (e.grounded === false) continue;
    grounded++;
    for (const [s, end] of e.spans) {
      t.true(ok.has(s) && ok.has(end), `span ${s}-${end} splits a surrogate pair of ${JSON.stringify(text)}`);
    }
    t.is(e.text, spanText(text, e.spans));
  }
  return grounded;
}

/** Gold over whole code points (token boundaries of the astral text), for rendered answers. */
function goldOn(text: string, picks: readonly [number, number][]): Entity[] {
  const tokens = [...text.matchAll(/\S+/gu)].map((m) => [m.index!, m.index! + m[0].length] as [number, number]);
  if (tokens.length === 0) return [];
  return picks.map(([k, type]) => {
    const [s, e] = tokens[k % tokens.length];
    return { type: TYPES[type % TYPES.length], spans: [[s, e]], text: text.slice(s, e) };
  });
}

for (const name of FORMAT_NAMES) {
  const format = getFormat(name);
  const types = typesFor(format);
  const parse = (answer: string | string[], text: string) =>
    format.parse(format.capabilities.multiTurn ? ([] as string[]).concat(answer) : ([] as string[]).concat(answer).join('\n'), text, types);

  test(`${name}: answers with lone surrogates or halves of pairs never ground inside a pair`, (t) => {
    let grounded = 0;
    fc.assert(
      fc.property(
        astralText.chain((tx) => fc.tuple(fc.constant(tx), pieceOf(tx), fc.boolean())),
        ([tx, { piece, cut }, escaped]) => {
          const result = parse(answerWith(name, piece, tx, cut, escaped), tx);
          grounded += checkEntities(t, tx, result.entities);
        },
      ),
      { numRuns: RUNS },
    );
    // The property is only worth something if answers do get grounded.
    t.true(grounded > 0, 'no answer was grounded at all');
  });

  test(`${name}: rendered answers damaged at code-unit positions never ground inside a pair`, (t) => {
    let grounded = 0;
    fc.assert(
      fc.property(
        astralText,
        fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 4 }),
        fc.array(damage, { minLength: 1, maxLength: 3 }),
        (tx, picks, damages) => {
          const gold = goldOn(tx, picks);
          if (!format.canRender(tx, gold)) return;
          const rendered = format.render(tx, gold, types);
          const answers = (Array.isArray(rendered) ? rendered : [rendered]).map((a) => damages.reduce(damaged, a));
          grounded += checkEntities(t, tx, parse(answers, tx).entities);
        },
      ),
      { numRuns: RUNS },
    );
    t.true(grounded > 0, 'no answer was grounded at all');
  });
}

// The issue's cases, pinned: each grounded a span on one half of 𝛼 (U+1D6FC = D835 DEFC) before.
const TEXT = 'the 𝛼 chain and 😀 here';
const PINNED: Array<[FormatName, string | string[]]> = [
  ['single_term', 'Answer: ["\\ud835"]'],
  ['multi_term', 'Answer: [{"text": "\\udefc", "type": "protein"}]'],
  ['multi_code', 'Answer:\n    entity_list.append({"text": "\uD835", "type": "protein"})'],
  ['multi_triple', 'Answer:\n\uDE00; is a; protein\n'],
  ['conv_term', ['Answer: ["\uD83D"]', 'Answer: []', 'Answer: []', 'Answer: []']],
  ['single_code', 'Answer:\n    entity_list.append("chain \\ud83d")'],
];

for (const [name, answer] of PINNED) {
  test(`${name}: a lone surrogate in the answer is not grounded (pinned)`, (t) => {
    const format = getFormat(name);
    const types = typesFor(format);
    const result = format.parse(format.capabilities.multiTurn ? answer : String(answer), TEXT, types);
    t.is(result.entities.length, 1);
    t.is(result.entities[0].grounded, false);
    t.deepEqual(result.entities[0].spans, []);
    t.true(result.problems.some((p) => p.kind === 'ungrounded'));
  });
}

test('single_tag and multi_tag: a marker inside a pair widens the mention to the whole character, with a problem', (t) => {
  const at = TEXT.indexOf('𝛼');
  const inside = `${TEXT.slice(0, at + 1)}@@${TEXT.slice(at + 1, at + 2)}##${TEXT.slice(at + 2)}`;
  const single = getFormat('single_tag').parse(`Answer: ${inside}`, TEXT, ['protein']);
  t.deepEqual(single.entities.map((e) => e.spans), [[[at, at + 2]]]);
  t.is(single.entities[0].text, '𝛼');
  t.true(single.problems.some((p) => p.kind === 'malformed-item'));
  const tagged = `${TEXT.slice(0, at)}<protein>${TEXT.slice(at, at + 1)}</protein>${TEXT.slice(at + 1)}`;
  const multi = getFormat('multi_tag').parse(`Answer: ${tagged}`, TEXT, ['protein']);
  t.deepEqual(multi.entities.map((e) => e.spans), [[[at, at + 2]]]);
  t.true(multi.problems.some((p) => p.kind === 'malformed-item'));
});

test('a lone surrogate of the input itself is still found (it is a code point of its own)', (t) => {
  const text = 'x \uD835 y 𝛼';
  const result = getFormat('single_term').parse('Answer: ["\\ud835"]', text, ['protein']);
  t.deepEqual(result.entities.map((e) => e.spans), [[[2, 3]]]);
});
