import test from 'ava';
import { reportMissing } from '../helpers/shared.ts';
import { Model } from '../../lib/native/index.ts';
import { extract, type ExtractOptions, type ExtractedDocument } from '../../lib/pipeline/index.ts';
import { THREADS, stories } from '../native/helpers.ts';

const maybe = stories.missing ? test.skip : test;
reportMissing(test, 'stories260K extract tests', stories.missing);

let model: Model;
test.before(async () => {
  if (!stories.missing) model = await Model.load(stories.path);
});
test.after.always(async () => {
  await model?.dispose();
});

async function run(docs: Parameters<typeof extract>[0], options: Omit<ExtractOptions, 'model'>): Promise<ExtractedDocument[]> {
  const out: ExtractedDocument[] = [];
  for await (const r of extract(docs, { model, threads: THREADS, ...options })) out.push(r);
  return out;
}

const DOCS = [
  'These results suggest that BCL6 plays a role in activated lymphocytes.',
  { id: 'b', text: 'Aspirin was given for the migraine.' },
  '',
  { id: 7, text: 'The 𝛼-chain of IL-2 receptor binds IL-2.' },
  'Lily saw a big dog in the park.',
];

/** A grammar that forces one answer, so a model that knows no NER still answers. */
const forced = (answer: string) => `root ::= ${JSON.stringify(answer)}`;

for (const format of ['multi_term', 'single_term', 'conv_term'] as const) {
  maybe(`${format}: one result per document, in input order, and batching changes no answer`, async (t) => {
    const options = { format, types: ['protein', 'cell_type'], maxTokens: 16, keepAnswers: true } as const;
    const alone = await run(DOCS, { ...options, batchSize: 1 });
    const batched = await run(DOCS, { ...options, batchSize: 4 });
    t.deepEqual(alone.map((r) => r.index), [0, 1, 2, 3, 4]);
    t.deepEqual(alone.map((r) => r.id), ['0', 'b', '2', '7', '4']);
    t.deepEqual(
      batched.map((r) => r.answers.map((a) => a.text)),
      alone.map((r) => r.answers.map((a) => a.text)),
    );
    // Entities are the same; confidences too, up to float summation order (batch make-up).
    const strip = (rs: ExtractedDocument[]) => rs.map((r) => r.entities.map(({ confidence: _, ...e }) => e));
    t.deepEqual(strip(batched), strip(alone));
    const conf = (rs: ExtractedDocument[]) => rs.flatMap((r) => r.entities.map((e) => e.confidence!));
    t.true(conf(alone).every((c, i) => c > 0 && c <= 1 && Math.abs(c - conf(batched)[i]) < 1e-3));
    // Answers per document: multi_* one, single_* one per type, conv_term one conversation of two turns.
    const expected = format === 'single_term' ? 2 : 1;
    t.deepEqual(alone.map((r) => r.answers.length), [expected, expected, 0, expected, expected]);
    if (format === 'conv_term') t.is((alone[0].answers[0].text as string[]).length, 2);
    t.true(alone.every((r) => r.error === undefined));
  });
}

maybe('a GBNF constraint forces the answer; entities come back with JS offsets into the text', async (t) => {
  const text = 'The 𝛼-chain binds BCL6 and BCL6 binds DNA.';
  const [r] = await run([text], { format: 'single_term', types: ['protein'], constraint: forced('Answer: ["BCL6"]'), maxTokens: 24 });
  t.is(r.answers[0].problems.length, 0);
  t.deepEqual(r.entities.map((e) => [e.type, e.spans, text.slice(e.spans[0][0], e.spans[0][1])]), [['protein', [[19, 23]], 'BCL6']]);
});

maybe('a long text is split at sentence boundaries and every entity is mapped back to the full text', async (t) => {
  const sentences = Array.from({ length: 12 }, (_, i) => `In patient ${i} with 𝛼 and µ levels ${'very '.repeat(i % 4)}high, BCL6 rose again.`);
  const text = sentences.join(' ');
  const [r] = await run([{ id: 'long', text }], {
    format: 'single_term',
    types: ['protein'],
    constraint: forced('Answer: ["BCL6"]'),
    maxTokens: 24,
    contextSize: 340,
    keepAnswers: true,
  });
  t.true(r.chunks > 1, `expected a split, got ${r.chunks} chunk(s)`);
  t.is(r.answers.length, r.chunks);
  t.is(r.entities.length, r.chunks, 'one BCL6 per chunk (the forced answer names it once)');
  const occurrences = [...text.matchAll(/BCL6/gu)].map((m) => m.index!);
  for (const e of r.entities) {
    t.is(text.slice(e.spans[0][0], e.spans[0][1]), 'BCL6');
    t.true(occurrences.includes(e.spans[0][0]));
  }
  // Entities are in text order and come from different chunks (distinct offsets).
  const starts = r.entities.map((e) => e.spans[0][0]);
  t.deepEqual(starts, [...starts].sort((a, b) => a - b));
  t.is(new Set(starts).size, starts.length);
});

