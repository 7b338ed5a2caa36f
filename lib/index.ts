export * from './formats/entity.ts';
export * from './formats/index.ts';
