/**
 * Jump-forward: text a format constraint forces is fed without sampling.
 *  - the engine: at every state of random walks, the forced bytes are what every allowed token
 *    agrees with, the fed tokens spell a prefix of them, `end` only where nothing but
 *    end-of-generation is allowed;
 *  - 'verify' gives the very tokens (and logprobs) of no jump-forward, greedy and sampled, in every
 *    format, in no more llama_decode calls;
 *  - 'force' gives valid answers in every format in fewer calls, the same across
 *    batch sizes, and leaves GBNF grammars alone.
 */
import test from 'ava';
import { createFormatConstraint, tokenTrie } from '../../lib/decode/index.ts';
import { getFormat } from '../../lib/formats/index.ts';
import { FORMAT_NAMES, type FormatName } from '../../lib/formats/types.ts';
import { Model, createGrammar, type Context } from '../../lib/native/index.ts';
import { THREADS, stories } from '../native/helpers.ts';
import { SENTENCES, answerText, loadModels, randomWalk, rng, typesFor } from './helpers.ts';

const models = loadModels();

test('forced bytes: every allowed token agrees with them, fed tokens spell a prefix, end only where only EOG is allowed', async (t) => {
  let forcedStates = 0;
  for (const { name, model } of await models) {
    const eog = new Set(tokenTrie(model).info().eog);
    for (const format of FORMAT_NAMES) {
      const text = SENTENCES[2];
      const types = typesFor(format, 1);
      const c = createFormatConstraint(model, { format, text, types, maxEntities: 3, maxLayers: 2 });
      const walk = randomWalk(c, eog, rng(11 + format.length), 0.3);
      for (let i = 0; i <= walk.length; i++) {
        const prefix = Int32Array.from(walk.slice(0, i));
        const f = c.forced(prefix)!;
        const allowed = [...c.allowed(prefix)!];
        const where = `${name} ${format} step ${i}`;
        const onlyEnd = allowed.length > 0 && allowed.every((x) => eog.has(x));
        t.is(f.end, onlyEnd, where);
        if (f.bytes.length === 0) {
          t.is(f.tokens.length, 0, where);
          continue;
        }
        forcedStates++;
        t.false(allowed.some((x) => eog.has(x)), where);
        for (const x of allowed) {
          const piece = model.tokenPieces([x], { special: true })[0];
          const n = Math.min(piece.length, f.bytes.length);
          if (!piece.subarray(0, n).equals(f.bytes.subarray(0, n))) t.fail(`${where}: an allowed token disagrees with the forced bytes`);
        }
        const spelled = Buffer.concat(model.tokenPieces([...f.tokens], { special: true }));
        t.true(spelled.length <= f.bytes.length && spelled.equals(f.bytes.subarray(0, spelled.length)), where);
        t.notDeepEqual(c.allowed(Int32Array.from([...prefix, ...f.tokens])), null, where);
      }
    }
  }
  t.true(forcedStates > 100);
});

function parse(format: FormatName, answer: string, text: string, types: string[]) {
  return format === 'conv_term' ? getFormat(format).parse([answer], text, types) : getFormat(format).parse(answer, text, types);
}

async function withStories(fn: (model: Model, ctx: Context) => Promise<void>, batchSize?: number): Promise<void> {
  const model = await Model.load(stories.path);
  const ctx = await model.createContext({ contextSize: 4096, sequences: 4, threads: THREADS, ...(batchSize ? { batchSize } : {}) });
  try {
    await fn(model, ctx);
  } finally {
    await ctx.dispose();
  }
}

test("'verify': the same tokens and logprobs as without jump-forward, greedy and sampled, every format, no more decode calls", async (t) => {
  if (stories.missing) return t.pass(stories.missing);
  await withStories(async (model, ctx) => {
    let callsOff = 0;
    let callsVerify = 0;
    for (const format of FORMAT_NAMES) {
      const text = SENTENCES[1];
      const c = createFormatConstraint(model, { format, text, types: typesFor(format), maxEntities: 4, maxLayers: 2 });
      const prompts = [`Text: ${text}\n`, `Text: ${SENTENCES[0]}\n`];
      for (const sampling of [{ temperature: 0 }, { temperature: 0.8, seed: 5 }]) {
        const opts = { ...sampling, maxTokens: 300, constraint: c, logprobs: true };
        const off = await ctx.generate(prompts, { ...opts, jumpForward: false });
        const on = await ctx.generate(prompts, { ...opts, jumpForward: 'verify' });
        for (const [i, seq] of on.sequences.entries()) {
          t.deepEqual([...seq.tokens], [...off.sequences[i].tokens], `${format} ${JSON.stringify(sampling)}`);
          t.is(seq.finishReason, off.sequences[i].finishReason);
          const a = [...seq.logprobs!];
          const b = [...off.sequences[i].logprobs!];
          t.true(a.length === b.length && a.every((x, k) => Math.abs(x - b[k]) < 1e-2), `${format} logprobs (batch shapes round differently)`);
        }
        t.true(on.timings.decodeCalls <= off.timings.decodeCalls, format);
        t.is(off.timings.forcedTokens, 0);
        callsOff += off.timings.decodeCalls;
        callsVerify += on.timings.decodeCalls;
      }
    }
    t.true(callsVerify < callsOff);
  });
});

