/**
 * Corrupt GGUF headers never kill the process (issue 15, item 1). Mutants of a made tiny qwen2
 * model (every header value: 0, 1, huge, negative, NaN, wrong type, array/scalar swaps, removed,
 * doubled; tokenizer arrays cut and duplicated; bad tensor infos) are loaded and asked for two
 * tokens in child processes, each looping over many mutants; a child that dies by a signal names
 * the mutant that killed it. Coded errors are fine.
 *
 * CI runs the lean subset (about 110 mutants, ~20 s on 2 cores). MFNER_FUZZ=full runs all (~650);
 * MFNER_FUZZ=<n> runs all plus n seeded random ones (MFNER_FUZZ_SEED, default 1).
 */
import test from 'ava';
import path from 'node:path';
import { Model, MfnerError, madeModelPath } from '../../lib/native/index.ts';
import { T, readGguf, writeGguf, type GgufFile, type GgufKv } from './gguf-edit.ts';
import { fuzzMutants } from './gguf-mutants.ts';
import { runFuzz } from './fuzz-runner.ts';
import { THREADS, tempDir } from './helpers.ts';

const mode = process.env.MFNER_FUZZ ?? 'lean';
const seed = Number(process.env.MFNER_FUZZ_SEED ?? 1);

test('mutated GGUF headers: no process dies by a signal, every mutant ends ok or with a coded error', async (t) => {
  t.timeout(mode === 'lean' ? 180_000 : 3_600_000);
  const modelPath = await madeModelPath('qwen2', 'tiny');
  const file = readGguf(modelPath);
  const mutants = fuzzMutants(file, mode, seed);
  t.true(mutants.length > (mode === 'lean' ? 80 : 500), 'the mutant list shrank');
  const started = Date.now();
  const outcomes = await runFuzz({ modelPath, dir: tempDir('mfner-fuzz-'), mode, seed, count: mutants.length, children: 2, mutantTimeoutMs: 60_000 });
  t.is(outcomes.length, mutants.length, 'every mutant has an outcome');
  const bad = outcomes.filter((o) => !/^(ok|ERR_[A-Z_]+)$/.test(o.outcome));
  const count = (re: RegExp) => outcomes.filter((o) => re.test(o.outcome)).length;
  const codes = new Map<string, number>();
  for (const o of outcomes) codes.set(o.outcome, (codes.get(o.outcome) ?? 0) + 1);
  t.log(
    `${mode}: ${outcomes.length} mutants tried in ${((Date.now() - started) / 1000).toFixed(0)} s: ` +
      `${count(/^signal:/)} signals, ${count(/^hang$/)} hangs, ${count(/^ERR_/)} coded errors, ${count(/^ok$/)} loaded and generated ` +
      `(${[...codes].map(([c, n]) => `${c} ${n}`).join(', ')})`,
  );
  for (const o of bad) t.log(`mutant ${o.index} (${mutants[o.index].label}): ${o.outcome}`);
  t.deepEqual(bad.map((o) => `${mutants[o.index].label}: ${o.outcome}`), []);
  // The values that aborted the pinned llama.cpp before mfner checked them are refused now.
  const outcomeOf = (label: string) => outcomes[mutants.findIndex((m) => m.label === label)]?.outcome;
  for (const label of [
    'qwen2.block_count: 0',
    'qwen2.block_count: 513',
    'qwen2.attention.layer_norm_rms_epsilon: NaN',
    'qwen2.attention.layer_norm_rms_epsilon: -1',
    'qwen2.rope.dimension_count: 0',
    'tokenizer.ggml.tokens: item 1 duplicates item 0',
  ]) {
    t.is(outcomeOf(label), 'ERR_MODEL_LOAD', label);
  }
});

/** The made model with one pair replaced (or added). */
function mutant(file: GgufFile, dir: string, name: string, kv: GgufKv): string {
  const p = path.join(dir, `${name}.gguf`);
  const kvs = file.kvs.some((x) => x.key === kv.key) ? file.kvs.map((x) => (x.key === kv.key ? kv : x)) : [...file.kvs, kv];
  writeGguf(p, file, kvs);
  return p;
}

test('a header value llama.cpp would abort on is ERR_MODEL_LOAD naming the key, never the value', async (t) => {
  const file = readGguf(await madeModelPath('qwen2', 'tiny'));
  const dir = tempDir();
  const tokens = file.kvs.find((kv) => kv.key === 'tokenizer.ggml.tokens')!.value as { elementType: typeof T.str; items: string[] };
  const cases: [string, GgufKv][] = [
    ['qwen2.block_count', { key: 'qwen2.block_count', type: T.u32, value: 0 }],
    ['qwen2.block_count', { key: 'qwen2.block_count', type: T.u32, value: 513 }],
    ['qwen2.attention.layer_norm_rms_epsilon', { key: 'qwen2.attention.layer_norm_rms_epsilon', type: T.f32, value: NaN }],
    ['qwen2.attention.layer_norm_rms_epsilon', { key: 'qwen2.attention.layer_norm_rms_epsilon', type: T.f32, value: -1e-6 }],
    ['qwen2.attention.head_count_kv', { key: 'qwen2.attention.head_count_kv', type: T.arr, value: { elementType: T.u32, items: [2, 0] } }],
    ['qwen2.attention.head_count_kv', { key: 'qwen2.attention.head_count_kv', type: T.u32, value: 3 }],
    ['qwen2.rope.dimension_count', { key: 'qwen2.rope.dimension_count', type: T.u32, value: 9 }],
    ['qwen2.attention.key_length', { key: 'qwen2.attention.key_length', type: T.u32, value: 0 }],
    ['qwen2.expert_used_count', { key: 'qwen2.expert_count', type: T.u32, value: 1 }],
    ['qwen2.expert_group_count', { key: 'qwen2.expert_group_count', type: T.u32, value: 1 }],
    ['qwen2.nextn_predict_layers', { key: 'qwen2.nextn_predict_layers', type: T.u32, value: 3 }],
    ['qwen2.rope.scaling.type', { key: 'qwen2.rope.scaling.type', type: T.str, value: 'mfner-secret-value' }],
    ['tokenizer.ggml.tokens', { key: 'tokenizer.ggml.tokens', type: T.arr, value: { elementType: T.str, items: [tokens.items[0], tokens.items[0], ...tokens.items.slice(2)] } }],
  ];
  for (const [i, [key, kv]] of cases.entries()) {
    const p = mutant(file, dir, `case-${i}`, kv);
    const err = (await t.throwsAsync(Model.load(p), { instanceOf: MfnerError }, key)) as MfnerError;
    t.is(err.code, 'ERR_MODEL_LOAD', key);
    t.true(err.message.includes(key), `${key}: ${err.message}`);
    t.false(err.message.includes('mfner-secret-value'), 'the value is not in the message');
  }
  // The tokenizer alone needs no hyper-parameters: a vocabOnly load ignores them, as llama.cpp does.
  const vocabOnly = await Model.load(path.join(dir, 'case-0.gguf'), { vocabOnly: true });
  t.is(vocabOnly.metadata.vocabularySize, tokens.items.length);
  await vocabOnly.dispose();
  // The unchanged model still loads and generates.
  const ok = path.join(dir, 'ok.gguf');
  writeGguf(ok, file);
  const model = await Model.load(ok);
  const ctx = await model.createContext({ contextSize: 64, threads: THREADS });
  t.is((await ctx.generate(['Hi'], { maxTokens: 2, ignoreEos: true })).sequences[0].tokens.length, 2);
  await model.dispose();
});
