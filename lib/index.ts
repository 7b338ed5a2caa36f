export * from './formats/entity.ts';
export * from './formats/index.ts';
export * from './metrics/index.ts';
export * from './report/index.ts';
export * from './corpus/index.ts';
export * from './prompt/index.ts';
// The native layer, minus its ChatMessage (the same shape as the prompt layer's).
export {
  Model,
  Context,
  createGrammar,
  makeModel,
  madeModelPath,
  SHAPES,
  vocabularyPath,
  MfnerError,
  loadBinding,
  BUILD_HINT,
  defaultThreads,
  resolveThreads,
  cpuCount,
  type ResolveThreadsOptions,
  type ModelMetadata,
  type LoadModelOptions,
  type WeightInfo,
  type ContextOptions,
  type GenerateOptions,
  type GenerateResult,
  type GeneratedSequence,
  type Prompt,
  type MakeModelOptions,
  type MadeArchitecture,
  type MadeShape,
  type FinishReason,
  type NativeConstraint,
  type NativeGrammar,
} from './native/index.ts';
export * from './train/index.ts';
export * from './pipeline/index.ts';
