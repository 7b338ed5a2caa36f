/**
 * Dev evaluation during training: generate answers on dev examples with the current weights,
 * parse them in each example's format, score micro-F1 (text matching, the paper's) against the
 * gold entities of the asked types.
 *
 * - LoRA: the adapter is written to a temporary GGUF and applied to a fresh inference context
 *   (llama.cpp's standard adapter loader: the same path `mfner extract --adapter` takes).
 * - Full: the trainer updates the model's own tensors in place, so an inference context on the
 *   same `Model` already runs the current weights; nothing is saved or reloaded.
 *
 * Generation goes through the pipeline's `extract` (batched, constrained to the format by
 * default, long texts split), so dev scores are computed exactly as test scores are.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Entity, FormatName } from '../formats/index.ts';
import { scoreDocuments } from '../metrics/score.ts';
import { prf } from '../metrics/prf.ts';
import type { Counts, GoldDocument, PredictedDocument } from '../metrics/types.ts';
import type { Model } from '../native/model.ts';
import { extract, type ExtractOptions } from '../pipeline/extract.ts';
import type { Trainer } from './trainer.ts';

/** One dev question: a text asked for `types` in `format`, with the gold entities of those types. */
export interface DevExample {
  id: string;
  format: FormatName;
  types: readonly string[];
  /** The name in "Follow {name} guidelines". */
  guideline: string;
  text: string;
  entities: readonly Entity[];
}

export type DevGenerationOptions = Partial<Pick<ExtractOptions, 'constraint' | 'batchSize' | 'maxTokens' | 'contextSize' | 'threads' | 'chatTemplate' | 'signal'>>;

export interface DevScore {
  f1: number;
  precision: number;
  recall: number;
  counts: Counts;
  examples: number;
  /** Examples whose extraction failed (scored as predicting nothing). */
  errors: number;
  seconds: number;
}

/** Generates on every dev example with `model` (plus `adapter`) and scores micro-F1 over all of them. */
export async function scoreDevExamples(model: Model, examples: readonly DevExample[], options: DevGenerationOptions & { adapter?: string } = {}): Promise<DevScore> {
  const started = Date.now();
  const groups = new Map<string, DevExample[]>();
  for (const e of examples) {
    const key = JSON.stringify([e.format, e.types, e.guideline]);
    const list = groups.get(key);
    if (list) list.push(e);
    else groups.set(key, [e]);
  }
  const gold: GoldDocument[] = [];
  const pred: PredictedDocument[] = [];
  let errors = 0;
  for (const list of groups.values()) {
    const { format, types, guideline } = list[0];
    const docs = list.map((e) => ({ id: e.id, text: e.text }));
    for await (const r of extract(docs, { ...options, model, adapter: options.adapter, format, types, guideline })) {
      if (r.error) errors++;
      pred.push({ id: r.id, entities: r.entities });
    }
    for (const e of list) gold.push({ id: e.id, text: e.text, entities: [...e.entities] });
  }
  const scores = scoreDocuments(gold, pred, 'text');
  return { ...prf(scores.counts), counts: scores.counts, examples: examples.length, errors, seconds: (Date.now() - started) / 1000 };
}

/**
 * The `evaluate` callback for {@link Trainer.train}: dev micro-F1 with the trainer's current
 * weights. `onScore` sees each full score (the callback returns F1 only).
 */
export function devEvaluator(examples: readonly DevExample[], options: DevGenerationOptions & { onScore?: (s: DevScore) => void } = {}): (trainer: Trainer) => Promise<number> {
  const { onScore, ...generation } = options;
  return async (trainer: Trainer) => {
    const chatTemplate = generation.chatTemplate ?? trainer.options.chatTemplate;
    let dir: string | undefined;
    let adapter: string | undefined;
    try {
      if (trainer.method === 'lora') {
        dir = mkdtempSync(path.join(os.tmpdir(), 'mfner-dev-'));
        adapter = path.join(dir, 'adapter.gguf');
        await trainer.saveAdapter(adapter);
      }
      const score = await scoreDevExamples(trainer.model, examples, { ...generation, chatTemplate, adapter });
      onScore?.(score);
      return score.f1;
    } finally {
      if (adapter) trainer.model.releaseAdapter(adapter);
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  };
}
