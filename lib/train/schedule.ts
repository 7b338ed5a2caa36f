/** Learning-rate schedules as Hugging Face's transformers defines them (per optimizer step). */
export type ScheduleKind = 'constant' | 'linear' | 'cosine';

export interface Schedule {
  kind: ScheduleKind;
  lr: number;
  totalSteps: number;
  warmupSteps: number;
}

/** The learning rate of optimizer step `step` (0-based). */
export function learningRate(s: Schedule, step: number): number {
  if (s.warmupSteps > 0 && step < s.warmupSteps) return (s.lr * step) / s.warmupSteps;
  if (s.kind === 'constant') return s.lr;
  const span = Math.max(1, s.totalSteps - s.warmupSteps);
  const progress = Math.min(1, Math.max(0, (step - s.warmupSteps) / span));
  if (s.kind === 'linear') return s.lr * (1 - progress);
  return s.lr * 0.5 * (1 + Math.cos(Math.PI * progress));
}
