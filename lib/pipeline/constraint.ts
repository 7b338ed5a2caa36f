/**
 * Which constraint a generation runs under. `format` (the default) is the per-format,
 * input-dependent constraint of the decode layer: entity texts must come from the input,
 * types from the label set, offsets from real boundaries. `none` decodes freely; any other
 * string is a GBNF grammar applied to every answer (every turn in conv_term).
 */
import type { FormatName } from '../formats/index.ts';
import { createGrammar, type Model, type NativeConstraint } from '../native/index.ts';
import { createFormatConstraint } from '../decode/index.ts';

export type ConstraintSpec = 'format' | 'none' | (string & {});

export type EffectiveConstraint = 'format' | 'none' | 'gbnf';

export interface ResolvedConstraint {
  effective: EffectiveConstraint;
  /** A note for the user when the request could not be honoured as asked. */
  note?: string;
  /**
   * The constraint for one request, or null: `text` is the (chunk of) input the answer is
   * about; `types` the types asked (single_* and conv_term: the one type of the prompt or turn).
   */
  forRequest(text: string, types: readonly string[]): NativeConstraint | null;
}

/** A format constraint is built per request: it depends on the (chunk of) text and the types asked. */
export function resolveConstraint(
  model: Model,
  format: FormatName,
  spec: ConstraintSpec = 'format',
  options: { textOrder?: boolean; alnumEdges?: boolean } = {},
): ResolvedConstraint {
  if (spec === 'none') return { effective: 'none', forRequest: () => null };
  if (spec === 'format') {
    return { effective: 'format', forRequest: (text, types) => createFormatConstraint(model, { format, text, types, textOrder: options.textOrder, alnumEdges: options.alnumEdges }) };
  }
  const grammar = createGrammar(model, spec);
  return { effective: 'gbnf', forRequest: () => grammar };
}
