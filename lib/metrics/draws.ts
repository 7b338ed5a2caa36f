/**
 * Mean and standard deviation of one score over the draws. The deviation is the sample
 * estimator (divides by n − 1), the usual choice for "how much would another draw differ";
 * with one draw it is undefined and reported as null.
 */
export interface DrawSummary {
  mean: number;
  std: number | null;
  n: number;
}

export function summarizeDraws(values: readonly number[]): DrawSummary {
  const n = values.length;
  if (n === 0) throw new Error('no draws to summarize');
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { mean, std: null, n };
  const ss = values.reduce((a, v) => a + (v - mean) ** 2, 0);
  return { mean, std: Math.sqrt(ss / (n - 1)), n };
}
