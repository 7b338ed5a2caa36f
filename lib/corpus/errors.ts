/**
 * Loader errors say where (file, line, annotation id) and what is wrong, never which text:
 * corpora may hold patient text, and error messages end up in logs.
 */

export interface SourcePosition {
  file: string;
  line?: number;
  /** 1-based column in code points (JSON syntax errors), printed as `file:line:column`. */
  column?: number;
  /** Annotation id within the line or document (BRAT `T12`, a JSONL entity index…). */
  annotation?: string;
}

export class CorpusError extends Error {
  readonly code = 'MFNER_CORPUS';
  constructor(
    readonly position: SourcePosition,
    readonly reason: string,
  ) {
    super(`${formatPosition(position)}: ${reason}`);
    this.name = 'CorpusError';
  }
}

export function formatPosition({ file, line, column, annotation }: SourcePosition): string {
  const at = line === undefined ? '' : `:${line}${column === undefined ? '' : `:${column}`}`;
  return `${file}${at}${annotation === undefined ? '' : ` (${annotation})`}`;
}

export interface Skip extends SourcePosition {
  reason: string;
}

/**
 * What a lenient load left out. Strict loads (the default) throw on the first problem; lenient
 * ones record it here and go on, so nothing is lost silently.
 */
export class SkipReport {
  readonly skips: Skip[] = [];

  add(error: CorpusError): void {
    this.skips.push({ ...error.position, reason: error.reason });
  }

  get count(): number {
    return this.skips.length;
  }

  /** One line per distinct reason with its count, for the CLI. */
  summary(): string[] {
    const counts = new Map<string, number>();
    for (const s of this.skips) counts.set(s.reason, (counts.get(s.reason) ?? 0) + 1);
    return [...counts].map(([reason, n]) => `${n} × ${reason}`);
  }
}

export interface LoadOptions {
  /** Skip malformed records (recorded in `report`) instead of throwing. */
  lenient?: boolean;
  /** Where skips go in lenient mode; a lenient load without one still counts nothing silently. */
  report?: SkipReport;
}

/**
 * Runs `step`; a CorpusError is rethrown in strict mode or recorded in lenient mode.
 * Returns undefined when the record was skipped.
 */
export function guard<T>(options: LoadOptions, step: () => T): T | undefined {
  try {
    return step();
  } catch (err) {
    if (!(err instanceof CorpusError) || !options.lenient) throw err;
    if (!options.report) {
      throw new CorpusError(err.position, `${err.reason} (lenient mode needs a SkipReport to record skips)`);
    }
    options.report.add(err);
    return undefined;
  }
}
