/**
 * The extraction job behind `mfner extract`: JSONL in, JSONL out, one output record per input
 * record, streaming with bounded memory, resumable after a kill (resume.ts).
 *
 * Input records: `{"id"?, "text", …}` one per line (other fields are ignored; blank lines are
 * not records). Output records, in input order, code-point offsets:
 *   {"line": 3, "id": "d3", "entities": [{"type", "spans": [[s, e], …], "text", "grounded"?, "confidence"}], "problems": […]}
 *   {"line": 4, "id": null, "error": {"code": "invalid-json", "message": "…"}}
 * Neither records, errors nor progress quote document text, unless `logText` is set (then the
 * raw answers are kept in each record as `answers`).
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, statSync, writeSync, ftruncateSync } from 'node:fs';
import path from 'node:path';
import { OffsetMap, entityToCodePoints } from '../formats/entity.ts';
import { readLines } from '../corpus/lines.ts';
import { MfnerError } from '../native/index.ts';
import { extract, resolveTask, type ExtractOptions, type ExtractSummary, type ExtractedDocument } from './extract.ts';
import { readState, repairOutput, writeState, STATE_SCHEMA } from './resume.ts';
import { acquireOutputLock } from './output-lock.ts';
import { inShard, type Shard } from '../queue/shard.ts';

export interface ExtractJobOptions extends Omit<ExtractOptions, 'model' | 'keepAnswers' | 'onNote'> {
  model: string;
  input: string;
  output: string;
  /** Keep raw answers (which may quote the documents) in the output records. */
  logText?: boolean;
  /** Start again even though the output exists from other arguments. */
  overwrite?: boolean;
  /** Only the input records whose 0-based index (blank lines are not records) is `index` mod `count`. */
  shard?: Shard;
  /** fsync the output at most this often (ms; default 1000) and at the end. */
  syncIntervalMs?: number;
  onProgress?: (p: JobProgress) => void;
  onNote?: (note: string) => void;
}

export interface JobProgress {
  /** Output records written in this run. */
  records: number;
  errors: number;
  /** The input line of the last record written. */
  line: number;
  elapsedMs: number;
}

export interface ExtractJobResult {
  /** Output records written by this run (documents + error records). */
  records: number;
  documents: number;
  errors: number;
  /** Records already in the output when this run started (a resume). */
  resumedRecords: number;
  /** Input line after which this run started (0 for a fresh run). */
  resumedAfterLine: number;
  truncatedBytes: number;
  alreadyComplete: boolean;
  seconds: number;
  documentsPerSecond: number;
  constraint: string;
  notes: string[];
}

export type Pending =
  | { kind: 'doc'; line: number; id: string | number | null; text: string }
  | { kind: 'error'; line: number; id: string | number | null; code: string; message: string };

