import test from 'ava';
import path from 'node:path';
import { trainVocabulary, writeVocabularyGguf, TOKEN_TYPE, type Vocabulary } from '../../lib/native/corpus-vocab.ts';
import { makeModel } from '../../lib/native/make-model.ts';
import { Model } from '../../lib/native/model.ts';
import { datasetTrainingData } from '../../lib/train/data.ts';
import { corporaRoot, withCorpora } from '../corpus/corpora.ts';
import { tempDir } from './helpers.ts';

/** The prompts and answers of NCBI-disease train's first 300 documents in multi_term. */
async function multiTermTexts(): Promise<string[]> {
  const data = await datasetTrainingData({ datasets: ['NCBI-disease'], configuration: 'only:multi_term', draw: 1, trainCap: 300, devCap: 0, root: corporaRoot });
  return data.train.flatMap((e) => ('messages' in e ? e.messages.map((m) => m.content) : []));
}

/** A one-layer qwen2 model over `vocab`, written to a fresh temporary folder. */
async function modelWithVocabulary(vocab: Vocabulary): Promise<Model> {
  const dir = tempDir();
  const vocabFile = path.join(dir, 'vocab.gguf');
  writeVocabularyGguf(vocabFile, vocab);
  const out = path.join(dir, 'model.gguf');
  await makeModel({ architecture: 'qwen2', shape: { nEmbd: 32, nLayer: 1, nHead: 2, nHeadKv: 2, nFf: 64, nCtx: 512 }, out, vocabPath: vocabFile, weightType: 'f32' });
  return Model.load(out);
}

test('merges the most frequent pair first, deterministically, and stops at the size', (t) => {
  const texts = ['low lower lowest', 'low low newer', 'newest low'];
  const a = trainVocabulary(texts, { size: 3 + 2 + 256 + 20, minCharCount: 1 });
  const b = trainVocabulary([...texts], { size: 3 + 2 + 256 + 20, minCharCount: 1 });
  t.deepEqual(a.tokens, b.tokens);
  t.true(a.tokens.length <= 3 + 2 + 256 + 20);
  t.deepEqual(a.tokens.slice(0, 5), ['<unk>', '<s>', '</s>', '<|im_start|>', '<|im_end|>']);
  t.is(a.tokens[5], '<0x00>');
  t.is(a.types[5], TOKEN_TYPE.byte);
  // "▁low" occurs five times: its merges come before any other word's.
  const firstMerge = a.scores.findIndex((s) => s === -1);
  t.true(['▁l', 'lo', 'ow', '▁lo', '▁low'].includes(a.tokens[firstMerge]), a.tokens[firstMerge]);
  t.true(a.tokens.includes('▁low'));
  // Scores fall with each merge, so llama.cpp's SPM tokenizer replays them in order.
  const merged = a.scores.filter((s) => s < 0);
  t.deepEqual(merged, [...merged].sort((x, y) => y - x));
  t.is(new Set(a.tokens).size, a.tokens.length);
});

test('refuses a size that cannot hold the specials and bytes', (t) => {
  t.throws(() => trainVocabulary(['a b'], { size: 100 }), { message: /vocabulary size/ });
});

withCorpora('a corpus vocabulary in a made model: llama.cpp reads it, prompts round-trip and take far fewer tokens', async (t) => {
  const data = await datasetTrainingData({ datasets: ['NCBI-disease'], configuration: 'all', draw: 1, trainCap: 300, devCap: 0, root: corporaRoot });
  const chats = data.train.flatMap((e) => ('messages' in e ? [e.messages] : []));
  const texts = chats.flatMap((messages) => messages.map((m) => m.content));
  const vocab = trainVocabulary(texts, { size: 1024 });
  t.is(vocab.tokens.length, 1024);
  const model = await modelWithVocabulary(vocab);
  try {
    t.is(model.metadata.vocabularySize, vocab.tokens.length);
    t.false(model.metadata.addBos);
    let chars = 0;
    let tokens = 0;
    for (const messages of chats.slice(0, 40)) {
      const rendered = model.renderChat(messages, { addGenerationPrompt: false });
      const ids = model.tokenize(rendered, { parseSpecial: true });
      t.is(model.detokenize(ids, { special: true }), rendered);
      // The chat markers are single control tokens; <|im_end|> ends a turn.
      t.true(ids.includes(vocab.controls['<|im_end|>']));
      chars += rendered.length;
      tokens += ids.length;
    }
    // Text unseen in training (held-out sentence, odd characters) still round-trips via bytes.
    const odd = 'Ataxia-telangiectasia (A-T) 𝛼-synuclein µg/kg 😀';
    t.is(model.detokenize(model.tokenize(odd)), odd);
    // Learned pieces: well under one token per 3 characters (bytes alone would be 1 per char).
    t.true(tokens < chars / 3, `${tokens} tokens for ${chars} characters`);
  } finally {
    await model.dispose();
  }
});

