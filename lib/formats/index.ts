export * from './entity.ts';
export * from './types.ts';
export * from './prompt.ts';
export { getFormat, allFormats, isFormatName } from './registry.ts';
export { tokenize } from './tokens.ts';
export type { Token } from './tokens.ts';
export { CODE_SCAFFOLD_HEAD, CODE_SCAFFOLD_TAIL } from './code-formats.ts';
export { MAX_BRAT_SHIFT } from './brat-format.ts';
export { MAX_FRAGMENT_GAP } from './grounding.ts';
