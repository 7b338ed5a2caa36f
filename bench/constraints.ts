/**
 * bench/constraints: per format, the cost of the format constraint with a 152k (Qwen2) vocabulary
 * and what it does to decoding speed, against llama.cpp's GBNF for the same language, in one run.
 *
 *   npx tsx bench/constraints.ts [--shape qwen2.5-0.5b|tiny] [--threads 1] [--tokens 48] [--gbnf-steps 24]
 *
 * Mask: microseconds of one full-vocabulary apply of the constraint's llama_sampler (trie walk,
 * memo, compaction), at every step of a random valid answer; GBNF: llama.cpp's grammar sampler on
 * the generated grammar, same steps (first `gbnf-steps` only: it is slow). Decode: generated
 * tokens/s with the constraint ÷ without, greedy, 1 and 8 sequences, on a made model.
 */
import { parseArgs } from 'node:util';
import { constraintBench, createFormatConstraint, tokenTrie } from '../lib/decode/index.ts';
import { getFormat } from '../lib/formats/index.ts';
import { FORMAT_NAMES } from '../lib/formats/types.ts';
import { Model, createGrammar, madeModelPath, type MadeShape } from '../lib/native/index.ts';

const { values } = parseArgs({
  options: {
    shape: { type: 'string', default: 'qwen2.5-0.5b' },
    threads: { type: 'string', default: '1' },
    tokens: { type: 'string', default: '48' },
    'gbnf-steps': { type: 'string', default: '24' },
  },
});
const threads = Number(values.threads);
const maxTokens = Number(values.tokens);
const gbnfSteps = Number(values['gbnf-steps']);

const SENTENCES = [
  'These results suggest that BCL6 plays a role in activated lymphocytes as an immediate early gene.',
  'IL-2 (PHA) induced 5 µg/ml of TNF-α in β-cells; c-fos was not expressed in these T cells.',
];
const TYPES = ['cell_line', 'protein', 'RNA', 'DNA', 'cell_type'];

function stats(xs: number[]): { mean: number; p95: number } {
  const s = [...xs].sort((a, b) => a - b);
  return { mean: s.reduce((a, b) => a + b, 0) / Math.max(1, s.length), p95: s[Math.min(s.length - 1, Math.floor(0.95 * s.length))] ?? 0 };
}

function walk(c: ReturnType<typeof createFormatConstraint>, eog: Set<number>, seed: number): number[] {
  let a = seed;
  const random = () => ((a = (a * 1103515245 + 12345) % 2147483648) / 2147483648);
  const tokens: number[] = [];
  for (;;) {
    const allowed = [...c.allowed(Int32Array.from(tokens))!];
    const ends = allowed.filter((t) => eog.has(t));
    if (ends.length && (ends.length === allowed.length || random() < 0.05)) return tokens;
    const choices = allowed.filter((t) => !eog.has(t));
    tokens.push(choices[Math.floor(random() * choices.length)]);
  }
}

const vocabModel = await Model.load(await madeModelPath('qwen2', 'tiny'), { vocabOnly: true });
const trieInfo = tokenTrie(vocabModel).info();
console.log(`Qwen2 vocabulary: ${vocabModel.metadata.vocabularySize} tokens, trie ${trieInfo.nodes} nodes built in ${trieInfo.buildMs.toFixed(0)} ms`);
const eog = new Set(trieInfo.eog);

const model = await Model.load(await madeModelPath('qwen2', values.shape as MadeShape));
const ctx = await model.createContext({ contextSize: 8 * (64 + maxTokens) + 64, sequences: 8, threads });
const rate = async (n: number, constraint: unknown) => {
  const prompts = Array.from({ length: n }, (_, i) => `Text: ${SENTENCES[i % SENTENCES.length]}\nAnswer:`);
  const out = await ctx.generate(prompts, { maxTokens, constraint: constraint as never });
  return (1000 * out.timings.generatedTokens) / out.timings.generateMs;
};

console.log('\n| format | mask mean µs | mask p95 µs | GBNF mean µs | GBNF p95 µs | decode ÷ (1 seq) | decode ÷ (8 seq) | GBNF decode ÷ (1 seq) |');
console.log('|---|---|---|---|---|---|---|---|');
for (const format of FORMAT_NAMES) {
  const perType = getFormat(format).capabilities.perType;
  const types = perType ? ['protein'] : TYPES;
  const mine: number[] = [];
  const gbnf: number[] = [];
  for (const [i, text] of SENTENCES.entries()) {
    const c = createFormatConstraint(vocabModel, { format, text, types, maxEntities: 8 });
    const tokens = Int32Array.from(walk(c, eog, 17 + i));
    mine.push(...constraintBench(vocabModel, c, tokens));
    if (i === 0) {
      const g = createGrammar(vocabModel, c.toGbnf());
      gbnf.push(...constraintBench(vocabModel, g, tokens.slice(0, gbnfSteps)));
    }
  }
  const text = SENTENCES[0];
  const c = createFormatConstraint(model, { format, text, types, maxEntities: 8 });
  const g = createGrammar(model, c.toGbnf());
  const base1 = await rate(1, null);
  const con1 = await rate(1, c);
  const base8 = await rate(8, null);
  const con8 = await rate(8, c);
  const gb1 = await rate(1, g);
  const m = stats(mine);
  const gs = stats(gbnf);
  console.log(
    `| ${format} | ${m.mean.toFixed(1)} | ${m.p95.toFixed(1)} | ${gs.mean.toFixed(0)} | ${gs.p95.toFixed(0)} | ${(con1 / base1).toFixed(3)} | ${(con8 / base8).toFixed(3)} | ${(gb1 / base1).toFixed(3)} |`,
  );
}
ctx.dispose();
console.log(`\nshape ${values.shape}, threads ${threads}, ${maxTokens} tokens per sequence; ratios are constrained ÷ unconstrained tokens/s in this run.`);
