import { getFormat } from '../../lib/formats/index.ts';
import type { FormatName } from '../../lib/formats/types.ts';
import type { FormatConstraint } from '../../lib/decode/index.ts';
import { Model, madeModelPath } from '../../lib/native/index.ts';
import { stories } from '../native/helpers.ts';

/** Sentences in the corpora's style, with multi-byte UTF-8, escapes and a code point beyond the BMP. */
export const SENTENCES = [
  'These results suggest that BCL6 plays a role in activated lymphocytes as an immediate early gene.',
  'IL-2 (PHA) induced 5 µg/ml of TNF-α in β-cells; c-fos was "not" expressed.',
  'Café naïve T cells: the 𝛼-helix of p53\\Rb binds DNA, and DNA binds it.',
  'NF-kappa B\tp65 binds the IgH enhancer.\nThe enhancer is active.',
];

export const TYPES = ['protein', 'cell_type', 'DNA'];

/** The types a format's prompt carries (single_* and conv_term: one). */
export function typesFor(format: FormatName, k = 0): string[] {
  return getFormat(format).capabilities.perType ? [TYPES[k % TYPES.length]] : TYPES;
}

export async function loadModels(): Promise<Array<{ name: string; model: Model }>> {
  const out: Array<{ name: string; model: Model }> = [];
  if (!stories.missing) out.push({ name: 'stories260K', model: await Model.load(stories.path, { vocabOnly: true }) });
  out.push({ name: 'qwen2', model: await Model.load(await madeModelPath('qwen2', 'tiny'), { vocabOnly: true }) });
  out.push({ name: 'llama3', model: await Model.load(await madeModelPath('llama', 'tiny'), { vocabOnly: true }) });
  return out;
}

/**
 * The answer as the constraint reads it: the tokens' pieces concatenated. (llama.cpp's
 * detokenize may also clean spaces before punctuation, e.g. Llama-3's " ." -> ".".)
 */
export function answerText(model: Model, tokens: readonly number[]): string {
  return Buffer.concat(model.tokenPieces(tokens, { special: true })).toString('utf8');
}

/** Small deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A random walk through the constraint: a random allowed token at each step (end of generation
 * with probability `stop` whenever it is allowed) until the answer ends. Returns the tokens, or
 * throws when a state allows nothing (a dead end) or the walk runs past `limit` tokens.
 */
export function randomWalk(c: FormatConstraint, eog: Set<number>, random: () => number, stop = 0.25, limit = 2000): number[] {
  const tokens: number[] = [];
  for (;;) {
    const allowed = c.allowed(Int32Array.from(tokens));
    if (!allowed) throw new Error(`prefix of ${tokens.length} tokens rejected`);
    if (allowed.length === 0) throw new Error(`dead end after ${tokens.length} tokens`);
    const ends = [...allowed].filter((t) => eog.has(t));
    if (ends.length && (ends.length === allowed.length || random() < stop)) return tokens;
    const choices = [...allowed].filter((t) => !eog.has(t));
    tokens.push(choices[Math.floor(random() * choices.length)]);
    if (tokens.length > limit) throw new Error('walk too long');
  }
}
