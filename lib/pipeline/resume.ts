/**
 * Resumable append-only JSONL output. The output file is its own progress record: every
 * record carries the input line it answers (`line`), records are appended in input order, and
 * a run that was killed is resumed by cutting a torn last line and continuing after the line
 * of the last complete record. A small state file beside the output holds the fingerprint of
 * the arguments (a resume with other arguments is refused) and whether the run completed.
 */
import { closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, openSync, readSync, renameSync, writeFileSync, readFileSync } from 'node:fs';
import path from 'node:path';

export const STATE_SCHEMA = 'mfner-extract-state/1';

export interface JobState {
  schema: typeof STATE_SCHEMA;
  fingerprint: string;
  complete: boolean;
}

/** A hidden file beside an output, named after it: `.<out>.mfner-<suffix>` (state, lock). */
export function besideOutput(out: string, suffix: string): string {
  return path.join(path.dirname(out), `.${path.basename(out)}.mfner-${suffix}`);
}

export function statePath(out: string): string {
  return besideOutput(out, 'state.json');
}

export function readState(out: string): JobState | undefined {
  const file = statePath(out);
  if (!existsSync(file)) return undefined;
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as JobState;
    return v && v.schema === STATE_SCHEMA && typeof v.fingerprint === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Writes the state durably: temporary file, fsync, rename. */
export function writeState(out: string, state: JobState): void {
  const file = statePath(out);
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeFileSync(fd, `${JSON.stringify(state)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

export interface RepairResult {
  /** Bytes cut from the end (a torn last record). */
  truncatedBytes: number;
  /** Complete records in the file. */
  records: number;
  /** The `line` of the last complete record (0 when none). */
  lastLine: number;
}

/**
 * Cuts everything after the last newline (a record torn by a kill), then reads the last
 * complete record's `line`. Reads backwards in blocks: memory does not grow with the file.
 * Counting records reads the file once, forwards, in blocks.
 */
export function repairOutput(file: string): RepairResult {
  const fd = openSync(file, 'r+');
  try {
    const size = fstatSync(fd).size;
    const block = Buffer.alloc(64 * 1024);
    // Find the last '\n'.
    let end = size;
    let lastNl = -1;
    while (end > 0 && lastNl < 0) {
      const start = Math.max(0, end - block.length);
      const n = readSync(fd, block, 0, end - start, start);
      const i = block.subarray(0, n).lastIndexOf(0x0a);
      if (i >= 0) lastNl = start + i;
      end = start;
    }
    const keep = lastNl + 1;
    const truncatedBytes = size - keep;
    if (truncatedBytes > 0) {
      ftruncateSync(fd, keep);
      fsyncSync(fd);
    }
    if (keep === 0) return { truncatedBytes, records: 0, lastLine: 0 };
    // The last record: from the previous '\n' (or the start) to lastNl.
    let recStart = 0;
    let chunks: Buffer[] = [];
    end = lastNl;
    let found = false;
    while (end > 0 && !found) {
      const start = Math.max(0, end - block.length);
      const n = readSync(fd, block, 0, end - start, start);
      const part = block.subarray(0, n);
      const i = part.lastIndexOf(0x0a);
      if (i >= 0) {
        recStart = start + i + 1;
        chunks.unshift(Buffer.from(part.subarray(i + 1)));
        found = true;
      } else {
        chunks.unshift(Buffer.from(part));
      }
      end = start;
    }
    void recStart;
    const last = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { line?: unknown };
    chunks = [];
    if (typeof last.line !== 'number') throw new Error(`${file}: the last record has no "line" field; not an mfner extract output`);
    // Count newlines.
    let records = 0;
    for (let pos = 0; pos < keep; ) {
      const n = readSync(fd, block, 0, Math.min(block.length, keep - pos), pos);
      for (let i = 0; i < n; i++) if (block[i] === 0x0a) records++;
      pos += n;
    }
    return { truncatedBytes, records, lastLine: last.line };
  } finally {
    closeSync(fd);
  }
}
