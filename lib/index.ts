export * from './formats/entity.ts';
export * from './formats/index.ts';
export * from './metrics/index.ts';
export * from './report/index.ts';
export * from './corpus/index.ts';
export * from './prompt/index.ts';
