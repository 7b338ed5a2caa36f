/** Response-only labels from chat rendering, and packing. */
import test from 'ava';
import { Model, madeModelPath } from '../../lib/native/index.ts';
import { packExamples, tokenizeExample } from '../../lib/train/index.ts';
import { sharedFile } from '../helpers/shared.ts';

test('chat examples: only assistant target turns are scored, their end-of-turn token included', async (t) => {
  for (const arch of ['qwen2', 'llama'] as const) {
    const model = await Model.load(await madeModelPath(arch, 'tiny'));
    try {
      const ex = tokenizeExample(model, {
        messages: [
          { role: 'user', content: 'Find the genes.' },
          { role: 'assistant', content: 'BRCA1; TP53', target: true },
          { role: 'user', content: 'Type: chemical' },
          { role: 'assistant', content: 'none', target: true },
        ],
      });
      const scored = Array.from(ex.tokens).filter((_, i) => ex.scored[i]);
      const text = model.detokenize(scored, { special: true });
      const eot = arch === 'qwen2' ? '<|im_end|>' : '<|eot_id|>';
      t.is(text, `BRCA1; TP53${eot}none${eot}`, arch);
      t.is(ex.targets, scored.length);
      // unmarked turns are not scored when others are marked
      const partial = tokenizeExample(model, {
        messages: [
          { role: 'user', content: 'a' },
          { role: 'assistant', content: 'x', target: false },
          { role: 'user', content: 'b' },
          { role: 'assistant', content: 'y', target: true },
        ],
      });
      t.is(model.detokenize(Array.from(partial.tokens).filter((_, i) => partial.scored[i]), { special: true }), `y${eot}`);
    } finally {
      await model.dispose();
    }
  }
});

test('raw pairs on a SentencePiece vocabulary: the completion is tokenised as it follows the prompt (no extra dummy-prefix space)', async (t) => {
  const stories = sharedFile('models', 'stories260K.gguf');
  if (stories.missing) return t.pass(stories.missing);
  const model = await Model.load(stories.path);
  try {
    t.true(model.addsSpacePrefix, 'stories260K is a SentencePiece vocabulary');
    const ex = tokenizeExample(model, { prompt: 'Tom saw a', completion: ' cat.' });
    const joint = model.tokenize('Tom saw a cat.', { addSpecial: true });
    t.deepEqual([...ex.tokens], [...joint, model.metadata.eosToken!], 'BOS + prompt + completion tokens are the joint text\'s, then EOS');
    const completion = Array.from(ex.tokens).filter((_, i) => ex.scored[i]);
    t.is(Buffer.concat(model.tokenPieces(completion.slice(0, -1))).toString(), ' cat.', 'the scored completion\'s pieces spell it, one leading space');
    t.is(model.tokenPieces(completion.slice(0, 1))[0].toString(), ' c', 'no lone space token first');
    t.deepEqual([...model.tokenize('Tom saw a', { addSpecial: true })], [...ex.tokens.subarray(0, ex.tokens.length - ex.targets)], 'the unscored part is what inference feeds for the prompt');
    // a boundary inside a word: the joint text does not start with the prompt's tokens
    const split = tokenizeExample(model, { prompt: 'Tom saw a c', completion: 'at.' }, { addEos: false });
    t.is(model.detokenize(Array.from(split.tokens).filter((_, i) => split.scored[i])).trim(), 'at.');
  } finally {
    await model.dispose();
  }
});

test('packing: sequences keep their own ids and positions, labels are next tokens of scored positions', (t) => {
  const a = { tokens: Int32Array.from([1, 2, 3, 4]), scored: Uint8Array.from([0, 0, 1, 1]), targets: 2 };
  const b = { tokens: Int32Array.from([5, 6, 7]), scored: Uint8Array.from([0, 1, 1]), targets: 2 };
  const [mb, mb2] = packExamples([a, b, a], [0, 1, 2], 8);
  t.deepEqual(Array.from(mb.tokens), [1, 2, 3, 4, 5, 6, 7]);
  t.deepEqual(Array.from(mb.positions), [0, 1, 2, 3, 0, 1, 2]);
  t.deepEqual(Array.from(mb.sequences), [0, 0, 0, 0, 1, 1, 1]);
  t.deepEqual(Array.from(mb.labels), [-1, 3, 4, -1, 6, 7, -1]);
  t.is(mb.targets, 4);
  t.deepEqual(mb2.examples, [2]);
  t.throws(() => packExamples([a], [0], 3), { code: 'ERR_EXAMPLE_TOO_LONG' });
});
