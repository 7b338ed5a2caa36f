/**
 * A model that can learn NER on a CPU: random weights, a small vocabulary learnt from the
 * corpora's own training text (corpus-vocab.ts) and a shape chosen by measurement
 * (docs/training.md, "A model made from the corpora"). Qwen2's 152k vocabulary would put 95% of
 * a small model's parameters in the embedding and spend most of each step on the output softmax,
 * so the vocabulary is 4,096 tokens cut from these texts (12,288 at --scale cpu), with words kept
 * apart from punctuation so that a mention is the same tokens in the sentence and in the answer;
 * spaces are tokens of their own, or (`trailingSpace`, --scale cpu) end the piece before them.
 *
 * Only training splits feed the vocabulary, so held-out text is tokenised as a user's would be.
 * The model is written next to its vocabulary and reused when the same recipe asks again.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { makeModel, SHAPES, type Shape } from '../native/make-model.ts';
import { trainVocabulary, writeVocabularyGguf } from '../native/corpus-vocab.ts';
import { MfnerError } from '../native/errors.ts';
import { datasetTrainingData } from './data.ts';

/** 4 layers × 256 (`cpu`), chosen by measurement (docs/training.md): ~3,000 training tokens/s on one core. */
export const CORPUS_SHAPE: Shape = SHAPES.cpu;

/** Qwen2.5's chat template opens every prompt with this system turn; its words belong in the vocabulary. */
const DEFAULT_SYSTEM = 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.';

export interface CorpusModelOptions {
  /** Datasets whose training split feeds the vocabulary. */
  datasets: readonly string[];
  /** Configurations rendered to collect prompt and answer text (`only:<format>`, `all`, …). */
  configurations: readonly string[];
  /** Folder the vocabulary and model are written to, named after their recipe (reused when it matches)... */
  dir?: string;
  /** ...or the model's path (the vocabulary beside it: `<name>.vocab.gguf`, the recipe `<name>.json`). */
  out?: string;
  root?: string;
  /** Vocabulary size with specials and bytes (default 4096). */
  vocabSize?: number;
  shape?: Shape;
  seed?: number;
  /** Training documents per dataset read for the vocabulary (default all). */
  trainCap?: number;
  /** Spaces, digits and punctuation apart from words (default true: see corpus-vocab.ts). */
  isolateWords?: boolean;
  /** With isolateWords, pieces keep their following space (corpus-vocab.ts; default false). */
  trailingSpace?: boolean;
}

export interface CorpusModel {
  path: string;
  vocabulary: string;
  vocabularySize: number;
  merges: number;
  texts: number;
  shape: Shape;
  /** Whether an earlier run's files were reused. */
  reused: boolean;
}

/** Builds (or reuses) the vocabulary and the F32 random-weight Qwen2-family model. */
export async function makeCorpusModel(o: CorpusModelOptions): Promise<CorpusModel> {
  const shape = o.shape ?? CORPUS_SHAPE;
  const vocabSize = o.vocabSize ?? 4096;
  const seed = o.seed ?? 1;
  if (!o.datasets.length || !o.configurations.length) throw new MfnerError('ERR_INVALID_ARG', 'a corpus model needs at least one dataset and one configuration');
  const isolateWords = o.isolateWords ?? true;
  const trailingSpace = isolateWords && (o.trailingSpace ?? false);
  const recipe = { v: 1, datasets: o.datasets, configurations: o.configurations, vocabSize, isolateWords, ...(trailingSpace ? { trailingSpace } : {}), shape, seed, trainCap: o.trainCap ?? null };
  const id = createHash('sha256').update(JSON.stringify(recipe)).digest('hex').slice(0, 12);
  if (!o.out && !o.dir) throw new MfnerError('ERR_INVALID_ARG', 'a corpus model needs dir or out');
  const model = o.out ? path.resolve(o.out) : path.join(o.dir!, `corpus-model-${id}.gguf`);
  const stem = model.replace(/\.gguf$/u, '');
  const vocabulary = `${stem}.vocab.gguf`;
  const info = `${stem}.json`;
  mkdirSync(path.dirname(model), { recursive: true });
  if (existsSync(model) && existsSync(vocabulary) && existsSync(info)) {
    const saved = JSON.parse(readFileSync(info, 'utf8')) as Omit<CorpusModel, 'reused'> & { recipe?: unknown };
    if (JSON.stringify(saved.recipe) === JSON.stringify(recipe)) {
      const { recipe: _, ...made } = saved;
      return { ...made, reused: true };
    }
  }
  const texts: string[] = [DEFAULT_SYSTEM];
  for (const configuration of o.configurations) {
    const data = await datasetTrainingData({ datasets: o.datasets, configuration, draw: 1, trainCap: o.trainCap, devCap: 0, root: o.root });
    for (const e of data.train) {
      if ('messages' in e) for (const m of e.messages) texts.push(m.content);
      else texts.push(e.prompt, e.completion);
    }
  }
  const vocab = trainVocabulary(texts, { size: vocabSize, isolateWords, trailingSpace });
  writeVocabularyGguf(vocabulary, vocab);
  await makeModel({ architecture: 'qwen2', shape, out: model, vocabPath: vocabulary, weightType: 'f32', seed, name: `mfner-corpus-${id}` });
  const made: Omit<CorpusModel, 'reused'> = { path: model, vocabulary, vocabularySize: vocab.tokens.length, merges: vocab.merges, texts: texts.length, shape };
  writeFileSync(info, `${JSON.stringify({ ...made, recipe }, null, 2)}\n`);
  return { ...made, reused: false };
}
