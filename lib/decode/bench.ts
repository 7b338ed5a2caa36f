/**
 * The per-format decode benchmark behind bench/constraints.ts and `mfner bench formats`: mask time
 * per token with the Qwen2 152k vocabulary (format constraint vs llama.cpp's GBNF for the same
 * language), and decode tokens/s constrained ÷ unconstrained on a made model, with and without
 * jump-forward, 1 and 8 sequences, measured in the same run, runs interleaved, every run decoding
 * the same number of tokens per sequence (ignoreEos).
 */
import { getFormat } from '../formats/index.ts';
import { FORMAT_NAMES, type FormatName } from '../formats/types.ts';
import { Model, createGrammar, madeModelPath, type MadeShape } from '../native/index.ts';
import type { NativeConstraint } from '../native/types.ts';
import { constraintBench, createFormatConstraint, tokenTrie, type FormatConstraint } from './constraint.ts';

export interface FormatBenchOptions {
  /** Made Qwen2 shape for the decode figures (default qwen2.5-0.5b). */
  shape?: MadeShape;
  threads?: number;
  /** Tokens per sequence per run (default 48). */
  tokens?: number;
  /** Interleaved repetitions of each decode run (default 2). */
  reps?: number;
  /** GBNF mask steps per format (slow; default 24). */
  gbnfSteps?: number;
  formats?: readonly FormatName[];
  /**
   * Sampling temperature of the decode runs (default 0, greedy). A model with random weights
   * ends constrained answers early under greedy; sampling (e.g. 1) keeps them going, so the
   * constrained runs measure live masks rather than finished answers.
   */
  temperature?: number;
  /** Skip the decode runs (mask figures only). */
  masksOnly?: boolean;
  onRow?: (row: FormatBenchRow) => void;
}

export interface Rate {
  tokensPerSecond: number;
  decodeCalls: number;
  generatedTokens: number;
  forcedTokens: number;
}

export interface FormatBenchRow {
  format: FormatName;
  mask: { meanUs: number; p95Us: number; steps: number };
  gbnfMask: { meanUs: number; p95Us: number; steps: number };
  /** tokens/s ratios against the unconstrained run of the same batch size, same run. */
  ratio?: { noJump1: number; jump1: number; noJump8: number; jump8: number; gbnf1: number };
  /** decode calls per generated token, constrained with jump-forward and without (1 sequence). */
  callsPerToken?: { noJump: number; jump: number };
  rates?: Record<'none1' | 'noJump1' | 'jump1' | 'none8' | 'noJump8' | 'jump8' | 'gbnf1', Rate>;
}

export interface FormatBenchResult {
  vocabulary: number;
  trieNodes: number;
  trieBuildMs: number;
  shape: string;
  threads: number;
  tokens: number;
  reps: number;
  temperature: number;
  rows: FormatBenchRow[];
}

export const BENCH_SENTENCES = [
  'These results suggest that BCL6 plays a role in activated lymphocytes as an immediate early gene.',
  'IL-2 (PHA) induced 5 µg/ml of TNF-α in β-cells; c-fos was not expressed in these T cells.',
];
const TYPES = ['cell_line', 'protein', 'RNA', 'DNA', 'cell_type'];

function stats(xs: readonly number[]): { meanUs: number; p95Us: number; steps: number } {
  const s = [...xs].sort((a, b) => a - b);
  return { meanUs: s.reduce((a, b) => a + b, 0) / Math.max(1, s.length), p95Us: s[Math.min(s.length - 1, Math.floor(0.95 * s.length))] ?? 0, steps: s.length };
}

/** A random valid answer (a random allowed token at each step), deterministic per seed. */
function walk(c: FormatConstraint, eog: Set<number>, seed: number): number[] {
  let a = seed;
  const random = () => (a = (a * 1103515245 + 12345) % 2147483648) / 2147483648;
  const tokens: number[] = [];
  for (;;) {
    const allowed = [...c.allowed(Int32Array.from(tokens))!];
    const ends = allowed.filter((t) => eog.has(t));
    if (ends.length && (ends.length === allowed.length || random() < 0.05)) return tokens;
    const choices = allowed.filter((t) => !eog.has(t));
    tokens.push(choices[Math.floor(random() * choices.length)]);
  }
}