/** Which arguments make two runs the same job (batch size and threads do not change results). */
export function jobFingerprint(o: ExtractJobOptions): string {
  const { types, guideline } = resolveTask(o);
  const fileId = (p: string | undefined) => (p === undefined ? null : { path: path.resolve(p), size: statSync(p).size });
  const parts = {
    model: fileId(o.model),
    adapter: fileId(o.adapter),
    input: fileId(o.input),
    format: o.format,
    types,
    guideline,
    constraint: o.constraint ?? 'format',
    maxTokens: o.maxTokens ?? null,
    contextSize: o.contextSize ?? null,
    chatTemplate: o.chatTemplate ?? null,
    logText: o.logText ?? false,
    // Only when set, so unsharded runs keep their fingerprints.
    ...(o.shard ? { shard: [o.shard.index, o.shard.count] } : {}),
  };
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

/** One input line as a pending record: a document, or an error record that never quotes the line. */
export function parseRecord(line: number, raw: string): Pending {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    // JSON.parse's message quotes the input: never pass it on.
    return { kind: 'error', line, id: null, code: 'invalid-json', message: `line ${line} is not valid JSON` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { kind: 'error', line, id: null, code: 'not-an-object', message: `line ${line} is not a JSON object` };
  }
  const v = value as { id?: unknown; text?: unknown };
  const id = typeof v.id === 'string' || (typeof v.id === 'number' && Number.isFinite(v.id)) ? v.id : null;
  if (v.id !== undefined && id === null) {
    return { kind: 'error', line, id: null, code: 'invalid-id', message: `line ${line}: "id" must be a string or a number` };
  }
  if (typeof v.text !== 'string') {
    return { kind: 'error', line, id, code: 'missing-text', message: `line ${line}: "text" must be a string` };
  }
  return { kind: 'doc', line, id, text: v.text };
}

/** The output record of a document (code-point offsets), exactly as `mfner extract` writes it. */
export function outputRecord(p: Extract<Pending, { kind: 'doc' }>, r: ExtractedDocument, logText: boolean): Record<string, unknown> {
  if (r.error) return { line: p.line, id: p.id, error: r.error };
  const map = new OffsetMap(p.text);
  const entities = r.entities.map((e) => {
    const cp = entityToCodePoints(map, e);
    const out: Record<string, unknown> = { type: cp.type, spans: cp.spans, text: cp.text };
    if (e.grounded !== undefined) out.grounded = e.grounded;
    if (e.confidence !== undefined) out.confidence = Number(e.confidence.toPrecision(3));
    return out;
  });
  const problems = r.answers.flatMap((a) =>
    a.problems.map((q) => ({ ...q, ...(r.chunks > 1 ? { chunk: a.chunk } : {}), ...(a.types.length === 1 && r.answers.length > 1 ? { type: a.types[0] } : {}) })),
  );
  const record: Record<string, unknown> = { line: p.line, id: p.id, entities, problems };
  if (r.chunks > 1) record.chunks = r.chunks;
  if (logText) record.answers = r.answers.map((a) => a.text ?? null);
  return record;
}

export async function runExtractJob(options: ExtractJobOptions): Promise<ExtractJobResult> {
  const started = Date.now();
  if (!existsSync(options.input)) throw new MfnerError('ERR_INPUT_MISSING', `input file not found: ${options.input}`);
  if (!existsSync(options.model)) throw new MfnerError('ERR_MODEL_MISSING', `model file not found: ${options.model}`);
  if (options.adapter && !existsSync(options.adapter)) throw new MfnerError('ERR_ADAPTER_MISSING', `adapter file not found: ${options.adapter}`);
  if (path.resolve(options.input) === path.resolve(options.output)) throw new MfnerError('ERR_INVALID_ARG', '--in and --out are the same file');
  const fingerprint = jobFingerprint(options);
  // One writer per output: the resume decision below and every append happen under the lock.
  const lock = acquireOutputLock(options.output);
  try {
    return await runLocked(options, fingerprint, started);
  } finally {
    lock.release();
  }
}

async function runLocked(options: ExtractJobOptions, fingerprint: string, started: number): Promise<ExtractJobResult> {
  const result: ExtractJobResult = {
    records: 0,
    documents: 0,
    errors: 0,
    resumedRecords: 0,
    resumedAfterLine: 0,
    truncatedBytes: 0,
    alreadyComplete: false,
    seconds: 0,
    documentsPerSecond: 0,
    constraint: options.constraint ?? 'format',
    notes: [],
  };

  // Resume, refuse, or start.
  const state = readState(options.output);
  let fresh = true;
  if (existsSync(options.output)) {
    if (state?.fingerprint === fingerprint) {
      if (state.complete) {
        result.alreadyComplete = true;
        return result;
      }
      const repaired = repairOutput(options.output);
      result.truncatedBytes = repaired.truncatedBytes;
      result.resumedRecords = repaired.records;
      result.resumedAfterLine = repaired.lastLine;
      fresh = false;
    } else if (!options.overwrite) {
      throw new MfnerError(
        'ERR_OUTPUT_EXISTS',
        `${options.output} exists and was not written by a run with these arguments; pass --overwrite to start again, or the same arguments to resume`,
      );
    }
  }
  writeState(options.output, { schema: STATE_SCHEMA, fingerprint, complete: false });
  const fd = openSync(options.output, fresh ? 'w' : 'a');
  if (fresh) ftruncateSync(fd, 0);
  const syncEvery = options.syncIntervalMs ?? 1000;
  let lastSync = Date.now();
  let lastLine = result.resumedAfterLine;

  const write = (record: object, line: number, isError: boolean) => {
    writeSync(fd, `${JSON.stringify(record)}\n`);
    result.records++;
    if (isError) result.errors++;
    else result.documents++;
    lastLine = line;
    if (Date.now() - lastSync >= syncEvery) {
      fsyncSync(fd);
      lastSync = Date.now();
    }
    options.onProgress?.({ records: result.records, errors: result.errors, line, elapsedMs: Date.now() - started });
  };
  const writeError = (p: Extract<Pending, { kind: 'error' }>) => write({ line: p.line, id: p.id, error: { code: p.code, message: p.message } }, p.line, true);

  // Records in input order not yet written; errors wait behind the documents before them.
  const fifo: Pending[] = [];
  const skipAfter = result.resumedAfterLine;
  let recordIndex = -1;
  async function* documents() {
    for await (const { line, text } of readLines(options.input)) {
      if (text.trim() === '') continue;
      recordIndex++;
      if (line <= skipAfter || (options.shard && !inShard(recordIndex, options.shard))) continue;
      const rec = parseRecord(line, text);
      if (rec.kind === 'error') {
        if (fifo.length === 0) writeError(rec);
        else fifo.push(rec);
        continue;
      }
      fifo.push(rec);
      yield { id: rec.id === null ? undefined : rec.id, text: rec.text };
    }
  }

  const writeDoc = (p: Extract<Pending, { kind: 'doc' }>, r: ExtractedDocument) => {
    write(outputRecord(p, r, options.logText ?? false), p.line, r.error !== undefined);
  };

  const summary: ExtractSummary = { constraint: 'none', notes: [] };
  try {
    const { input: _i, output: _o, logText, overwrite: _w, syncIntervalMs: _s, onProgress: _p, shard: _h, ...rest } = options;
    for await (const r of extract(documents(), { ...rest, keepAnswers: logText ?? false }, summary)) {
      while (fifo.length > 0 && fifo[0].kind === 'error') writeError(fifo.shift() as Extract<Pending, { kind: 'error' }>);
      const head = fifo.shift();
      if (!head || head.kind !== 'doc') throw new MfnerError('ERR_INTERNAL', 'extract results and input records are out of step');
      writeDoc(head, r);
    }
    while (fifo.length > 0) writeError(fifo.shift() as Extract<Pending, { kind: 'error' }>);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  writeState(options.output, { schema: STATE_SCHEMA, fingerprint, complete: true });
  void lastLine;
  result.constraint = summary.constraint;
  result.notes = summary.notes;
  result.seconds = (Date.now() - started) / 1000;
  result.documentsPerSecond = result.seconds > 0 ? result.documents / result.seconds : 0;
  return result;
}
