import { existsSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadBinding } from '../../lib/native/binding.ts';
import { vocabularyPath } from '../../lib/native/make-model.ts';
import { LLAMA32_CHAT_TEMPLATE, QWEN25_CHAT_TEMPLATE } from '../../lib/native/chat-templates.ts';
import { packageRoot } from '../../lib/native/package-root.ts';

type TrainShape = { nEmbd: number; nLayer: number; nHead: number; nHeadKv: number; nFf: number };

/** An F32 Llama-3-architecture model with the real Llama 3 vocabulary and chat template (tied head, as Llama 3.2 1B). */
export async function madeF32Llama(name: string, shape: TrainShape): Promise<string> {
  const dir = path.join(packageRoot, '.cache', 'models');
  mkdirSync(dir, { recursive: true });
  const out = path.join(dir, `train-llama-${name}.gguf`);
  if (!existsSync(out)) {
    await loadBinding().makeModel({
      architecture: 'llama',
      name: `mfner-train-llama-${name}`,
      vocabPath: vocabularyPath('llama'),
      chatTemplate: LLAMA32_CHAT_TEMPLATE,
      out,
      ...shape,
      nCtx: 4096,
      ropeTheta: 500_000,
      rmsEps: 1e-5,
      qkvBias: false,
      tiedEmbeddings: true,
      weightType: 'f32',
      seed: 7,
    });
  }
  return out;
}

/** A narrow F32 Qwen2-architecture model with the real Qwen vocabulary and chat template. */
export async function madeF32Qwen(name: string, shape: TrainShape): Promise<string> {
  const dir = path.join(packageRoot, '.cache', 'models');
  mkdirSync(dir, { recursive: true });
  const out = path.join(dir, `train-${name}.gguf`);
  if (!existsSync(out)) {
    await loadBinding().makeModel({
      architecture: 'qwen2',
      name: `mfner-train-${name}`,
      vocabPath: vocabularyPath('qwen2'),
      chatTemplate: QWEN25_CHAT_TEMPLATE,
      out,
      ...shape,
      nCtx: 4096,
      ropeTheta: 1_000_000,
      rmsEps: 1e-6,
      qkvBias: true,
      tiedEmbeddings: true,
      weightType: 'f32',
      seed: 7,
    });
  }
  return out;
}

export function tmpFile(name: string): string {
  const dir = path.join(os.tmpdir(), `mfner-train-test-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  return path.join(dir, name);
}

/** Relative L2 difference between two arrays. */
export function relDiff(a: Float32Array, b: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += a[i] ** 2 + b[i] ** 2;
  }
  return Math.sqrt(num / Math.max(den, 1e-30));
}

export function maxAbs(a: Float32Array): number {
  let m = 0;
  for (const v of a) m = Math.max(m, Math.abs(v));
  return m;
}
