import test from 'ava';
import fc from 'fast-check';
import { makeEntity, type Entity } from '../../lib/formats/entity.ts';
import { prf, scoreDocuments, type GoldDocument, type MatchMode } from '../../lib/metrics/index.ts';

const TYPES = ['A', 'B', 'C'];

/** A text of short words and random entities (nested, overlapping, duplicated, discontinuous). */
const documentArb = fc
  .array(fc.constantFrom('p53', 'IL-2', 'cells', 'of', 'B', 'α', '𝛼-actin', 'gene', ','), { minLength: 1, maxLength: 12 })
  .chain((words) => {
    const text = words.join(' ');
    const spanArb = fc
      .tuple(fc.nat({ max: text.length - 1 }), fc.nat({ max: text.length - 1 }))
      .map(([a, b]) => [Math.min(a, b), Math.max(a, b) + 1] as [number, number]);
    const entityArb = fc
      .tuple(fc.constantFrom(...TYPES), fc.array(spanArb, { minLength: 1, maxLength: 2 }))
      .map(([type, spans]) => makeEntity(text, type, spans));
    return fc.record({ text: fc.constant(text), entities: fc.array(entityArb, { maxLength: 8 }) });
  });

const corpusArb = fc.array(documentArb, { minLength: 1, maxLength: 4 }).map((docs) =>
  docs.map((d, i): GoldDocument => ({ id: `doc${i}`, ...d })),
);
const modeArb = fc.constantFrom<MatchMode>('text', 'strict');

test('perfect predictions score 1.0 (or 0 when there is no gold at all)', (t) => {
  fc.assert(
    fc.property(corpusArb, modeArb, (gold, mode) => {
      const s = scoreDocuments(gold, gold.map((d) => ({ id: d.id, entities: d.entities })), mode);
      const total = gold.reduce((n, d) => n + d.entities.length, 0);
      const r = prf(s.counts);
      const expected = total === 0 ? 0 : 1;
      return r.precision === expected && r.recall === expected && r.f1 === expected && s.counts.tp === total;
    }),
  );
  t.pass();
});

test('removing a correct prediction never raises recall', (t) => {
  fc.assert(
    fc.property(corpusArb, modeArb, fc.nat(), fc.nat(), (gold, mode, pickDoc, pickEnt) => {
      const pred = gold.map((d) => ({ id: d.id, entities: [...d.entities] }));
      const withAll = prf(scoreDocuments(gold, pred, mode).counts).recall;
      const d = pred[pickDoc % pred.length];
      if (d.entities.length === 0) return true;
      d.entities.splice(pickEnt % d.entities.length, 1);
      const after = scoreDocuments(gold, pred, mode);
      return prf(after.counts).recall <= withAll && prf(after.counts).precision <= 1;
    }),
  );
  t.pass();
});

test('counts are consistent: tp + fn = gold size, tp + fp = prediction size, per type too', (t) => {
  fc.assert(
    fc.property(corpusArb, corpusArb, modeArb, (gold, other, mode) => {
      // predictions: other random entities re-attached to the gold documents' texts when they fit
      const pred = gold.map((d, i) => ({
        id: d.id,
        entities: (other[i]?.entities ?? [])
          .filter((e) => e.spans.every(([, end]) => end <= d.text.length))
          .map((e): Entity => makeEntity(d.text, e.type, e.spans)),
      }));
      const s = scoreDocuments(gold, pred, mode);
      const g = gold.reduce((n, d) => n + d.entities.length, 0);
      const p = pred.reduce((n, d) => n + d.entities.length, 0);
      const typeSum = Object.values(s.perType).reduce((a, c) => a + c.tp + c.fp + c.fn, 0);
      const subsetGold = s.complex.simple.gold + s.complex.nested.gold + s.complex.discontinuous.gold;
      return (
        s.counts.tp + s.counts.fn === g &&
        s.counts.tp + s.counts.fp === p &&
        typeSum === s.counts.tp + s.counts.fp + s.counts.fn &&
        subsetGold >= g // an entity both nested and discontinuous counts in both subsets
      );
    }),
  );
  t.pass();
});

test('text mode never scores below strict mode on grounded predictions', (t) => {
  fc.assert(
    fc.property(corpusArb, corpusArb, (gold, other) => {
      const pred = gold.map((d, i) => ({
        id: d.id,
        entities: (other[i]?.entities ?? [])
          .filter((e) => e.spans.every(([, end]) => end <= d.text.length))
          .map((e) => makeEntity(d.text, e.type, e.spans)),
      }));
      return scoreDocuments(gold, pred, 'text').counts.tp >= scoreDocuments(gold, pred, 'strict').counts.tp;
    }),
  );
  t.pass();
});
