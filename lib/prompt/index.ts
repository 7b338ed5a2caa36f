export * from './configurations.ts';
export * from './messages.ts';
export * from './examples.ts';
export * from './prepare.ts';
