import { loadBinding } from './binding.ts';
import { nativeCallSync } from './errors.ts';
import type { Model } from './model.ts';
import type { NativeGrammar } from './types.ts';

/**
 * A user's GBNF grammar, checked against the model's vocabulary when made. Pass it as the
 * `constraint` of a generation; each sequence gets its own grammar state.
 */
export function createGrammar(model: Model, gbnf: string, options: { root?: string } = {}): NativeGrammar {
  const binding = loadBinding();
  return nativeCallSync(() => new binding.Grammar(model.native, gbnf, options));
}
