import type { Counts, Prf, SubsetRecall } from './types.ts';

export function zeroCounts(): Counts {
  return { tp: 0, fp: 0, fn: 0 };
}

export function addCounts(into: Counts, more: Counts): Counts {
  into.tp += more.tp;
  into.fp += more.fp;
  into.fn += more.fn;
  return into;
}

export function sumCounts(all: Iterable<Counts>): Counts {
  const total = zeroCounts();
  for (const c of all) addCounts(total, c);
  return total;
}

/** 0/0 is reported as 0, as the issue decides (no NaN reaches a table). */
export function ratio(num: number, den: number): number {
  return den === 0 ? 0 : num / den;
}

export function prf(c: Counts): Prf {
  const precision = ratio(c.tp, c.tp + c.fp);
  const recall = ratio(c.tp, c.tp + c.fn);
  // From counts rather than from P and R, so rounding never leaks in.
  const f1 = ratio(2 * c.tp, 2 * c.tp + c.fp + c.fn);
  return { precision, recall, f1 };
}

export function subsetRecall(r: SubsetRecall): number {
  return ratio(r.found, r.gold);
}