maybe('documents without a text string get an error result; the others are unaffected', async (t) => {
  const docs = [{ id: 'x', text: 'BCL6 binds.' }, { id: 'y', text: 42 as unknown as string }, 'BCL6 again.'];
  const r = await run(docs, { format: 'multi_term', types: ['protein'], maxTokens: 8 });
  t.is(r.length, 3);
  t.deepEqual(r[1].error, { code: 'invalid-document', message: 'the document has no text string' });
  t.is(r[0].error, undefined);
  t.is(r[2].error, undefined);
});

maybe('async iterable input streams with bounded read-ahead', async (t) => {
  let read = 0;
  let maxAhead = 0;
  let yielded = 0;
  async function* source() {
    for (let i = 0; i < 24; i++) {
      read++;
      maxAhead = Math.max(maxAhead, read - yielded);
      yield `Document ${i} about BCL6.`;
    }
  }
  for await (const r of extract(source(), { model, threads: THREADS, format: 'multi_term', types: ['protein'], maxTokens: 4, batchSize: 2 })) {
    t.is(r.index, yielded);
    yielded++;
  }
  t.is(yielded, 24);
  t.true(maxAhead <= 17, `read ${maxAhead} documents ahead of the output`);
});

maybe('a string instead of documents, and an unknown format, are ERR_INVALID_ARG before any work', async (t) => {
  const asString = await t.throwsAsync(run('BCL6 binds DNA.' as unknown as string[], { format: 'multi_term', types: ['protein'] }));
  t.is((asString as { code?: string }).code, 'ERR_INVALID_ARG');
  t.regex(asString!.message, /not a string: wrap one text as \[text\]/);
  t.false(asString!.message.includes('BCL6'), 'the message holds no document text');
  const badFormat = await t.throwsAsync(run(['BCL6'], { format: 'multi_terms' as never, types: ['protein'] }));
  t.is((badFormat as { code?: string }).code, 'ERR_INVALID_ARG');
  t.regex(badFormat!.message, /unknown format "multi_terms"/);
});

maybe('a window too small for the prompt is a clear error', async (t) => {
  const err = await t.throwsAsync(run(['BCL6'], { format: 'multi_term', types: ['protein'], maxTokens: 64, contextSize: 100 }));
  t.is((err as { code?: string }).code, 'ERR_CONTEXT_TOO_SMALL');
});

maybe('under the default format constraint every entity is grounded at offsets that spell it, in split texts too', async (t) => {
  const long = Array.from({ length: 16 }, (_, i) => `Cells ${i} with 𝛼 and µ express IL-2 and BCL6 today.`).join(' ');
  const docs = ['The 𝛼-chain of IL-2 receptor binds IL-2.', long];
  for (const format of ['multi_brat', 'conv_term', 'single_span', 'multi_term'] as const) {
    const summary = { constraint: 'none' as const, notes: [] as string[] };
    const results: ExtractedDocument[] = [];
    for await (const r of extract(docs, { model, threads: THREADS, format, types: ['protein', 'cell_type'], maxTokens: 40, contextSize: 520, batchSize: 4 }, summary)) results.push(r);
    t.is(summary.constraint as string, 'format');
    t.true(results[1].chunks > 1, `${format}: the long text was not split`);
    if (format !== 'multi_term') t.true(results[1].entities.length > 0, `${format}: no entity to check`);
    for (const [i, r] of results.entries()) {
      t.is(r.error, undefined);
      for (const e of r.entities) {
        t.not(e.grounded, false, `${format}: ungrounded entity`);
        t.is(e.spans.map(([s, end]) => docs[i].slice(s, end)).join(' '), e.text, `${format}: offsets do not spell the entity`);
      }
      for (const a of r.answers) t.deepEqual(a.problems.filter((p) => p.kind !== 'truncated'), [], `${format}: problems other than truncation`);
    }
  }
});
