/** Pieces every parser shares: finding the answer, naming types, recording problems. */
import { sortEntities } from './entity.ts';
import type { ParseProblem, ParseResult, ProblemKind } from './types.ts';

const ANSWER_MARK = /answer\s*:/iu;

/** Index just after the first `Answer:` (any case), or 0 when the model left it out. */
export function answerStart(answer: string): number {
  const m = ANSWER_MARK.exec(answer);
  return m ? m.index + m[0].length : 0;
}

/** Lines after `Answer:` with code-fence lines removed. */
export function answerLines(answer: string): string[] {
  return answer
    .slice(answerStart(answer))
    .split(/\r?\n/u)
    .filter((line) => !/^\s*(```|~~~)/u.test(line));
}

function looseKey(label: string): string {
  return label.trim().toLowerCase().replace(/[\s_-]+/gu, '_');
}

/**
 * Maps a label as the model wrote it to one of `types`: exactly, then ignoring case, then
 * also treating spaces, hyphens and underscores alike (`Cell type` → `cell_type`).
 */
export class TypeResolver {
  private readonly exact: Set<string>;
  private readonly lower = new Map<string, string>();
  private readonly loose = new Map<string, string>();

  constructor(types: readonly string[]) {
    this.exact = new Set(types);
    for (const t of types) {
      if (!this.lower.has(t.toLowerCase())) this.lower.set(t.toLowerCase(), t);
      if (!this.loose.has(looseKey(t))) this.loose.set(looseKey(t), t);
    }
  }

  resolve(label: string): string | undefined {
    if (this.exact.has(label)) return label;
    return this.lower.get(label.toLowerCase()) ?? this.loose.get(looseKey(label));
  }
}

export class Problems {
  readonly list: ParseProblem[] = [];

  add(kind: ProblemKind, message: string, item?: number, shift?: [number, number]): void {
    const p: ParseProblem = { kind, message };
    if (item !== undefined) p.item = item;
    if (shift !== undefined) p.shift = shift;
    this.list.push(p);
  }

  unknownType(item: number): void {
    this.add('unknown-type', `item ${item} has a type that is not among the requested types; dropped`, item);
  }
}

/**
 * Whatever parse meets, it must not throw: a last guard around each parser, which also puts
 * the entities in text order (problems keep the answer's item indices).
 */
export function guarded(run: () => ParseResult, empty: () => ParseResult): ParseResult {
  try {
    const out = run();
    return { entities: sortEntities(out.entities), problems: out.problems };
  } catch (err) {
    const out = empty();
    out.problems.push({
      kind: 'malformed-item',
      message: `the answer could not be read (${(err as Error)?.name ?? 'error'})`,
    });
    return out;
  }
}
