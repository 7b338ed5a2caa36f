/**
 * parse(render(x)) gives x back. Formats that carry positions (tags, spans, BIO, BRAT) give
 * back exactly the same entities (type and spans). Formats that carry only texts (term,
 * code, triple, conv_term) cannot say which occurrence was meant, so they give back the same
 * multiset of (type, text) pairs, texts compared with whitespace removed: grounding is
 * whitespace-insensitive by design, so a grounded text (read from the input) may be spaced
 * differently from the predicted one, and the line formats write a line break as a space.
 */
import test from 'ava';
import fc from 'fast-check';
import type { Entity, Format, ParseResult } from '../../lib/formats/index.ts';
import { FORMAT_NAMES, getFormat, sortEntities } from '../../lib/formats/index.ts';
import { TYPES, anySample, sample } from './arbitraries.ts';

const POSITIONAL = new Set(['single_tag', 'multi_tag', 'single_span', 'multi_span', 'multi_bio', 'multi_brat']);
const RUNS = 250;

function roundTrip(format: Format, text: string, entities: Entity[]): ParseResult {
  if (format.capabilities.perType && !format.capabilities.multiTurn) {
    const results = TYPES.map((type) => format.parse(format.render(text, entities, [type]), text, [type]));
    return { entities: results.flatMap((r) => r.entities), problems: results.flatMap((r) => r.problems) };
  }
  return format.parse(format.render(text, entities, TYPES), text, TYPES);
}

const squash = (s: string) => s.replace(/\s+/gu, '');
const pairs = (list: readonly Entity[]) => list.map((e) => `${e.type}\u0000${squash(e.text)}`).sort();

for (const name of FORMAT_NAMES) {
  const format = getFormat(name);
  if (POSITIONAL.has(name)) {
    test(`${name}: parse(render(x)) gives back exactly the same entities`, (t) => {
      fc.assert(
        fc.property(sample(format), ({ text, entities }) => {
          const back = roundTrip(format, text, entities);
          t.deepEqual(back.problems, []);
          t.deepEqual(sortEntities(back.entities), sortEntities(entities));
        }),
        { numRuns: RUNS },
      );
    });
  } else {
    test(`${name}: parse(render(x)) gives back the same multiset of (type, text)`, (t) => {
      fc.assert(
        fc.property(sample(format), ({ text, entities }) => {
          const back = roundTrip(format, text, entities);
          t.deepEqual(pairs(back.entities), pairs(entities));
          const ungrounded = back.entities.filter((e) => e.grounded === false).length;
          const flagged = back.problems.filter((p) => p.kind === 'ungrounded' || p.kind === 'repeated').length;
          t.is(flagged, ungrounded);
          t.deepEqual(back.problems.filter((p) => p.kind !== 'ungrounded' && p.kind !== 'repeated'), []);
        }),
        { numRuns: RUNS },
      );
    });
  }
}

test('the generated samples exercise nesting, duplicates and discontinuity', (t) => {
  const stats = { nested: 0, discontinuous: 0, many: 0 };
  fc.assert(
    fc.property(sample(getFormat('multi_brat')), ({ entities }) => {
      if (entities.some((e) => e.spans.length > 1)) stats.discontinuous++;
      if (entities.length >= 3) stats.many++;
      const contains = (a: Entity, b: Entity) => a !== b && a.spans[0][0] <= b.spans[0][0] && b.spans.at(-1)![1] <= a.spans.at(-1)![1];
      if (entities.some((a) => entities.some((b) => contains(a, b)))) stats.nested++;
    }),
    { numRuns: 200 },
  );
  t.true(stats.nested > 20 && stats.discontinuous > 20 && stats.many > 20, JSON.stringify(stats));
});

test('canRender is true exactly when render succeeds (for every type, in single_* formats)', (t) => {
  const formats = FORMAT_NAMES.map((n) => getFormat(n));
  let refused = 0;
  fc.assert(
    fc.property(anySample, ({ text, entities }) => {
      for (const f of formats) {
        const prompts = f.capabilities.perType && !f.capabilities.multiTurn ? TYPES.map((x) => [x]) : [TYPES];
        let ok = true;
        try {
          for (const types of prompts) f.render(text, entities, types);
        } catch (err) {
          t.is((err as Error).name, 'RenderError');
          ok = false;
          refused++;
        }
        t.is(f.canRender(text, entities), ok, f.name);
      }
    }),
    { numRuns: 200 },
  );
  t.true(refused > 100);
});
