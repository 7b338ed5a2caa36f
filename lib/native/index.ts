export { Model, type ChatMessage, type ModelMetadata, type LoadModelOptions, type WeightInfo } from './model.ts';
export { Context, type ContextOptions, type GenerateOptions, type GenerateResult, type GeneratedSequence, type Prompt } from './context.ts';
export { createGrammar } from './grammar.ts';
export { makeModel, madeModelPath, SHAPES, vocabularyPath, type MakeModelOptions, type MadeArchitecture, type MadeShape } from './make-model.ts';
export { MfnerError } from './errors.ts';
export { loadBinding, BUILD_HINT } from './binding.ts';
export { cpuCount, defaultThreads, resolveThreads, type ResolveThreadsOptions } from './threads.ts';
export type { FinishReason, NativeConstraint, NativeGrammar } from './types.ts';
export { quantizeModel, QUANTIZE_TYPES, type QuantizeOptions } from './quantize.ts';