function typesOf(format: FormatName): string[] {
  return getFormat(format).capabilities.perType ? ['protein'] : TYPES;
}

export async function benchFormats(options: FormatBenchOptions = {}): Promise<FormatBenchResult> {
  const shape = options.shape ?? 'qwen2.5-0.5b';
  const threads = options.threads ?? 1;
  const maxTokens = options.tokens ?? 48;
  const reps = options.reps ?? 2;
  const gbnfSteps = options.gbnfSteps ?? 24;
  const formats = options.formats ?? FORMAT_NAMES;
  const temperature = options.temperature ?? 0;

  const vocabModel = await Model.load(await madeModelPath('qwen2', 'tiny'), { vocabOnly: true });
  const trieInfo = tokenTrie(vocabModel).info();
  const eog = new Set(trieInfo.eog);
  const model = options.masksOnly ? undefined : await Model.load(await madeModelPath('qwen2', shape));
  const ctx = model ? await model.createContext({ contextSize: 8 * (64 + maxTokens) + 64, sequences: 8, threads }) : undefined;
  const rows: FormatBenchRow[] = [];
  try {
    for (const format of formats) {
      const types = typesOf(format);
      const mine: number[] = [];
      const gbnf: number[] = [];
      for (const [i, text] of BENCH_SENTENCES.entries()) {
        const c = createFormatConstraint(vocabModel, { format, text, types, maxEntities: 8 });
        const tokens = Int32Array.from(walk(c, eog, 17 + i));
        mine.push(...constraintBench(vocabModel, c, tokens));
        if (i === 0) gbnf.push(...constraintBench(vocabModel, createGrammar(vocabModel, c.toGbnf()), tokens.slice(0, gbnfSteps)));
      }
      const row: FormatBenchRow = { format, mask: stats(mine), gbnfMask: stats(gbnf) };
      if (ctx && model) {
        const c = createFormatConstraint(model, { format, text: BENCH_SENTENCES[0], types, maxEntities: 8 });
        const g = createGrammar(model, c.toGbnf());
        const runs = {
          none1: [1, null, false],
          noJump1: [1, c, false],
          jump1: [1, c, true],
          none8: [8, null, false],
          noJump8: [8, c, false],
          jump8: [8, c, true],
          gbnf1: [1, g, false],
        } as const satisfies Record<string, readonly [number, NativeConstraint | null, boolean]>;
        const acc = Object.fromEntries(Object.keys(runs).map((k) => [k, { ms: 0, tokens: 0, calls: 0, forced: 0 }])) as Record<
          keyof typeof runs,
          { ms: number; tokens: number; calls: number; forced: number }
        >;
        for (let r = 0; r < reps; r++) {
          for (const [key, [n, constraint, jumpForward]] of Object.entries(runs) as [keyof typeof runs, (typeof runs)[keyof typeof runs]][]) {
            const prompts = Array.from({ length: n }, (_, i) => `Text: ${BENCH_SENTENCES[i % BENCH_SENTENCES.length]}\nAnswer:`);
            // ignoreEos: every run decodes maxTokens per sequence, so runs compare per-step cost at
            // the same batch occupancy; a constrained sequence whose answer ended keeps stepping
            // (its constraint sampler still runs on every step).
            const out = await ctx.generate(prompts, { maxTokens, constraint, jumpForward, ignoreEos: true, temperature, seed: 7 + r });
            acc[key].ms += out.timings.generateMs;
            acc[key].tokens += out.timings.generatedTokens;
            acc[key].calls += out.timings.decodeCalls;
            acc[key].forced += out.timings.forcedTokens;
          }
        }
        const rate = (k: keyof typeof runs): Rate => ({
          tokensPerSecond: (1000 * acc[k].tokens) / acc[k].ms,
          decodeCalls: acc[k].calls / reps,
          generatedTokens: acc[k].tokens / reps,
          forcedTokens: acc[k].forced / reps,
        });
        const rates = Object.fromEntries(Object.keys(runs).map((k) => [k, rate(k as keyof typeof runs)])) as NonNullable<FormatBenchRow['rates']>;
        row.rates = rates;
        row.ratio = {
          noJump1: rates.noJump1.tokensPerSecond / rates.none1.tokensPerSecond,
          jump1: rates.jump1.tokensPerSecond / rates.none1.tokensPerSecond,
          noJump8: rates.noJump8.tokensPerSecond / rates.none8.tokensPerSecond,
          jump8: rates.jump8.tokensPerSecond / rates.none8.tokensPerSecond,
          gbnf1: rates.gbnf1.tokensPerSecond / rates.none1.tokensPerSecond,
        };
        row.callsPerToken = {
          noJump: rates.noJump1.decodeCalls / Math.max(1, rates.noJump1.generatedTokens),
          jump: rates.jump1.decodeCalls / Math.max(1, rates.jump1.generatedTokens),
        };
      }
      rows.push(row);
      options.onRow?.(row);
    }
  } finally {
    await ctx?.dispose();
    await model?.dispose();
    await vocabModel.dispose();
  }
  return { vocabulary: vocabModel.metadata.vocabularySize, trieNodes: trieInfo.nodes, trieBuildMs: trieInfo.buildMs, shape, threads, tokens: maxTokens, reps, temperature, rows };
}

