import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { loadBinding } from './binding.ts';
import { LLAMA32_CHAT_TEMPLATE, QWEN25_CHAT_TEMPLATE } from './chat-templates.ts';
import { MfnerError, nativeCall } from './errors.ts';
import { packageRoot } from './package-root.ts';

export type MadeArchitecture = 'qwen2' | 'llama';
export type MadeShape = 'tiny' | 'small' | 'cpu' | 'qwen2.5-0.5b' | 'llama-3.2-1b';

export interface Shape {
  nEmbd: number;
  nLayer: number;
  nHead: number;
  nHeadKv: number;
  nFf: number;
  nCtx: number;
}

/**
 * Real shapes from the models' Hugging Face configs; `tiny` is a few MB, for tests. `small` and
 * `cpu` are the shapes a corpus-vocabulary model learns NER in on a CPU (docs/training.md, "A
 * model made from the corpora"): `small` in minutes (the CI proof), `cpu` for --scale cpu.
 */
export const SHAPES: Record<MadeShape, Shape> = {
  tiny: { nEmbd: 32, nLayer: 2, nHead: 4, nHeadKv: 2, nFf: 64, nCtx: 4096 },
  small: { nEmbd: 128, nLayer: 2, nHead: 4, nHeadKv: 4, nFf: 384, nCtx: 2048 },
  cpu: { nEmbd: 256, nLayer: 4, nHead: 4, nHeadKv: 4, nFf: 768, nCtx: 2048 },
  'qwen2.5-0.5b': { nEmbd: 896, nLayer: 24, nHead: 14, nHeadKv: 2, nFf: 4864, nCtx: 32768 },
  'llama-3.2-1b': { nEmbd: 2048, nLayer: 16, nHead: 32, nHeadKv: 8, nFf: 8192, nCtx: 131072 },
};

/** Per-family constants (Hugging Face configs) and the vocabulary / chat template each uses. */
export const ARCHITECTURES: Record<MadeArchitecture, { vocab: string; template: string; ropeTheta: number; rmsEps: number; qkvBias: boolean }> = {
  qwen2: { vocab: 'ggml-vocab-qwen2.gguf', template: QWEN25_CHAT_TEMPLATE, ropeTheta: 1_000_000, rmsEps: 1e-6, qkvBias: true },
  llama: { vocab: 'ggml-vocab-llama-bpe.gguf', template: LLAMA32_CHAT_TEMPLATE, ropeTheta: 500_000, rmsEps: 1e-5, qkvBias: false },
};

export interface MakeModelOptions {
  architecture: MadeArchitecture;
  /** A named shape, or explicit dimensions (a model sized by measurement, e.g. for the corpus vocabulary). */
  shape: MadeShape | Shape;
  out: string;
  /** A vocab-only GGUF to take the tokenizer from (default the family's, from llama.cpp's models/): see corpus-vocab.ts. */
  vocabPath?: string;
  /** general.name (default mfner-random-<arch>-<shape>). */
  name?: string;
  seed?: number;
  /**
   * The matrices' ggml type (default f16; norms and biases stay f32): f32, f16, bf16, q8_0,
   * q4_0, q4_K, q5_K, q6_K or any other type llama.cpp loads. Quantized types need nEmbd and nFf
   * to be multiples of their block (32, or 256 for the K-quants).
   */
  weightType?: string;
}

export function vocabularyPath(architecture: MadeArchitecture): string {
  return path.join(packageRoot, 'deps', 'llama.cpp', 'models', ARCHITECTURES[architecture].vocab);
}

/** Writes a GGUF with random weights, a real tokenizer and the family's chat template. */
export async function makeModel(options: MakeModelOptions) {
  const arch = ARCHITECTURES[options.architecture];
  const shape = typeof options.shape === 'string' ? SHAPES[options.shape] : options.shape;
  if (!arch) throw new MfnerError('ERR_INVALID_ARG', `unknown architecture "${options.architecture}" (qwen2, llama)`);
  if (!shape) throw new MfnerError('ERR_INVALID_ARG', `unknown shape "${String(options.shape)}" (${Object.keys(SHAPES).join(', ')})`);
  const weightType = options.weightType ?? 'f16';
  const binding = loadBinding();
  const types = binding.tensorTypes().map((t) => t.name);
  if (!types.some((t) => t.toLowerCase() === weightType.toLowerCase())) {
    throw new MfnerError('ERR_INVALID_ARG', `weight type must be a ggml tensor type (${types.join(', ')}), not ${JSON.stringify(weightType.slice(0, 40))}`);
  }
  const vocabPath = options.vocabPath ?? vocabularyPath(options.architecture);
  if (!existsSync(vocabPath)) {
    throw new MfnerError('ERR_VOCAB_MISSING', options.vocabPath ? `vocabulary file ${vocabPath} is missing` : `vocabulary file ${vocabPath} is missing: the llama.cpp source is not extracted (run npm install)`);
  }
  mkdirSync(path.dirname(path.resolve(options.out)), { recursive: true });
  return nativeCall(() =>
    binding.makeModel({
      architecture: options.architecture,
      name: options.name ?? `mfner-random-${options.architecture}-${typeof options.shape === 'string' ? options.shape : 'custom'}`,
      vocabPath,
      chatTemplate: arch.template,
      out: path.resolve(options.out),
      ...shape,
      ropeTheta: arch.ropeTheta,
      rmsEps: arch.rmsEps,
      qkvBias: arch.qkvBias,
      tiedEmbeddings: true,
      weightType,
      seed: options.seed ?? 42,
    }),
  );
}

/** A made model cached under .cache/models (made once, reused by tests and benches). */
export async function madeModelPath(architecture: MadeArchitecture, shape: MadeShape): Promise<string> {
  const out = path.join(packageRoot, '.cache', 'models', `${architecture}-${shape}.gguf`);
  if (!existsSync(out)) await makeModel({ architecture, shape, out });
  return out;
}
