import test from 'ava';
import { makeEntity, type Entity } from '../../lib/formats/entity.ts';
import {
  addAnswer,
  addEntities,
  emptyHealth,
  healthShares,
  nearMisses,
  pairedBootstrap,
  quantile,
  repairedShifts,
  summarizeDraws,
} from '../../lib/metrics/index.ts';

test('mean and sample standard deviation over draws', (t) => {
  const s = summarizeDraws([0.7, 0.8, 0.9]);
  t.is(s.n, 3);
  t.true(Math.abs(s.mean - 0.8) < 1e-12);
  t.true(Math.abs((s.std ?? NaN) - 0.1) < 1e-12); // sqrt((0.01 + 0 + 0.01) / 2)
  t.deepEqual(summarizeDraws([0.5]), { mean: 0.5, std: null, n: 1 });
  t.throws(() => summarizeDraws([]));
});

test('span shifts: the paper\'s Listing 4 case and the closest-first pairing', (t) => {
  // Listing 4 (first example): reference "corneal" at 111:118, candidate "less co" at 106:113.
  const text =
    'In comparison , by day 24 , the majority of groups also treated with prednisolone displayed significantly less corneal clouding and neovascularization .';
  t.is(text.slice(111, 118), 'corneal');
  const gold = [makeEntity(text, 'Disease', [[111, 118]])];
  t.deepEqual(nearMisses(text, gold, [makeEntity(text, 'Disease', [[106, 113]])]), [{ start: -5, end: -5 }]);
  // 6 characters away is not a near miss; another type is not either; an exact hit is not a miss.
  t.deepEqual(nearMisses(text, gold, [makeEntity(text, 'Disease', [[105, 112]])]), []);
  t.deepEqual(nearMisses(text, gold, [makeEntity(text, 'Chemical', [[110, 118]])]), []);
  t.deepEqual(nearMisses(text, gold, [gold[0]]), []);
  // two candidates for one gold mention: only the closer one pairs
  const two = [makeEntity(text, 'Disease', [[108, 118]]), makeEntity(text, 'Disease', [[112, 118]])];
  t.deepEqual(nearMisses(text, gold, two), [{ start: 1, end: 0 }]);
});

test('span shifts count code points, as answers do', (t) => {
  const text = '𝛼 x corneal';
  const gold = [makeEntity(text, 'D', [[5, 12]])];
  // JS indices differ by 3, but the astral 𝛼 lies outside the span: still 3 code points
  t.deepEqual(nearMisses(text, gold, [makeEntity(text, 'D', [[2, 9]])]), [{ start: -3, end: -3 }]);
  // a shift across the astral character: JS 5 → 0 is 5 units but 4 code points
  t.deepEqual(nearMisses(text, gold, [makeEntity(text, 'D', [[0, 11]])]), [{ start: -4, end: -1 }]);
});

test('repaired shifts come from parser problems', (t) => {
  const h = repairedShifts([
    { kind: 'offset-shift', message: 'm', shift: [-2, -2] },
    { kind: 'offset-shift', message: 'm', shift: [-2, -1] },
    { kind: 'unknown-type', message: 'm' },
  ]);
  t.deepEqual(h, { pairs: 2, start: { '-2': 2 }, end: { '-2': 1, '-1': 1 } });
});

test('answer health shares', (t) => {
  const h = emptyHealth();
  addAnswer(h, []);
  addAnswer(h, [{ kind: 'ungrounded', message: 'm' }, { kind: 'ungrounded', message: 'm' }]);
  addAnswer(h, [{ kind: 'cut', message: 'm' }]);
  addAnswer(h, []);
  const grounded = makeEntity('ab', 'X', [[0, 1]]);
  const lost: Entity = { type: 'X', spans: [], text: 'zz', grounded: false };
  addEntities(h, [grounded, grounded, grounded, lost]);
  t.deepEqual(h, { answers: 4, answersWithProblems: 2, entities: 4, ungrounded: 1, problemKinds: { ungrounded: 2, cut: 1 } });
  t.deepEqual(healthShares(h), { problemShare: 0.5, ungroundedShare: 0.25 });
  t.deepEqual(healthShares(emptyHealth()), { problemShare: 0, ungroundedShare: 0 });
});

test('quantile interpolates between order statistics', (t) => {
  t.is(quantile([1, 2, 3, 4, 5], 0.5), 3);
  t.is(quantile([1, 2, 3, 4], 0.5), 2.5);
  t.is(quantile([0, 10], 0.25), 2.5);
});

test('paired bootstrap: seeded, reproducible, and decisive when A is clearly better', (t) => {
  const units = Array.from({ length: 60 }, (_, i) => ({
    a: { tp: 5, fp: i % 5 === 0 ? 1 : 0, fn: 0 },
    b: { tp: 3, fp: 2, fn: 2 },
  }));
  const r = pairedBootstrap(units, { iterations: 500, seed: 7 });
  t.deepEqual(pairedBootstrap(units, { iterations: 500, seed: 7 }), r);
  t.true(r.f1A > r.f1B);
  t.is(r.delta, r.f1A - r.f1B);
  t.true(r.ci[0] > 0 && r.ci[0] <= r.delta && r.delta <= r.ci[1]);
  t.is(r.pValue, 1 / 501); // no resample where A does not beat B
});

test('paired bootstrap: identical formats give delta 0 and p = 1', (t) => {
  const units = Array.from({ length: 30 }, (_, i) => {
    const c = { tp: i % 4, fp: i % 3, fn: i % 2 };
    return { a: c, b: c };
  });
  const r = pairedBootstrap(units, { iterations: 200, seed: 1 });
  t.is(r.delta, 0);
  t.deepEqual(r.ci, [0, 0]);
  t.is(r.pValue, 1);
});

test('paired bootstrap: a noisy tie is not called significant', (t) => {
  // A and B swap wins document by document: no real difference
  const units = Array.from({ length: 40 }, (_, i) =>
    i % 2 === 0 ? { a: { tp: 3, fp: 0, fn: 1 }, b: { tp: 2, fp: 1, fn: 2 } } : { a: { tp: 2, fp: 1, fn: 2 }, b: { tp: 3, fp: 0, fn: 1 } },
  );
  const r = pairedBootstrap(units, { iterations: 400, seed: 3 });
  t.true(Math.abs(r.delta) < 1e-12);
  t.true(r.ci[0] < 0 && r.ci[1] > 0);
  t.true(r.pValue > 0.2);
  t.throws(() => pairedBootstrap([], {}));
});