withCorpora('isolateWords: a mention is the same token ids in the sentence and in every answer syntax', async (t) => {
  const texts = await multiTermTexts();
  const spaced = trainVocabulary(texts, { size: 1024 });
  const vocab = trainVocabulary(texts, { size: 1024, isolateWords: true });
  // No learned piece joins a space, a digit or punctuation to letters.
  const learned = vocab.tokens.filter((_, i) => vocab.types[i] === TOKEN_TYPE.normal && vocab.scores[i] < 0);
  t.true(learned.length > 500);
  for (const p of learned) t.regex(p, /^(?:[\p{L}\p{M}]+|[^\p{L}\p{M}\p{N}\u2581]+)$/u, p);
  t.true(spaced.tokens.some((p) => /^\u2581\p{L}{3,}$/u.test(p)), 'the default keeps space-prefixed words');
  const model = await modelWithVocabulary(vocab);
  try {
    const mention = model.tokenize('ataxia telangiectasia');
    const sentence = model.tokenize('Patients with ataxia telangiectasia (A-T) were seen.');
    const answers = ['[{"text": "ataxia telangiectasia", "type": "Disease"}]', '<Disease>ataxia telangiectasia</Disease>', 'ataxia telangiectasia\n'];
    const contains = (hay: Int32Array, needle: Int32Array) => hay.some((_, i) => needle.every((x, j) => hay[i + j] === x));
    t.true(contains(sentence, mention));
    for (const a of answers) t.true(contains(model.tokenize(a), mention), a);
    t.is(model.detokenize(sentence), 'Patients with ataxia telangiectasia (A-T) were seen.');
  } finally {
    await model.dispose();
  }
});

withCorpora('trailingSpace: words keep the space after them, so a mention is the sentence ids but for its bare last word', async (t) => {
  const texts = await multiTermTexts();
  const vocab = trainVocabulary(texts, { size: 1024, isolateWords: true, trailingSpace: true });
  const learned = vocab.tokens.filter((_, i) => vocab.types[i] === TOKEN_TYPE.normal && vocab.scores[i] < 0);
  // A learned piece is letters, a digit or punctuation, with at most one space and only at its end.
  for (const p of learned) t.regex(p, /^(?:[\p{L}\p{M}]+|\p{N}|[^\p{L}\p{M}\p{N}\u2581]+)\u2581?$/u, p);
  t.true(learned.includes('with\u2581'), 'frequent words merge with their space');
  const model = await modelWithVocabulary(vocab);
  try {
    const text = 'Patients with ataxia - telangiectasia ( A - T ) were seen .';
    const sentence = model.tokenize(text);
    const pieces = model.tokenPieces(sentence).map((p) => p.toString('utf8'));
    t.true(pieces.includes('with '), pieces.join('|'));
    t.false(pieces.some((p) => p.startsWith(' ')), 'no piece starts with a space');
    t.is(model.detokenize(sentence), text);
    // In an answer the mention's words but the last are the sentence's tokens.
    const head = model.tokenize('ataxia - ');
    const answer = model.tokenize('[{"text": "ataxia - telangiectasia", "type": "Disease"}]');
    const contains = (hay: Int32Array, needle: Int32Array) => hay.some((_, i) => needle.every((x, j) => hay[i + j] === x));
    t.true(contains(sentence, head));
    t.true(contains(answer, head));
    t.is(model.detokenize(answer), '[{"text": "ataxia - telangiectasia", "type": "Disease"}]');
  } finally {
    await model.dispose();
  }
});
