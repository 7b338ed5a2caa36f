export { Trainer, FULL_FINE_TUNING_LOAD, LORA_TRAINING_LOAD, trainingLoadOptions, type TrainerOptions, type TrainOptions, type TrainProgress, type TrainResult } from './trainer.ts';
export { tokenizeExample, assistantSpans, packExamples, type TrainExample, type TrainChatMessage, type TokenizedExample, type MicroBatch } from './examples.ts';
export { learningRate, type Schedule, type ScheduleKind } from './schedule.ts';
export { hasTrainer, type NativeTrainerOptions } from './native.ts';
export { devEvaluator, scoreDevExamples, type DevExample, type DevScore, type DevGenerationOptions } from './evaluate.ts';
export { datasetTrainingData, fileTrainingData, readExampleFile, devExampleOf, type TrainingData, type DatasetDataOptions, type FileDataOptions } from './data.ts';
export { makeCorpusModel, CORPUS_SHAPE, type CorpusModel, type CorpusModelOptions } from './corpus-model.ts';
export { runTraining, PAPER_DEFAULTS, type TrainRunOptions, type TrainRunSummary } from './run.ts';