test("'force': valid grounded answers in every format, fewer decode calls and sampled tokens, forced logprobs 0", async (t) => {
  if (stories.missing) return t.pass(stories.missing);
  await withStories(async (model, ctx) => {
    let sameEntities = 0;
    for (const format of FORMAT_NAMES) {
      const text = SENTENCES[1];
      const types = typesFor(format);
      const c = createFormatConstraint(model, { format, text, types, maxEntities: 4, maxLayers: 2 });
      const prompt = `Text: ${text}\n`;
      const off = await ctx.generate([prompt], { maxTokens: 400, constraint: c, jumpForward: false });
      const on = await ctx.generate([prompt], { maxTokens: 400, constraint: c, logprobs: true, jumpForward: 'force' });
      const seq = on.sequences[0];
      t.is(seq.finishReason, 'eog', format);
      const parsed = parse(format, answerText(model, [...seq.tokens]), text, types);
      t.deepEqual(parsed.problems, [], format);
      for (const e of parsed.entities) t.true(e.spans.every(([s, end]) => end > s && text.slice(s, end).length > 0), format);
      t.true(on.timings.forcedTokens > 0, format);
      t.true(on.timings.decodeCalls < off.timings.decodeCalls, format);
      t.true(on.timings.generatedTokens - on.timings.forcedTokens < off.timings.generatedTokens, format);
      t.true([...seq.logprobs!].filter((x) => x === 0).length >= on.timings.forcedTokens, format);
      const offParsed = parse(format, answerText(model, [...off.sequences[0].tokens]), text, types);
      if (JSON.stringify(offParsed.entities) === JSON.stringify(parsed.entities)) sameEntities++;
    }
    t.log(`stories260K greedy: ${sameEntities}/12 formats give the same entities with 'force' as without jump-forward`);
  });
});

test("'force': the same answers whatever the batch size and the other sequences (forced runs split over several decodes)", async (t) => {
  if (stories.missing) return t.pass(stories.missing);
  const collect = async (batchSize: number): Promise<string[]> => {
    const out: string[] = [];
    await withStories(async (model, ctx) => {
      for (const format of ['multi_code', 'multi_brat', 'single_tag'] as const) {
        const cs = SENTENCES.map((text) => createFormatConstraint(model, { format, text, types: typesFor(format), maxEntities: 3 }));
        const prompts = SENTENCES.map((text) => `Text: ${text}\n`);
        const all = await ctx.generate(prompts, { maxTokens: 300, constraint: cs });
        const one = await ctx.generate([prompts[2]], { maxTokens: 300, constraint: cs[2] });
        t.deepEqual([...one.sequences[0].tokens], [...all.sequences[2].tokens], `${format} batch ${batchSize}`);
        out.push(...all.sequences.map((s) => s.tokens.join(',')));
      }
    }, batchSize);
    return out;
  };
  t.deepEqual(await collect(16), await collect(512));
});

test('GBNF grammars force nothing; bad jumpForward values are refused', async (t) => {
  if (stories.missing) return t.pass(stories.missing);
  await withStories(async (model, ctx) => {
    const text = SENTENCES[0];
    const c = createFormatConstraint(model, { format: 'multi_term', text, types: typesFor('multi_term'), maxEntities: 2 });
    const g = createGrammar(model, c.toGbnf());
    const off = await ctx.generate(['Text: x\n'], { maxTokens: 120, constraint: g, jumpForward: false });
    const on = await ctx.generate(['Text: x\n'], { maxTokens: 120, constraint: g });
    t.deepEqual([...on.sequences[0].tokens], [...off.sequences[0].tokens]);
    t.is(on.timings.forcedTokens, 0);
    t.is(on.timings.decodeCalls, off.timings.decodeCalls);
    await t.throwsAsync(ctx.generate(['x'], { maxTokens: 4, jumpForward: 'sometimes' as never }), { code: 'ERR_INVALID_ARG' } as never);
  });
});
