export * from './entity.ts';
export * from './types.ts';
export * from './prompt.ts';
export { getFormat, allFormats, isFormatName } from './registry.ts';
