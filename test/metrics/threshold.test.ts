import test from 'ava';
import fc from 'fast-check';
import { makeEntity } from '../../lib/formats/entity.ts';
import { chooseThreshold, keepConfident, prf, scoreDocuments, type ConfidentDocument, type GoldDocument } from '../../lib/metrics/index.ts';

const TEXT = 'Mutations in APC cause familial adenomatous polyposis and colorectal cancer in patients.';
const at = (word: string) => {
  const s = TEXT.indexOf(word);
  return makeEntity(TEXT, 'Disease', [[s, s + word.length]]);
};
const gold: GoldDocument[] = [{ id: 'd', text: TEXT, entities: [at('familial adenomatous polyposis'), at('colorectal cancer')] }];
const conf = (word: string, confidence: number) => ({ ...at(word), confidence });

test('the weak false positives go, the confident hits stay: the threshold is the lowest kept confidence', (t) => {
  const pred: ConfidentDocument[] = [{ id: 'd', entities: [conf('familial adenomatous polyposis', 0.9), conf('APC', 0.3), conf('colorectal cancer', 0.6), conf('patients', 0.2)] }];
  const c = chooseThreshold(gold, pred);
  t.is(c.minConfidence, 0.6);
  t.deepEqual(c.counts, { tp: 2, fp: 0, fn: 0 });
  t.deepEqual(c.unfiltered, { tp: 2, fp: 2, fn: 0 });
  t.is(c.candidates, 5);
  t.deepEqual(keepConfident(pred, c.minConfidence)[0].entities.map((e) => e.text), ['familial adenomatous polyposis', 'colorectal cancer']);
});

test('no gain on the calibration data: nothing is dropped (ties go to the lower threshold)', (t) => {
  // A hit less confident than a false positive: dropping the FP drops the hit too.
  const pred: ConfidentDocument[] = [{ id: 'd', entities: [conf('familial adenomatous polyposis', 0.2), conf('APC', 0.5), conf('colorectal cancer', 0.9)] }];
  const c = chooseThreshold(gold, pred);
  // keeping >= 0.5 gives tp 1 fp 1 fn 1 (F1 0.5) < all kept tp 2 fp 1 (0.8)
  t.is(c.minConfidence, 0);
  t.deepEqual(c.counts, c.unfiltered);
});

test('entities without a confidence are always kept', (t) => {
  const pred: ConfidentDocument[] = [{ id: 'd', entities: [at('APC'), conf('patients', 0.1), conf('colorectal cancer', 0.8)] }];
  const kept = keepConfident(pred, 0.5)[0].entities.map((e) => e.text);
  t.deepEqual(kept, ['APC', 'colorectal cancer']);
});

test('property: the chosen threshold scores at least as well on the calibration data as keeping everything, and as every other candidate', (t) => {
  const words = ['Mutations', 'APC', 'familial adenomatous polyposis', 'colorectal cancer', 'patients', 'cancer'];
  fc.assert(
    fc.property(fc.array(fc.record({ w: fc.constantFrom(...words), c: fc.integer({ min: 1, max: 20 }) }), { maxLength: 8 }), (items) => {
      const pred: ConfidentDocument[] = [{ id: 'd', entities: items.map(({ w, c }) => conf(w, c / 20)) }];
      const choice = chooseThreshold(gold, pred);
      const best = prf(choice.counts).f1;
      if (best < prf(scoreDocuments(gold, pred).counts).f1) return false;
      for (const { c } of items) if (prf(scoreDocuments(gold, keepConfident(pred, c / 20)).counts).f1 > best) return false;
      return true;
    }),
  );
  t.pass();
});
