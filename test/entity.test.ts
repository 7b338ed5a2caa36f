import test from 'ava';
import fc from 'fast-check';
import {
  OffsetMap,
  compareEntities,
  makeEntity,
  normalizeSpans,
  sortEntities,
} from '../lib/formats/entity.ts';

test('fragments separated by whitespace or touching merge; others stay discontinuous', (t) => {
  const text = 'left  and right ventricle';
  t.deepEqual(normalizeSpans(text, [[10, 15], [0, 4]]), [[0, 4], [10, 15]]);
  t.deepEqual(normalizeSpans(text, [[6, 9], [0, 4]]), [[0, 9]]); // "left" + "  " + "and"
  t.deepEqual(normalizeSpans(text, [[0, 2], [2, 4]]), [[0, 4]]);
  const e = makeEntity(text, 'Anatomy', [[16, 25], [0, 4]]);
  t.deepEqual(e, { type: 'Anatomy', spans: [[0, 4], [16, 25]], text: 'left ventricle' });
});

test('text order: start, longer first, then type name', (t) => {
  const text = 'activated lymphocytes';
  const a = makeEntity(text, 'cell_type', [[10, 21]]);
  const b = makeEntity(text, 'cell_type', [[0, 21]]);
  const c = makeEntity(text, 'a_type', [[0, 21]]);
  t.deepEqual(sortEntities([a, b, c]), [c, b, a]);
  t.true(compareEntities(b, a) < 0);
});

test('code-point offsets are exact beyond the BMP', (t) => {
  const text = 'x 𝛼-actin and µM';
  const map = new OffsetMap(text);
  const js = text.indexOf('-actin');
  t.is(js, 4); // 𝛼 is two UTF-16 units
  t.is(map.toCodePoint(js), 3);
  t.is(map.toJs(3), 4);
  t.is(map.codePointLength, [...text].length);
  t.false(map.isBoundary(3));
  t.throws(() => map.toJs(100), { instanceOf: RangeError });
});

test('offset conversion round-trips on arbitrary unicode text', (t) => {
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (text) => {
      const map = new OffsetMap(text);
      for (let k = 0; k <= map.codePointLength; k++) {
        if (map.toCodePoint(map.toJs(k)) !== k) return false;
      }
      return [...text].length === map.codePointLength;
    }),
  );
  t.pass();
});
