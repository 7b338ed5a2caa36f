import { OffsetMap, type Entity } from '../formats/entity.ts';
import { matchDocument } from './match.ts';
import type { Problem } from './types.ts';

/** The paper's Listing 4 shows shifts of 1 to 5 characters; farther is a different mention. */
export const DEFAULT_MAX_SHIFT = 5;

/**
 * Start and end shifts (predicted − gold, in code points as the answers count them) of near
 * misses, as `shift → count`, plus how many near misses there were.
 */
export interface ShiftHistogram {
  pairs: number;
  start: Record<string, number>;
  end: Record<string, number>;
}

export function emptyShiftHistogram(): ShiftHistogram {
  return { pairs: 0, start: {}, end: {} };
}

export function addShift(h: ShiftHistogram, start: number, end: number): void {
  h.pairs++;
  h.start[start] = (h.start[start] ?? 0) + 1;
  h.end[end] = (h.end[end] ?? 0) + 1;
}

export function mergeShiftHistograms(into: ShiftHistogram, more: ShiftHistogram): ShiftHistogram {
  into.pairs += more.pairs;
  for (const [k, v] of Object.entries(more.start)) into.start[k] = (into.start[k] ?? 0) + v;
  for (const [k, v] of Object.entries(more.end)) into.end[k] = (into.end[k] ?? 0) + v;
  return into;
}

/**
 * Near misses in one document: a single-span prediction that matches nothing exactly, paired
 * with an unmatched single-span gold entity of the same type whose start and end are each at
 * most `maxShift` code points away. Pairs are chosen greedily, closest first (sum of absolute
 * shifts, then text order), each entity at most once, so one gold mention never explains two
 * predictions.
 */
export function nearMisses(
  text: string,
  gold: readonly Entity[],
  pred: readonly Entity[],
  maxShift = DEFAULT_MAX_SHIFT,
): Array<{ start: number; end: number }> {
  const match = matchDocument(gold, pred, 'strict');
  const map = new OffsetMap(text);
  const cp = (e: Entity) => map.spanToCodePoints(e.spans[0]);
  const candidates: Array<{ p: number; g: number; start: number; end: number }> = [];
  pred.forEach((p, pi) => {
    if (match.predMatched[pi] || p.spans.length !== 1) return;
    const [ps, pe] = cp(p);
    gold.forEach((g, gi) => {
      if (match.goldMatched[gi] || g.spans.length !== 1 || g.type !== p.type) return;
      const [gs, ge] = cp(g);
      const start = ps - gs;
      const end = pe - ge;
      if (Math.abs(start) <= maxShift && Math.abs(end) <= maxShift) candidates.push({ p: pi, g: gi, start, end });
    });
  });
  candidates.sort(
    (a, b) => Math.abs(a.start) + Math.abs(a.end) - Math.abs(b.start) - Math.abs(b.end) || a.p - b.p || a.g - b.g,
  );
  const usedP = new Set<number>();
  const usedG = new Set<number>();
  const out: Array<{ start: number; end: number }> = [];
  for (const c of candidates) {
    if (usedP.has(c.p) || usedG.has(c.g)) continue;
    usedP.add(c.p);
    usedG.add(c.g);
    out.push({ start: c.start, end: c.end });
  }
  return out;
}

/** Shifts the BRAT parser already repaired (it records them as problems with `shift`). */
export function repairedShifts(problems: readonly Problem[]): ShiftHistogram {
  const h = emptyShiftHistogram();
  for (const p of problems) if (p.shift) addShift(h, p.shift[0], p.shift[1]);
  return h;
}
