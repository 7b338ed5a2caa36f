import type { Entity } from '../formats/entity.ts';
import { ratio } from './prf.ts';
import type { Problem } from './types.ts';

/** Counts behind the answer-health shares; summable across runs. */
export interface AnswerHealth {
  answers: number;
  answersWithProblems: number;
  entities: number;
  ungrounded: number;
  /** Problems by kind, to see what goes wrong. */
  problemKinds: Record<string, number>;
}

export function emptyHealth(): AnswerHealth {
  return { answers: 0, answersWithProblems: 0, entities: 0, ungrounded: 0, problemKinds: {} };
}

export function isUngrounded(e: Entity): boolean {
  return e.grounded === false || e.spans.length === 0;
}

/** One model answer (for single_* formats one per type, for conv_term the whole dialogue). */
export function addAnswer(h: AnswerHealth, problems: readonly Problem[]): void {
  h.answers++;
  if (problems.length > 0) h.answersWithProblems++;
  for (const p of problems) h.problemKinds[p.kind] = (h.problemKinds[p.kind] ?? 0) + 1;
}

export function addEntities(h: AnswerHealth, entities: readonly Entity[]): void {
  h.entities += entities.length;
  for (const e of entities) if (isUngrounded(e)) h.ungrounded++;
}

export function mergeHealth(into: AnswerHealth, more: AnswerHealth): AnswerHealth {
  into.answers += more.answers;
  into.answersWithProblems += more.answersWithProblems;
  into.entities += more.entities;
  into.ungrounded += more.ungrounded;
  for (const [k, v] of Object.entries(more.problemKinds)) into.problemKinds[k] = (into.problemKinds[k] ?? 0) + v;
  return into;
}

export function healthShares(h: AnswerHealth): { problemShare: number; ungroundedShare: number } {
  return { problemShare: ratio(h.answersWithProblems, h.answers), ungroundedShare: ratio(h.ungrounded, h.entities) };
}
