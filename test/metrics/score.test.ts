import test from 'ava';
import { makeEntity, type Entity } from '../../lib/formats/entity.ts';
import { prf, scoreDocuments, matchDocument, type GoldDocument } from '../../lib/metrics/index.ts';

const TEXT = 'These results suggest that BCL6 plays a role in activated lymphocytes as an immediate early gene.';
const bcl6 = makeEntity(TEXT, 'protein', [[27, 31]]);
const activated = makeEntity(TEXT, 'cell_type', [[48, 69]]);
const lymphocytes = makeEntity(TEXT, 'cell_type', [[58, 69]]);
const gold: GoldDocument[] = [{ id: 'd1', text: TEXT, entities: [bcl6, activated, lymphocytes] }];
const ungrounded = (type: string, text: string): Entity => ({ type, spans: [], text, grounded: false });

test('empty gold and empty predictions: 0/0 is 0, nothing counted', (t) => {
  const s = scoreDocuments([{ id: 'e', text: 'nothing here', entities: [] }], [{ id: 'e', entities: [] }]);
  t.deepEqual(s.counts, { tp: 0, fp: 0, fn: 0 });
  t.deepEqual(prf(s.counts), { precision: 0, recall: 0, f1: 0 });
});

test('empty predictions: every gold entity is a false negative; a missing document counts as empty', (t) => {
  const s = scoreDocuments(gold, []);
  t.deepEqual(s.counts, { tp: 0, fp: 0, fn: 3 });
  t.deepEqual(s.perType, { cell_type: { tp: 0, fp: 0, fn: 2 }, protein: { tp: 0, fp: 0, fn: 1 } });
});

test('empty gold: every prediction is a false positive', (t) => {
  const s = scoreDocuments([{ id: 'd1', text: TEXT, entities: [] }], [{ id: 'd1', entities: [bcl6] }]);
  t.deepEqual(s.counts, { tp: 0, fp: 1, fn: 0 });
  t.deepEqual(prf(s.counts), { precision: 0, recall: 0, f1: 0 });
});

test('hand-computed mix: one hit, one wrong type, one overlap, one miss', (t) => {
  // BCL6 right; "activated lymphocytes" predicted as protein (wrong type: fp + fn);
  // "lymphocytes as" overlaps gold but is a different mention (fp); gold "lymphocytes" missed.
  const pred = [bcl6, { ...activated, type: 'protein' }, makeEntity(TEXT, 'cell_type', [[58, 72]])];
  for (const mode of ['text', 'strict'] as const) {
    const s = scoreDocuments(gold, [{ id: 'd1', entities: pred }], mode);
    t.deepEqual(s.counts, { tp: 1, fp: 2, fn: 2 }, mode);
    t.deepEqual(s.perType, { cell_type: { tp: 0, fp: 1, fn: 2 }, protein: { tp: 1, fp: 1, fn: 0 } }, mode);
    const r = prf(s.counts);
    t.is(r.precision, 1 / 3);
    t.is(r.recall, 1 / 3);
    t.is(r.f1, 1 / 3);
  }
});

test('duplicates count on both sides of the multiset', (t) => {
  const text = 'IL-2 and IL-2 and IL-2';
  const g = [makeEntity(text, 'protein', [[0, 4]]), makeEntity(text, 'protein', [[9, 13]])];
  const docs = [{ id: 'x', text, entities: g }];
  // three predictions of a text that has two gold mentions: 2 tp, 1 fp
  const three = [ungrounded('protein', 'IL-2'), ungrounded('protein', 'IL-2'), ungrounded('protein', 'IL-2')];
  t.deepEqual(scoreDocuments(docs, [{ id: 'x', entities: three }], 'text').counts, { tp: 2, fp: 1, fn: 0 });
  // one prediction: 1 tp, 1 fn
  t.deepEqual(scoreDocuments(docs, [{ id: 'x', entities: three.slice(0, 1) }], 'text').counts, { tp: 1, fp: 0, fn: 1 });
  // strict: the same span twice is one hit and one false positive
  const twice = [g[0], g[0]];
  t.deepEqual(scoreDocuments(docs, [{ id: 'x', entities: twice }], 'strict').counts, { tp: 1, fp: 1, fn: 1 });
});

test('text mode collapses whitespace and trims, keeps case; strict needs spans', (t) => {
  const s = scoreDocuments(gold, [
    { id: 'd1', entities: [ungrounded('cell_type', '  activated \n lymphocytes '), ungrounded('protein', 'bcl6')] },
  ]);
  t.deepEqual(s.counts, { tp: 1, fp: 1, fn: 2 });
  const strict = scoreDocuments(gold, [{ id: 'd1', entities: [ungrounded('protein', 'BCL6')] }], 'strict');
  t.deepEqual(strict.counts, { tp: 0, fp: 1, fn: 3 });
});

