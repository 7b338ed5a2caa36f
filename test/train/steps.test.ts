/**
 * How an epoch is cut into optimizer steps (trainer.ts epochSteps): every usable example once per
 * epoch, steps of one group when the examples carry groups, and the ungrouped cut unchanged.
 */
import test from 'ava';
import fc from 'fast-check';
import { epochSteps } from '../../lib/train/trainer.ts';

const caseArb = fc.record({
  groups: fc.array(fc.option(fc.constantFrom('a', 'b', 'c'), { nil: undefined }), { minLength: 1, maxLength: 60 }),
  perStep: fc.integer({ min: 1, max: 9 }),
  seed: fc.nat(),
  dropEvery: fc.integer({ min: 2, max: 7 }),
});

test('each usable example once per epoch; every step holds one group and at most perStep examples', (t) => {
  fc.assert(
    fc.property(caseArb, ({ groups, perStep, seed, dropEvery }) => {
      const usable = groups.map((_, i) => i).filter((i) => i % dropEvery !== 0 || groups.length === 1);
      if (usable.length === 0) return true;
      const steps = epochSteps(groups, usable, perStep, seed);
      const seen = steps.flat().sort((x, y) => x - y);
      if (JSON.stringify(seen) !== JSON.stringify([...usable].sort((x, y) => x - y))) return false;
      if (!steps.every((s) => s.length >= 1 && s.length <= perStep && s.every((i) => groups[i] === groups[s[0]]))) return false;
      // The step count depends on the group sizes only, so it is the same in every epoch.
      const sizes = new Map<string | undefined, number>();
      for (const i of usable) sizes.set(groups[i], (sizes.get(groups[i]) ?? 0) + 1);
      const expected = [...sizes.values()].reduce((n, size) => n + Math.ceil(size / perStep), 0);
      return steps.length === expected && epochSteps(groups, usable, perStep, seed + 1).length === expected;
    }),
  );
  t.pass();
});

test('one group: the shuffled order cut in consecutive steps (the ungrouped behaviour)', (t) => {
  const usable = Array.from({ length: 23 }, (_, i) => i);
  const none = epochSteps(usable.map(() => undefined), usable, 4, 7);
  const one = epochSteps(usable.map(() => 'x'), usable, 4, 7);
  t.deepEqual(one, none);
  t.deepEqual(none.map((s) => s.length), [4, 4, 4, 4, 4, 3]);
  t.notDeepEqual(none.flat(), usable, 'shuffled');
  t.deepEqual(epochSteps(usable.map(() => undefined), usable, 4, 7), none, 'seeded');
  t.notDeepEqual(epochSteps(usable.map(() => undefined), usable, 4, 8), none);
});

test('several groups interleave over the epoch instead of running one after another', (t) => {
  const groups = Array.from({ length: 400 }, (_, i) => (i < 200 ? 'ncbi' : 'bc5cdr'));
  const usable = groups.map((_, i) => i);
  const steps = epochSteps(groups, usable, 8, 3);
  const firstHalf = steps.slice(0, steps.length / 2).map((s) => groups[s[0]]);
  t.true(firstHalf.includes('ncbi') && firstHalf.includes('bc5cdr'));
});
