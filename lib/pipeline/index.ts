export { extract, resolveTask, FALLBACK_CHAT_TEMPLATE, DEFAULT_GUIDELINE, type ExtractInput, type ExtractOptions, type ExtractedDocument, type ExtractedEntity, type ExtractAnswer, type ExtractSummary } from './extract.ts';
export { splitText, type TextChunk, type TokenCounter } from './chunk.ts';
export { resolveConstraint, type ConstraintSpec, type EffectiveConstraint, type ResolvedConstraint } from './constraint.ts';
export { runExtractJob, jobFingerprint, type ExtractJobOptions, type ExtractJobResult, type JobProgress } from './jsonl-job.ts';
export { repairOutput, readState, writeState, statePath, type JobState, type RepairResult } from './resume.ts';
export { runEvaluation, evaluationTable, modelNameOf, type EvaluationOptions, type EvaluatedRun } from './evaluate.ts';
export { runReproduce, SCALES, TRAIN_PENDING, type Scale, type ScalePlan, type ReproduceOptions, type ReproduceSummary } from './reproduce.ts';
export { entityConfidences, answerConfidence, type AnswerTokens } from './confidence.ts';
export { tokenizeChat, hasSpecialText } from './prompt-tokens.ts';
