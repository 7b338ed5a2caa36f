import { existsSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadBinding } from '../../lib/native/binding.ts';
import { ARCHITECTURES, vocabularyPath, type MadeArchitecture } from '../../lib/native/make-model.ts';
import { packageRoot } from '../../lib/native/package-root.ts';

export type TrainShape = { nEmbd: number; nLayer: number; nHead: number; nHeadKv: number; nFf: number };

/**
 * A model of a made family (`lib/native/make-model.ts`: its RoPE base, norm epsilon, QKV bias,
 * real vocabulary and chat template; tied head) at any shape, cached under .cache/models.
 */
export async function madeTied(architecture: MadeArchitecture, name: string, shape: TrainShape, weightType: 'f32' | 'q4_0'): Promise<string> {
  const dir = path.join(packageRoot, '.cache', 'models');
  mkdirSync(dir, { recursive: true });
  const out = path.join(dir, `train-${architecture}-${name}.gguf`);
  if (!existsSync(out)) {
    const arch = ARCHITECTURES[architecture];
    await loadBinding().makeModel({
      architecture,
      name: `mfner-train-${architecture}-${name}`,
      vocabPath: vocabularyPath(architecture),
      chatTemplate: arch.template,
      out,
      ...shape,
      nCtx: 4096,
      ropeTheta: arch.ropeTheta,
      rmsEps: arch.rmsEps,
      qkvBias: arch.qkvBias,
      tiedEmbeddings: true,
      weightType,
      seed: 7,
    });
  }
  return out;
}

/** An F32 made model (full fine-tuning needs F32). */
export function madeF32(architecture: MadeArchitecture, name: string, shape: TrainShape): Promise<string> {
  return madeTied(architecture, name, shape, 'f32');
}

/** A narrow F32 Qwen2-architecture model with the real Qwen vocabulary and chat template. */
export function madeF32Qwen(name: string, shape: TrainShape): Promise<string> {
  return madeF32('qwen2', name, shape);
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