test('strict mode: same text at another position is wrong; text mode accepts it', (t) => {
  const text = 'p53 binds p53';
  const docs = [{ id: 'x', text, entities: [makeEntity(text, 'protein', [[10, 13]])] }];
  const pred = [{ id: 'x', entities: [makeEntity(text, 'protein', [[0, 3]])] }];
  t.deepEqual(scoreDocuments(docs, pred, 'strict').counts, { tp: 0, fp: 1, fn: 1 });
  t.deepEqual(scoreDocuments(docs, pred, 'text').counts, { tp: 1, fp: 0, fn: 0 });
});

test('nested recall: flags computed when absent, reported beside simple recall', (t) => {
  // "activated lymphocytes" ⊃ "lymphocytes": both nested; BCL6 simple.
  const s = scoreDocuments(gold, [{ id: 'd1', entities: [bcl6, lymphocytes] }]);
  t.deepEqual(s.complex, {
    nested: { gold: 2, found: 1 },
    discontinuous: { gold: 0, found: 0 },
    simple: { gold: 1, found: 1 },
  });
});

test('identical extents with different types are not nesting', (t) => {
  const text = 'IL-2 gene';
  const docs = [{ id: 'x', text, entities: [makeEntity(text, 'DNA', [[0, 9]]), makeEntity(text, 'protein', [[0, 9]])] }];
  t.deepEqual(scoreDocuments(docs, []).complex.simple, { gold: 2, found: 0 });
});

test('discontinuous: recall on the gold subset; strict needs every fragment', (t) => {
  const text = 'left and right ventricle';
  const disc = makeEntity(text, 'Anatomy', [[0, 4], [15, 24]]); // "left ventricle"
  const cont = makeEntity(text, 'Anatomy', [[9, 24]]); // "right ventricle"
  const docs = [{ id: 'x', text, entities: [disc, cont] }];
  t.is(disc.text, 'left ventricle');
  const byText = scoreDocuments(docs, [{ id: 'x', entities: [ungrounded('Anatomy', 'left ventricle')] }]);
  t.deepEqual(byText.complex.discontinuous, { gold: 1, found: 1 });
  // "left ventricle" and "right ventricle" share "ventricle" but neither character set contains
  // the other, so "right ventricle" is simple.
  t.deepEqual(byText.complex.simple, { gold: 1, found: 0 });
  const oneFragment = scoreDocuments(docs, [{ id: 'x', entities: [makeEntity(text, 'Anatomy', [[15, 24]])] }], 'strict');
  t.deepEqual(oneFragment.complex.discontinuous, { gold: 1, found: 0 });
  t.deepEqual(oneFragment.counts, { tp: 0, fp: 1, fn: 2 });
});

test('corpus flags win over recomputation', (t) => {
  const docs = [{ id: 'd1', text: TEXT, entities: [{ ...bcl6, nested: true, discontinuous: false }] }];
  t.deepEqual(scoreDocuments(docs, []).complex.nested, { gold: 1, found: 0 });
});

test('text mode pairs grounded predictions with the gold mention at their own spans first', (t) => {
  // Same type and text twice, one nested inside a longer entity; the prediction at the nested
  // position must credit the nested one.
  const text = 'B cells and human B cells';
  const outer = makeEntity(text, 'cell_type', [[12, 25]]);
  const plain = makeEntity(text, 'cell_type', [[0, 7]]);
  const inner = makeEntity(text, 'cell_type', [[18, 25]]);
  const m = matchDocument([plain, outer, inner], [inner], 'text');
  t.deepEqual(m.goldMatched, [false, false, true]);
  const s = scoreDocuments([{ id: 'x', text, entities: [plain, outer, inner] }], [{ id: 'x', entities: [inner] }]);
  t.deepEqual(s.complex.nested, { gold: 2, found: 1 });
  t.deepEqual(s.complex.simple, { gold: 1, found: 0 });
});

test('unknown prediction ids and duplicate ids are errors naming the id only', (t) => {
  t.throws(() => scoreDocuments(gold, [{ id: 'nope', entities: [] }]), { message: /"nope".*not in the gold/ });
  t.throws(() => scoreDocuments(gold, [{ id: 'd1', entities: [] }, { id: 'd1', entities: [] }]), { message: /two predictions/ });
});

test('per-document counts sum to the micro counts', (t) => {
  const text2 = 'no entities';
  const s = scoreDocuments(
    [...gold, { id: 'd2', text: text2, entities: [] }],
    [{ id: 'd1', entities: [bcl6] }, { id: 'd2', entities: [ungrounded('protein', 'x')] }],
  );
  t.deepEqual(s.documents, [{ id: 'd1', tp: 1, fp: 0, fn: 2 }, { id: 'd2', tp: 0, fp: 1, fn: 0 }]);
  t.deepEqual(s.counts, { tp: 1, fp: 1, fn: 2 });
});
