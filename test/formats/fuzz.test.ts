/**
 * Thousands of damaged answers per format: parse never throws, never places an entity
 * outside the text, flags every ungrounded entity, and never quotes the text in a problem.
 */
import test from 'ava';
import fc from 'fast-check';
import { FORMAT_NAMES, getFormat, spanText } from '../../lib/formats/index.ts';
import { TYPES, sample } from './arbitraries.ts';

const RUNS = 2000;
const SECRET = 'Qzxjvk';

/** Edits that models and token limits make: cuts, insertions, deletions, case, repeats. */
const damage = fc.oneof(
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), s: fc.string({ maxLength: 6, unit: 'binary' }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), s: fc.constantFrom('"', "'", '[', ']', '{', '}', ',', '\n', '@@', '##', '</protein>', '<DNA>', 'B-DNA', 'I-protein', ';', '\\', '99999', ' T9 DNA 3 1 x') }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 5 }) }),
  fc.record({ kind: fc.constant('case' as const) }),
  fc.record({ kind: fc.constant('repeat' as const) }),
);

type Damage = typeof damage extends fc.Arbitrary<infer D> ? D : never;

function apply(answer: string, d: Damage): string {
  const at = 'at' in d ? d.at % (answer.length + 1) : 0;
  switch (d.kind) {
    case 'cut':
      return answer.slice(0, at);
    case 'insert':
      return answer.slice(0, at) + d.s + answer.slice(at);
    case 'delete':
      return answer.slice(0, at) + answer.slice(at + d.n);
    case 'case':
      return answer.toUpperCase();
    case 'repeat':
      return `${answer}\n${answer}`;
  }
}

for (const name of FORMAT_NAMES) {
  const format = getFormat(name);
  const perPrompt = format.capabilities.perType && !format.capabilities.multiTurn;
  const types = perPrompt ? [TYPES[0]] : [...TYPES];
  test(`${name}: ${RUNS} fuzzed answers parse safely`, (t) => {
    const input = fc.tuple(sample(format), fc.array(damage, { minLength: 1, maxLength: 4 }), fc.boolean());
    fc.assert(
      fc.property(input, ([doc, damages, secret]) => {
        const text = secret ? `${SECRET} ${doc.text}` : doc.text;
        const entities = secret ? [] : doc.entities;
        const rendered = format.render(text, entities, types);
        const answers = (Array.isArray(rendered) ? rendered : [rendered]).map((a) => damages.reduce(apply, a));
        if (secret) answers.push(`Answer: ["${SECRET}", "${SECRET}"] ${SECRET}; is a; ${SECRET}`);
        const result = format.parse(format.capabilities.multiTurn ? answers : answers.join('\n'), text, types);
        for (const e of result.entities) {
          if (e.grounded === false) {
            t.deepEqual(e.spans, []);
          } else {
            t.true(e.spans.length > 0);
            for (const [s, end] of e.spans) t.true(s >= 0 && end <= text.length && s < end);
            t.is(e.text, spanText(text, e.spans));
          }
          t.true((types as readonly string[]).includes(e.type));
        }
        const ungrounded = result.entities.filter((e) => e.grounded === false).length;
        t.true(result.problems.filter((p) => p.kind === 'ungrounded' || p.kind === 'repeated').length >= ungrounded);
        for (const p of result.problems) {
          t.false(p.message.includes(SECRET));
          t.false(p.message.toUpperCase().includes(SECRET.toUpperCase()));
        }
      }),
      { numRuns: RUNS },
    );
  });

  test(`${name}: arbitrary strings parse safely`, (t) => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200, unit: 'binary' }), fc.string({ maxLength: 60, unit: 'grapheme' }), (answer, text) => {
        const result = format.parse(format.capabilities.multiTurn ? [answer, answer] : answer, text, types);
        t.true(Array.isArray(result.entities) && Array.isArray(result.problems));
        for (const e of result.entities) for (const [s, end] of e.spans) t.true(s >= 0 && end <= text.length && s < end);
      }),
      { numRuns: 500 },
    );
  });
}
