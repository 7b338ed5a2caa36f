import test from 'ava';
import { reportMissing } from '../helpers/shared.ts';
import { Model, MfnerError, createGrammar } from '../../lib/native/index.ts';
import { STORIES_GREEDY, THREADS, stories } from './helpers.ts';

const maybe = stories.missing ? test.skip : test;
reportMissing(test, 'stories260K tests', stories.missing);

let model: Model;
test.before(async () => {
  if (!stories.missing) model = await Model.load(stories.path);
});
test.after.always(async () => {
  await model?.dispose();
});

maybe('metadata of stories260K', (t) => {
  const m = model.metadata;
  t.is(m.architecture, 'llama');
  t.is(m.vocabularySize, 512);
  t.is(m.parameterCount, 292800);
  t.is(m.contextLength, 2048);
  t.is(m.chatTemplate, null);
  t.is(m.bosToken, 1);
});

maybe('greedy generation from BOS reproduces the published sample', async (t) => {
  const ctx = await model.createContext({ contextSize: 256, threads: THREADS });
  const r = await ctx.generate([''], { maxTokens: 40 });
  t.true(r.sequences[0].text.startsWith(STORIES_GREEDY), 'greedy text differs from the published sample');
  t.is(r.sequences[0].finishReason, 'length');
  t.is(r.sequences[0].tokens.length, 40);
  await ctx.dispose();
});

maybe('4 prompts decoded in one batch give the same tokens as each decoded alone', async (t) => {
  const prompts = ['Once upon a time', 'The cat', 'Lily and Tom went to', ''];
  const ctx = await model.createContext({ contextSize: 512, sequences: 4, threads: THREADS });
  const batched = await ctx.generate(prompts, { maxTokens: 24 });
  t.is(batched.timings.decodeCalls <= 24 + 1, true, 'all sequences share one llama_decode per step');
  for (const [i, p] of prompts.entries()) {
    const alone = await ctx.generate([p], { maxTokens: 24 });
    t.deepEqual([...batched.sequences[i].tokens], [...alone.sequences[0].tokens], `prompt ${i}`);
  }
  await ctx.dispose();
});

maybe('seeded sampling is reproducible and differs across seeds', async (t) => {
  const ctx = await model.createContext({ contextSize: 256, threads: THREADS });
  const a = await ctx.generate(['Once'], { maxTokens: 20, temperature: 1, seed: 7 });
  const b = await ctx.generate(['Once'], { maxTokens: 20, temperature: 1, seed: 7 });
  const c = await ctx.generate(['Once'], { maxTokens: 20, temperature: 1, seed: 8 });
  t.deepEqual([...a.sequences[0].tokens], [...b.sequences[0].tokens]);
  t.notDeepEqual([...a.sequences[0].tokens], [...c.sequences[0].tokens]);
  await ctx.dispose();
});

maybe('abort stops a long generation promptly and leaves the context usable', async (t) => {
  const ctx = await model.createContext({ contextSize: 2048, threads: THREADS });
  const controller = new AbortController();
  const started = Date.now();
  const long = ctx.generate([''], { maxTokens: 2000, ignoreEos: true, signal: controller.signal });
  setTimeout(() => controller.abort(), 30);
  const err = await t.throwsAsync(long, { instanceOf: MfnerError });
  t.is((err as MfnerError).code, 'ERR_ABORTED');
  const partial = (err as MfnerError & { partial?: { sequences: { tokens: Int32Array }[] } }).partial;
  t.true(partial!.sequences[0].tokens.length < 2000);
  t.true(Date.now() - started < 5000, 'abort took too long');
  const after = await ctx.generate([''], { maxTokens: 40 });
  t.true(after.sequences[0].text.startsWith(STORIES_GREEDY));
  // An already-aborted signal never starts.
  await t.throwsAsync(ctx.generate([''], { signal: AbortSignal.abort() }), { code: 'ERR_ABORTED' } as never);
  await ctx.dispose();
});

