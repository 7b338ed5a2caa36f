import type { Entity } from '../formats/entity.ts';

/**
 * `text`: type + surface text (whitespace runs collapsed, trimmed, case-sensitive). Works for
 * every format, including those that only name the entity, so formats compete on equal terms.
 * `strict`: type + exact span list; a prediction without spans can never match.
 */
export type MatchMode = 'text' | 'strict';

export const MATCH_MODES: readonly MatchMode[] = ['text', 'strict'];

/** True positives, false positives, false negatives (entity mentions, duplicates counted). */
export interface Counts {
  tp: number;
  fp: number;
  fn: number;
}

export interface Prf {
  precision: number;
  recall: number;
  f1: number;
}

/** A gold entity; the corpus layer sets the flags, {@link withComplexity} fills them otherwise. */
export interface GoldEntity extends Entity {
  nested?: boolean;
  discontinuous?: boolean;
}

export interface GoldDocument {
  id: string;
  text: string;
  entities: GoldEntity[];
}

export interface PredictedDocument {
  id: string;
  entities: Entity[];
}

/** Recall on a gold-side subset: how many such gold entities there are and how many were found. */
export interface SubsetRecall {
  gold: number;
  found: number;
}

/** Recall on complex gold entities beside recall on simple ones (the paper's Table 7). */
export interface ComplexRecall {
  nested: SubsetRecall;
  discontinuous: SubsetRecall;
  /** Neither nested nor discontinuous. */
  simple: SubsetRecall;
}

/** A parse problem as the formats layer reports it. */
export interface Problem {
  kind: string;
  message: string;
  item?: number;
  /** BRAT near miss: [given start − true start, given end − true end], in code points. */
  shift?: [number, number];
}
