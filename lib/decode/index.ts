export {
  createFormatConstraint,
  resolveConstraint,
  tokenTrie,
  constraintMask,
  constraintBench,
  type ConstraintChoice,
  type FormatConstraint,
  type FormatConstraintInput,
} from './constraint.ts';
export { buildSpec, codePointIndex, tokenBoundaries, type ConstraintOptions, type ConstraintSpec } from './spec.ts';
export { specToGbnf } from './gbnf.ts';