maybe('input that would hit a llama.cpp assert is rejected with a coded error', async (t) => {
  const ctx = await model.createContext({ contextSize: 64, sequences: 2, threads: THREADS });
  const code = async (p: Promise<unknown>) => ((await t.throwsAsync(p)) as MfnerError).code;
  t.is(await code(ctx.generate([[1, 99999]])), 'ERR_INVALID_TOKEN');
  t.is(await code(ctx.generate([[1, -1]])), 'ERR_INVALID_TOKEN');
  t.is(await code(ctx.generate([[1, 1.5]])), 'ERR_INVALID_TOKEN');
  const cells = ctx.info.contextSize; // llama.cpp may round the requested size up
  t.is(await code(ctx.generate([''], { maxTokens: cells + 1 })), 'ERR_INVALID_ARG');
  t.is(await code(ctx.generate(['', ''], { maxTokens: cells / 2 })), 'ERR_CONTEXT_OVERFLOW');
  t.is(await code(ctx.generate(['', '', ''], { maxTokens: 4 })), 'ERR_TOO_MANY_SEQUENCES');
  t.is(await code(ctx.generate([], { maxTokens: 4 })), 'ERR_INVALID_ARG');
  t.is(await code(ctx.generate([''], { maxTokens: 4, seed: -1 })), 'ERR_INVALID_ARG');
  // The context still works after every rejection.
  const ok = await ctx.generate([''], { maxTokens: 8 });
  t.is(ok.sequences[0].tokens.length, 8);
  await ctx.dispose();
});

maybe('a GBNF grammar constrains one sequence and not its neighbour', async (t) => {
  const ctx = await model.createContext({ contextSize: 256, sequences: 2, threads: THREADS });
  const grammar = createGrammar(model, 'root ::= " Once upon a time, there was a " ("dog" | "cat") "."');
  const r = await ctx.generate(['', ''], { maxTokens: 30, constraint: [grammar, null] });
  t.regex(r.sequences[0].text, /^ ?Once upon a time, there was a (dog|cat)\.$/);
  t.is(r.sequences[0].finishReason, 'eog');
  t.true(r.sequences[1].text.startsWith(STORIES_GREEDY.slice(0, 40)));
  t.throws(() => createGrammar(model, 'root ::= ( "unclosed"'), { code: 'ERR_GRAMMAR' } as never);
  await ctx.dispose();
});

maybe('dispose waits for in-flight work; later calls are rejected', async (t) => {
  const ctx = await model.createContext({ contextSize: 512, threads: THREADS });
  const running = ctx.generate([''], { maxTokens: 100, ignoreEos: true });
  const disposed = ctx.dispose();
  const r = await running;
  t.is(r.sequences[0].tokens.length, 100);
  await disposed;
  t.true(ctx.info.disposed);
  await t.throwsAsync(ctx.generate(['']), { code: 'ERR_DISPOSED' } as never);
});

maybe('many callers sharing one model and context get their own results', async (t) => {
  const ctx = await model.createContext({ contextSize: 256, threads: THREADS });
  const other = await model.createContext({ contextSize: 256, threads: THREADS });
  const results = await Promise.all([
    ctx.generate([''], { maxTokens: 12 }),
    ctx.generate(['The dog'], { maxTokens: 12 }),
    other.generate([''], { maxTokens: 12 }),
  ]);
  t.deepEqual([...results[0].sequences[0].tokens], [...results[2].sequences[0].tokens]);
  t.notDeepEqual([...results[0].sequences[0].tokens], [...results[1].sequences[0].tokens]);
  await Promise.all([ctx.dispose(), other.dispose()]);
});

maybe('log-probabilities: greedy tokens unchanged, values <= 0, renormalised under a constraint', async (t) => {
  const ctx = await model.createContext({ contextSize: 512, sequences: 2, threads: THREADS });
  const plain = await ctx.generate([''], { maxTokens: 12 });
  const withLp = await ctx.generate([''], { maxTokens: 12, logprobs: true });
  t.deepEqual([...withLp.sequences[0].tokens], [...plain.sequences[0].tokens]);
  t.is(plain.sequences[0].logprobs, undefined);
  const lps = withLp.sequences[0].logprobs!;
  t.is(lps.length, 12);
  for (const lp of lps) t.true(Number.isFinite(lp) && lp <= 0);
  // Under a grammar that allows fewer tokens, the same first token is at least as likely.
  const grammar = createGrammar(model, 'root ::= " Once upon a time" ("," | ".")');
  const forced = await ctx.generate(['', ''], { maxTokens: 12, logprobs: true, constraint: [grammar, null], temperature: 0 });
  t.is(forced.sequences[0].tokens[0], withLp.sequences[0].tokens[0]);
  t.true(forced.sequences[0].logprobs![0] >= lps[0] - 1e-5);
  t.deepEqual([...forced.sequences[1].logprobs!].map((x) => x.toFixed(4)), [...lps].map((x) => x.toFixed(4)));
  // Sampling keeps one value per token too.
  const sampled = await ctx.generate(['Once'], { maxTokens: 10, logprobs: true, temperature: 0.8, seed: 3 });
  t.is(sampled.sequences[0].logprobs!.length, sampled.sequences[0].tokens.length);
  await ctx.dispose();
});
