/**
 * Shared-prefix packing (packExamples' sharePrefixes, patch 0011): examples that begin with the
 * same tokens (system turn, instruction) have those rows computed once. The claim is exactness:
 * every sequence sees the rows it would see unshared, no scored row is shared, and the native step
 * gives the unshared loss, per-row NLL and gradients.
 */
import test from 'ava';
import fc from 'fast-check';
import { Model } from '../../lib/native/index.ts';
import { FULL_FINE_TUNING_LOAD, hasTrainer, packExamples, type MicroBatch, type TokenizedExample } from '../../lib/train/index.ts';
import { trainerConstructor } from '../../lib/train/native.ts';
import { madeF32Qwen, relDiff } from './helpers.ts';

function setOf(b: MicroBatch, row: number): number[] {
  if (!b.sequenceOffsets || !b.sequenceIds) return [b.sequences[row]];
  return Array.from(b.sequenceIds.subarray(b.sequenceOffsets[row], b.sequenceOffsets[row + 1]));
}

function example(tokens: number[], promptLength: number): TokenizedExample {
  const scored = new Uint8Array(tokens.length);
  scored.fill(1, Math.min(promptLength, tokens.length));
  return { tokens: Int32Array.from(tokens), scored, targets: tokens.length - Math.min(promptLength, tokens.length) };
}

/** Examples from a few shared prompt heads, each with its own text and answer (duplicates allowed). */
const examplesArb = fc
  .record({
    heads: fc.array(fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 0, maxLength: 8 }), { minLength: 1, maxLength: 3 }),
    items: fc.array(fc.record({ head: fc.nat(), text: fc.array(fc.integer({ min: 1, max: 6 }), { maxLength: 6 }), answer: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 4 }) }), { minLength: 1, maxLength: 12 }),
    context: fc.integer({ min: 20, max: 60 }),
  })
  .map(({ heads, items, context }) => ({
    context,
    examples: items.map(({ head, text, answer }) => {
      const prompt = [...heads[head % heads.length], ...text];
      return example([...prompt, ...answer], prompt.length);
    }),
  }));

test('shared packing: each sequence sees exactly its own tokens at its positions, labels unchanged, no scored row shared', (t) => {
  fc.assert(
    fc.property(examplesArb, ({ examples, context }) => {
      const indices = examples.map((_, i) => i);
      const shared = packExamples(examples, indices, context, { sharePrefixes: true });
      const plain = packExamples(examples, indices, context);
      const labelsOf = (bs: MicroBatch[]) => bs.flatMap((b) => Array.from(b.labels).flatMap((l, i) => (l >= 0 ? [`${b.examples[b.sequences[i]]}:${b.positions[i]}:${l}`] : []))).sort();
      if (JSON.stringify(labelsOf(shared)) !== JSON.stringify(labelsOf(plain))) return false;
      for (const b of shared) {
        const n = b.tokens.length;
        if (n > context || b.exampleTokens !== b.examples.reduce((s, e) => s + examples[e].tokens.length, 0)) return false;
        const sets = Array.from({ length: n }, (_, i) => new Set(setOf(b, i)));
        for (let i = 0; i < n; i++) if (b.labels[i] >= 0 && sets[i].size !== 1) return false;
        for (let s = 0; s < b.examples.length; s++) {
          const own = Array.from({ length: n }, (_, i) => i).filter((i) => sets[i].has(s));
          const e = examples[b.examples[s]];
          // its rows, in row order, are its tokens at positions 0..len-1
          if (own.length !== e.tokens.length || own.some((r, k) => b.positions[r] !== k || b.tokens[r] !== e.tokens[k])) return false;
          // the training mask (patch 0011): row r sees row q when their sets meet and pos q <= pos r;
          // for every row of s that must be exactly s's rows up to it
          for (const r of own) {
            const seen = Array.from({ length: n }, (_, q) => q).filter((q) => b.positions[q] <= b.positions[r] && [...sets[q]].some((x) => sets[r].has(x)));
            if (sets[r].size === 1 && JSON.stringify(seen) !== JSON.stringify(own.filter((q) => b.positions[q] <= b.positions[r]))) return false;
          }
        }
      }
      return shared.reduce((s, b) => s + b.tokens.length, 0) <= plain.reduce((s, b) => s + b.tokens.length, 0);
    }),
    { numRuns: 300, seed: 11 },
  );
  t.pass();
});

