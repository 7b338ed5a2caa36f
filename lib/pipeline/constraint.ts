/**
 * Which constraint a generation runs under. `format` is the per-format, input-dependent
 * constraint of the decode layer (issue 6); until that layer is in this build, extraction
 * decodes unconstrained and says so once through `onNote`. `none` decodes freely; any other
 * string is a GBNF grammar applied to every answer (every turn in conv_term).
 */
import type { FormatName } from '../formats/index.ts';
import { createGrammar, type Model, type NativeConstraint } from '../native/index.ts';

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

export const FORMAT_CONSTRAINT_PENDING =
  'format constraints are not in this build yet (the decode layer, issue 6): decoding unconstrained';

/**
 * When the decode layer lands, `format` becomes
 * `forRequest: (text, types) => createFormatConstraint(model, { format, text, types })`.
 */
export function resolveConstraint(model: Model, format: FormatName, spec: ConstraintSpec = 'format'): ResolvedConstraint {
  void format;
  if (spec === 'none') return { effective: 'none', forRequest: () => null };
  if (spec === 'format') {
    return { effective: 'none', note: FORMAT_CONSTRAINT_PENDING, forRequest: () => null };
  }
  const grammar = createGrammar(model, spec);
  return { effective: 'gbnf', forRequest: () => grammar };
}
