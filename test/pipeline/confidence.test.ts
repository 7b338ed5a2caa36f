import test from 'ava';
import { getFormat, type Entity } from '../../lib/formats/index.ts';
import { Model } from '../../lib/native/index.ts';
import { answerConfidence, entityConfidences, extract, type AnswerTokens, type ExtractedDocument } from '../../lib/pipeline/index.ts';
import { outputRecord } from '../../lib/pipeline/jsonl-job.ts';
import { THREADS, stories } from '../native/helpers.ts';

/** An answer cut into tokens of the given pieces, with log-probabilities (default 0: forced). */
function answer(pieces: string[], logprobs?: number[]): AnswerTokens {
  return { text: pieces.join(''), pieces: pieces.map((p) => Buffer.from(p)), logprobs: Float32Array.from(logprobs ?? pieces.map(() => 0)) };
}

const TEXT = 'BCL6 binds DNA and BCL6 binds RNA in 𝛼 cells.';
const parse = (format: Parameters<typeof getFormat>[0], a: AnswerTokens, types = ['protein', 'DNA']) => getFormat(format).parse(a.text, TEXT, types).entities;

test('forced tokens (log-probability 0) give confidence 1', (t) => {
  const a = answer(['Answer', ': [', '{"text": "', 'BC', 'L6', '", "type": "', 'protein', '"}, {"text": "', 'DNA', '", "type": "', 'DNA', '"}]']);
  const entities = parse('multi_term', a);
  t.is(entities.length, 2);
  t.deepEqual(entityConfidences('multi_term', a, TEXT, entities), [1, 1]);
});

test("an entity's confidence is its weakest token's (or the token ending it); other entities are unaffected", (t) => {
  const pieces = ['Answer', ': [', '{"text": "', 'BC', 'L6', '", "type": "', 'protein', '"}, {"text": "', 'DNA', '", "type": "', 'DNA', '"}]'];
  const lp = pieces.map(() => 0);
  lp[4] = Math.log(0.25); // 'L6' of BCL6
  lp[9] = Math.log(0.5); // the token that ends DNA
  const a = answer(pieces, lp);
  const entities = parse('multi_term', a);
  const c = entityConfidences('multi_term', a, TEXT, entities);
  t.true(Math.abs(c[0] - 0.25) < 1e-6);
  t.true(Math.abs(c[1] - 0.5) < 1e-6);
  t.true(Math.abs(answerConfidence(a) - 0.25) < 1e-6);
});

test('confidences stay in (0, 1] however unlikely the token, and are deterministic', (t) => {
  const a = answer(['Answer: ["', 'BCL6', '"]'], [0, -1e4, 0.5 /* never above 1 */]);
  const e = parse('single_term', a, ['protein']);
  const c = entityConfidences('single_term', a, TEXT, e);
  t.true(c[0] > 0 && c[0] <= 1);
  t.deepEqual(entityConfidences('single_term', a, TEXT, e), c);
  t.is(answerConfidence(answer(['x'], [0.5])), 1);
});

test('repeated texts: each entity takes its own occurrence in the answer', (t) => {
  // Two BCL6 mentions in the text; the answer lists it twice (the parser grounds them in turn).
  const a = answer(['Answer: ["', 'BCL6', '", "', 'BCL6', '"]'], [0, -0.1, 0, -2, 0]);
  const e = parse('single_term', a, ['protein']);
  t.is(e.length, 2);
  const c = entityConfidences('single_term', a, TEXT, e);
  t.true(Math.abs(c[0] - Math.exp(-0.1)) < 1e-6 && Math.abs(c[1] - Math.exp(-2)) < 1e-6);
});

test('tag formats: the tagged copy, not an earlier untagged mention', (t) => {
  const pieces = ['Answer: ', 'BCL6', ' binds DNA and ', '@@', 'BCL6', '##', ' binds RNA in 𝛼 cells.'];
  const lp = [0, -3, 0, -0.2, 0, 0, 0];
  const a = answer(pieces, lp);
  const e = parse('single_tag', a, ['protein']);
  t.deepEqual(e.map((x) => x.spans), [[[19, 23]]]);
  t.true(Math.abs(entityConfidences('single_tag', a, TEXT, e)[0] - 1) < 1e-6); // the tagged BCL6 and the ## after it
});

test('span formats: the code-point offsets as written; multi_bio: the whole answer (conservative)', (t) => {
  // 'cells' is at JS 40..45, code points 39..44 (𝛼 is two JS units).
  const a = answer(['Answer: [[', '3', '9, ', '44', ']]'], [0, 0, 0, -1, 0]);
  const e = parse('single_span', a, ['cell_type']);
  t.deepEqual(e.map((x) => TEXT.slice(x.spans[0][0], x.spans[0][1])), ['cells']);
  t.true(Math.abs(entityConfidences('single_span', a, TEXT, e)[0] - Math.exp(-1)) < 1e-6);
  const bio: Entity[] = [{ type: 'protein', spans: [[0, 4]], text: 'BCL6' }];
  const b = answer(['Layer 1: ', 'B-protein', ' O'], [0, -0.5, -1.5]);
  t.true(Math.abs(entityConfidences('multi_bio', b, TEXT, bio)[0] - Math.exp(-1.5)) < 1e-6);
});

const maybe = stories.missing ? test.skip : test;
maybe('stories260K: every entity gets a confidence in (0, 1], the same on a second run, and in the CLI record', async (t) => {
  const model = await Model.load(stories.path);
  try {
    const text = 'The 𝛼-chain binds BCL6 and BCL6 binds DNA.';
    const run = async () => {
      const out: ExtractedDocument[] = [];
      for await (const d of extract([text, text], { model, threads: THREADS, format: 'multi_term', types: ['protein', 'DNA'], maxTokens: 120, batchSize: 2, constraint: 'root ::= "Answer: [{\\"text\\": \\"BCL6\\", \\"type\\": \\"protein\\"}, {\\"text\\": \\"DNA\\", \\"type\\": \\"DNA\\"}]"' })) out.push(d);
      return out;
    };
    const [a, b] = [await run(), await run()];
    const confidences = a.flatMap((d) => d.entities.map((e) => e.confidence));
    t.is(confidences.length, 4);
    t.true(confidences.every((c) => c !== undefined && c > 0 && c <= 1));
    t.deepEqual(b.flatMap((d) => d.entities.map((e) => e.confidence)), confidences);
    const record = outputRecord({ kind: 'doc', line: 1, id: 'x', text }, a[0], false) as { entities: { confidence: number }[] };
    t.true(record.entities.every((e) => e.confidence > 0 && e.confidence <= 1));
    // Off when asked.
    for await (const d of extract([text], { model, threads: THREADS, format: 'single_term', types: ['protein'], maxTokens: 16, confidence: false, constraint: 'root ::= "Answer: [\\"BCL6\\"]"' })) {
      t.is(d.entities.length, 1);
      t.is(d.entities[0].confidence, undefined);
    }
  } finally {
    await model.dispose();
  }
});