/** The result as one Markdown table (plus a header line and a footnote). */
export function formatBenchTable(result: FormatBenchResult): string {
  const decode = result.rows.some((r) => r.ratio);
  const head = decode
    ? '| format | mask µs mean | p95 | GBNF µs mean | p95 | ÷ 1 seq | ÷ 1 seq JF | ÷ 8 seq | ÷ 8 seq JF | GBNF ÷ 1 seq | calls/token JF (no JF) |\n|---|---|---|---|---|---|---|---|---|---|---|'
    : '| format | mask µs mean | p95 | GBNF µs mean | p95 |\n|---|---|---|---|---|';
  const lines = result.rows.map((r) => {
    const cells = [r.format, r.mask.meanUs.toFixed(1), r.mask.p95Us.toFixed(1), r.gbnfMask.meanUs.toFixed(0), r.gbnfMask.p95Us.toFixed(0)];
    if (r.ratio && r.callsPerToken) {
      const x = (v: number) => (v > 100 || !Number.isFinite(v) ? '>100 (all forced)' : v.toFixed(3));
      cells.push(x(r.ratio.noJump1), x(r.ratio.jump1), x(r.ratio.noJump8), x(r.ratio.jump8), x(r.ratio.gbnf1));
      cells.push(`${r.callsPerToken.jump.toFixed(2)} (${r.callsPerToken.noJump.toFixed(2)})`);
    }
    return `| ${cells.join(' | ')} |`;
  });
  const top = `Qwen2 vocabulary: ${result.vocabulary} tokens, trie ${result.trieNodes} nodes built in ${result.trieBuildMs.toFixed(0)} ms`;
  const foot = decode
    ? `shape ${result.shape}, threads ${result.threads}, ${result.tokens} tokens per sequence, ${result.reps} interleaved runs, ${result.temperature > 0 ? `temperature ${result.temperature}` : 'greedy'}; ÷ = constrained ÷ unconstrained tokens/s in this run, every run ${result.tokens} tokens per sequence (ignoreEos); JF = jump-forward (forced tokens count as generated); calls/token = llama_decode calls per generated token (incl. the prompt's).`
    : 'mask figures only';
  return `${top}\n\n${head}\n${lines.join('\n')}\n\n${foot}\n`;
}
