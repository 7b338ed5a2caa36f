/**
 * One run = one model, configuration, dataset, format and draw, scored on that draw's test
 * sample. The file keeps the predictions (offsets in code points, as every file does) and the
 * counts that reports aggregate; ratios are derived later so micro averages stay exact.
 */
import type { Span } from '../formats/entity.ts';
import type { AnswerHealth } from '../metrics/health.ts';
import type { ScoreSet } from '../metrics/score.ts';
import type { ShiftHistogram } from '../metrics/span-shift.ts';
import type { Counts, Problem } from '../metrics/types.ts';

export const RUN_SCHEMA = 'mfner-run/1';

export interface RunIdentity {
  model: string;
  /** `all`, `7best`, `term_ner`, `only:<format>`, or any other name training used. */
  configuration: string;
  dataset: string;
  format: string;
  /** Which of the seeded draws (the paper uses 3). */
  draw: number;
}

export interface StoredEntity {
  type: string;
  /** Code points, end exclusive; empty when the prediction was not grounded. */
  spans: Span[];
  text: string;
  grounded?: boolean;
}

export interface StoredAnswer {
  problems: Problem[];
  /** The model's raw answer, when the evaluator chose to keep it. */
  raw?: string | string[];
}

export interface StoredPrediction {
  id: string;
  entities: StoredEntity[];
  /** One per model answer for this document (single_* formats: one per type). */
  answers: StoredAnswer[];
}

export interface GoldSummary {
  documents: number;
  entities: number;
  nested: number;
  discontinuous: number;
}

export interface RunScores {
  text: ScoreSet;
  strict: ScoreSet;
  gold: GoldSummary;
  health: AnswerHealth;
  spanShifts: {
    /** Unmatched predictions within a few characters of an unmatched gold mention (scoring). */
    nearMisses: ShiftHistogram;
    /** Offsets the BRAT parser already moved to the text it found (parse problems). */
    repaired: ShiftHistogram;
  };
}

/**
 * A run whose predictions were filtered by a confidence threshold chosen on the draw's dev
 * sample (lib/metrics/threshold.ts): the threshold and the dev counts it was chosen on.
 */
export interface RunThreshold {
  minConfidence: number;
  devDocuments: number;
  /** Dev counts at the threshold and with every entity kept (text mode). */
  dev: Counts;
  devUnfiltered: Counts;
}

export interface RunFile extends RunIdentity {
  schema: typeof RUN_SCHEMA;
  predictions: StoredPrediction[];
  scores: RunScores;
  threshold?: RunThreshold;
}

export function runKey(r: RunIdentity): string {
  return JSON.stringify([r.model, r.configuration, r.dataset, r.format, r.draw]);
}
