/**
 * Per-call constraints for generation: `'format'` (the output format's input-dependent
 * constraint, the default for extraction), `'none'`, or a GBNF grammar of your own.
 */
import type { FormatName } from '../formats/types.ts';
import { loadBinding } from '../native/binding.ts';
import { nativeCallSync } from '../native/errors.ts';
import { createGrammar } from '../native/grammar.ts';
import type { Model } from '../native/model.ts';
import type { NativeConstraint, NativeConstraintSpec, NativeFormatConstraint, NativeTokenTrie } from '../native/types.ts';
import { specToGbnf } from './gbnf.ts';
import type { ConstraintOptions, ConstraintSpec } from './spec.ts';
import { buildSpec } from './spec.ts';

/** What a caller passes as `constraint`: the format's constraint, none, or GBNF source. */
export type ConstraintChoice = 'format' | 'none' | { gbnf: string; root?: string } | string;

export interface FormatConstraintInput extends ConstraintOptions {
  format: FormatName;
  /** The input text the answer is about. */
  text: string;
  /** The requested types (single_* and conv_term: the one type of this prompt or turn). */
  types: readonly string[];
}

const tries = new WeakMap<Model, NativeTokenTrie>();

/** The model's token trie, built on first use (tens of ms for a 150k vocabulary) and cached. */
export function tokenTrie(model: Model): NativeTokenTrie {
  let trie = tries.get(model);
  if (!trie) {
    const binding = loadBinding();
    trie = nativeCallSync(() => new binding.TokenTrie(model.native));
    tries.set(model, trie);
  }
  return trie;
}

export interface FormatConstraint extends NativeFormatConstraint {
  readonly spec: ConstraintSpec;
  /** The same language as GBNF (without occurrence counting), for inspection or as an oracle. */
  toGbnf(): string;
}

/** The format's constraint for one input: pass it as `constraint` to `Context.generate`. */
export function createFormatConstraint(model: Model, input: FormatConstraintInput): FormatConstraint {
  const spec = buildSpec(input.format, input.text, input.types, input);
  const binding = loadBinding();
  const trie = tokenTrie(model);
  const native = nativeCallSync(() => new binding.FormatConstraint(trie, spec as unknown as NativeConstraintSpec));
  return Object.assign(native, { spec, toGbnf: () => specToGbnf(spec) }) as FormatConstraint;
}

/** Resolves a per-call choice to a native constraint (or null for none). */
export function resolveConstraint(model: Model, choice: ConstraintChoice | undefined, input: FormatConstraintInput): NativeConstraint | null {
  if (choice === undefined || choice === 'format') return createFormatConstraint(model, input);
  if (choice === 'none') return null;
  if (typeof choice === 'string') return createGrammar(model, choice);
  return createGrammar(model, choice.gbnf, { root: choice.root });
}

/** The tokens a constraint allows after `tokens`, through llama.cpp's sampler interface. */
export function constraintMask(model: Model, constraint: NativeConstraint, tokens: Int32Array): Int32Array | null {
  const binding = loadBinding();
  return nativeCallSync(() => binding.constraintMask(model.native, constraint, tokens));
}

/** Microseconds per full-vocabulary apply before each token of `tokens` (benchmarks). */
export function constraintBench(model: Model, constraint: NativeConstraint, tokens: Int32Array): Float64Array {
  const binding = loadBinding();
  return nativeCallSync(() => binding.constraintBench(model.native, constraint, tokens));
}
