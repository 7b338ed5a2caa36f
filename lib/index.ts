export * from './formats/entity.ts';
