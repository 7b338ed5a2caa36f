import test from 'ava';
import { splitText } from '../../lib/pipeline/chunk.ts';

/** A stand-in tokenizer for pure tests: one token per code point. */
const perCodePoint = (s: string) => [...s].length;
/** One token per whitespace-separated word. */
const perWord = (s: string) => s.split(/\s+/u).filter(Boolean).length;

function checkCover(t: import('ava').ExecutionContext, text: string, chunks: ReturnType<typeof splitText>, max: number, count: (s: string) => number) {
  let covered = '';
  let last = 0;
  for (const c of chunks) {
    t.is(c.text, text.slice(c.start, c.end));
    t.true(c.start >= last, 'chunks are in order and do not overlap');
    t.true(/^\s*$/u.test(text.slice(last, c.start)), 'only whitespace between chunks');
    t.true(count(c.text) <= max, `chunk of ${count(c.text)} tokens exceeds ${max}`);
    covered += c.text;
    last = c.end;
  }
  t.true(/^\s*$/u.test(text.slice(last)));
  t.is(covered.replace(/\s/gu, ''), text.replace(/\s/gu, ''), 'every non-space character is in some chunk');
}

test('a text that fits is one chunk, untouched', (t) => {
  const text = '  Short text.  ';
  t.deepEqual(splitText(text, 100, perCodePoint), [{ start: 0, end: text.length, text }]);
});

test('splits at sentence ends first', (t) => {
  const text = 'BCL6 binds DNA. It is a repressor! Is it expressed? Yes; in B cells.';
  const chunks = splitText(text, 7, perWord);
  t.deepEqual(
    chunks.map((c) => c.text),
    ['BCL6 binds DNA. It is a repressor!', 'Is it expressed? Yes; in B cells.'],
  );
  checkCover(t, text, chunks, 7, perWord);
});

test('a sentence longer than a chunk is split at whitespace', (t) => {
  const text = 'one two three four five six seven eight nine ten.';
  const chunks = splitText(text, 4, perWord);
  t.deepEqual(chunks.map((c) => c.text), ['one two three four', 'five six seven eight', 'nine ten.']);
  checkCover(t, text, chunks, 4, perWord);
});

test('a word longer than a chunk is cut between code points, never inside a surrogate pair', (t) => {
  const text = `a ${'𝛼β𝛼'.repeat(5)} b`;
  const chunks = splitText(text, 4, perCodePoint);
  checkCover(t, text, chunks, 4, perCodePoint);
  for (const c of chunks) {
    t.false(/[\uDC00-\uDFFF]/u.test(c.text[0] ?? '') && !/[\uD800-\uDBFF]/u.test(text[c.start - 1] ?? ''), 'no lone low surrogate');
    t.notRegex(c.text, /^[\uDC00-\uDFFF]|[\uD800-\uDBFF]$/u);
  }
});

test('random texts: every chunk fits and the chunks cover the text', (t) => {
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const alphabet = ['a', 'b', 'BCL6', '𝛼', ' ', ' ', '. ', '\n', '; ', 'µ'];
  for (let k = 0; k < 200; k++) {
    const text = Array.from({ length: Math.floor(rnd() * 200) }, () => alphabet[Math.floor(rnd() * alphabet.length)]).join('');
    const max = 1 + Math.floor(rnd() * 30);
    checkCover(t, text, splitText(text, max, perCodePoint), max, perCodePoint);
  }
});
