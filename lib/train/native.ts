/**
 * The native Trainer's surface (native/Trainer.cpp). Typed here rather than in lib/native/types.ts
 * because the class exists only when the addon was built over the patched llama.cpp.
 */
import { loadBinding } from '../native/binding.ts';
import { MfnerError } from '../native/errors.ts';
import type { NativeModel } from '../native/types.ts';

export interface NativeTrainerOptions {
  method: 'lora' | 'full';
  /** The GGUF the model was loaded from: saveModel copies its metadata (chat template, tokenizer). */
  modelPath?: string;
  /** Tokens per micro-batch (one llama.cpp ubatch of packed sequences). */
  contextSize?: number;
  threads?: number;
  lr?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Decoupled AdamW decay, on matrices only (not biases or norms), as Hugging Face does. */
  weightDecay?: number;
  rank?: number;
  alpha?: number;
  /** Block modules to adapt: attn_q, attn_k, attn_v, attn_output, ffn_gate, ffn_up, ffn_down. */
  targets?: string[];
  seed?: number;
  /** Tests only: B ~ N(0, std) instead of PEFT's zeros, so A gets a gradient too. */
  bInitStd?: number;
  /** Continue from a saved adapter instead of a new one. */
  adapterPath?: string;
  /** Full fine-tuning: also train token embeddings (and so the tied output head). Default true. */
  trainEmbeddings?: boolean;
  /**
   * Losses only (`mfner loss`): steps must have `backward: false`, and the model need not have
   * backward kernels for its weights' types and buffers (a repacked or GPU-offloaded quantized
   * model is fine). Default false.
   */
  forwardOnly?: boolean;
}

export interface NativeStepInput {
  tokens: Int32Array;
  positions: Int32Array;
  sequences: Int32Array;
  /** Shared rows (packExamples' sharePrefixes): row i belongs to sequenceIds[sequenceOffsets[i] .. sequenceOffsets[i + 1]). */
  sequenceOffsets?: Int32Array;
  sequenceIds?: Int32Array;
  /** Next-token target of each row, -1 for none (no loss, no gradient). */
  labels: Int32Array;
  /** Weight of each row's target; the loss is sum(w * nll) / rows with a target. */
  weights?: Float32Array;
  backward?: boolean;
  apply?: boolean;
  resetGrads?: boolean;
  rowNll?: boolean;
  lr?: number;
}

export interface NativeStepResult {
  loss: number;
  ms: number;
  optimizerSteps: number;
  rowNll?: Float32Array;
}

export interface NativeTrainer {
  step(input: NativeStepInput): Promise<NativeStepResult>;
  info(): { method: 'lora' | 'full'; contextSize: number; trainableParameters: number; trainableTensors: number; rank: number; alpha: number; optimizerSteps: number; disposed: boolean };
  paramNames(): string[];
  gradient(name: string): Float32Array | null;
  getTensor(name: string): Float32Array;
  setTensor(name: string, values: Float32Array): void;
  /** Saving and loading run on a worker thread; the trainer is busy until they settle. */
  saveAdapter(path: string): Promise<void>;
  saveModel(path: string): Promise<void>;
  saveOptimizer(path: string): Promise<void>;
  loadOptimizer(path: string): Promise<void>;
  /** Sets every trainable tensor from the same-named F32 tensor of a GGUF (checkpoint resume). */
  loadWeights(path: string): Promise<void>;
  dispose(): void;
}

type TrainerConstructor = new (model: NativeModel, options: NativeTrainerOptions) => NativeTrainer;

export function trainerConstructor(): TrainerConstructor {
  const binding = loadBinding() as unknown as { Trainer?: TrainerConstructor };
  if (!binding.Trainer) {
    throw new MfnerError('ERR_NO_TRAINER', 'this mfner addon was built without the training patches (native/patches); rebuild it with `npm run build:native`');
  }
  return binding.Trainer;
}

export function hasTrainer(): boolean {
  try {
    return Boolean((loadBinding() as unknown as { Trainer?: unknown }).Trainer);
  } catch {
    return false;
  }
}