test('shared packing computes a common head once', (t) => {
  const head = [9, 8, 7, 6, 5];
  const a = example([...head, 1, 2, 3], 6);
  const b = example([...head, 4, 2], 6);
  const [mb] = packExamples([a, b], [0, 1], 64, { sharePrefixes: true });
  // the head and the next token of each: a's text begins at 1, b's at 4, so 5 shared rows
  t.is(mb.tokens.length, 5 + 3 + 2);
  t.deepEqual(setOf(mb, 0), [0, 1]);
  t.deepEqual(Array.from(mb.positions), [0, 1, 2, 3, 4, 5, 6, 7, 5, 6]);
  // an answer is never shared, even between identical examples
  const [dup] = packExamples([a, a], [0, 1], 64, { sharePrefixes: true });
  t.is(dup.targets, 2 * a.targets);
  t.is(dup.tokens.length, 5 + 2 * 3);
});

test('native step: shared-prefix batches give the unshared loss, row NLL and gradients (patch 0011)', async (t) => {
  if (!hasTrainer()) return t.fail('the addon has no Trainer');
  const model = await Model.load(await madeF32Qwen('small', { nEmbd: 32, nLayer: 2, nHead: 4, nHeadKv: 2, nFf: 64 }), FULL_FINE_TUNING_LOAD);
  const trainer = new (trainerConstructor())(model.native, { method: 'full', contextSize: 128, threads: 1, modelPath: model.path });
  try {
    // two prompt heads under a common root (a prefix tree two levels deep), five examples
    const root = [151644, 8948, 198, 2610, 525, 264];
    const heads = [[...root, 11, 1879, 25], [...root, 3555, 374, 279, 1850]];
    const texts = [[40, 1079], [264, 1273, 13], [1879, 0], [3555], [30, 40, 1079, 264]];
    const examples = texts.map((text, i) => {
      const prompt = [...heads[i % 2], ...text];
      return example([...prompt, 77091, 100 + i, 151645], prompt.length);
    });
    const idx = examples.map((_, i) => i);
    const [shared] = packExamples(examples, idx, 128, { sharePrefixes: true });
    const [plain] = packExamples(examples, idx, 128);
    t.truthy(shared.sequenceOffsets, 'rows are shared');
    t.true(shared.tokens.length < plain.tokens.length - 2 * root.length);
    const rs = await trainer.step({ ...shared, backward: false, apply: false, rowNll: true });
    const rp = await trainer.step({ ...plain, backward: false, apply: false, rowNll: true });
    t.true(Math.abs(rs.loss - rp.loss) <= 1e-5 * Math.abs(rp.loss), `loss ${rs.loss} vs ${rp.loss}`);
    const nllOf = (b: MicroBatch, nll: Float32Array) => new Map(Array.from(b.labels).flatMap((l, i) => (l >= 0 ? [[`${b.sequences[i]}:${b.positions[i]}`, nll[i]] as const] : [])));
    const ns = nllOf(shared, rs.rowNll!);
    const np = nllOf(plain, rp.rowNll!);
    t.is(ns.size, np.size);
    for (const [k, v] of np) t.true(Math.abs(ns.get(k)! - v) <= 1e-4 * Math.max(1, Math.abs(v)), `row ${k}: ${ns.get(k)} vs ${v}`);
    for (const name of ['token_embd.weight', 'blk.0.attn_q.weight', 'blk.0.attn_k.weight', 'blk.1.attn_v.weight', 'blk.1.ffn_down.weight']) {
      await trainer.step({ ...shared, backward: true, apply: false, resetGrads: true });
      const gs = trainer.gradient(name)!;
      await trainer.step({ ...plain, backward: true, apply: false, resetGrads: true });
      const gp = trainer.gradient(name)!;
      t.true(relDiff(gs, gp) < 1e-4, `${name}: relative difference ${relDiff(gs, gp)}`);
    }
    // malformed sets are refused before anything runs, and a set llama.cpp's batch rules reject is an error, not a crash
    await t.throwsAsync(async () => trainer.step({ ...shared, sequenceIds: shared.sequenceIds!.slice(1), backward: false, apply: false }), { code: 'ERR_INVALID_ARG' });
    // rows of sequence 0 out of position order (a shared row after one of its own)
    const backwards = { tokens: Int32Array.from([1, 2, 3]), positions: Int32Array.from([1, 0, 2]), sequences: Int32Array.from([0, 0, 1]), labels: Int32Array.from([-1, -1, -1]), sequenceOffsets: Int32Array.from([0, 2, 3, 4]), sequenceIds: Int32Array.from([0, 1, 0, 1]) };
    await t.throwsAsync(async () => trainer.step({ ...backwards, backward: false, apply: false }), { code: 'ERR_TRAIN_STEP' });
    // and the trainer still works
    const again = await trainer.step({ ...shared, backward: false, apply: false });
    t.is(again.loss, rs.loss);
  } finally {
    trainer.dispose();
    await model.dispose();
  }
});
