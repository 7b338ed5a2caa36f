/**
 * A batch: consecutive input records (documents and input-error records) with the task that
 * the submitter chose. Its job id is a content hash of (records with their input lines, model,
 * adapter, format, types, guideline, constraint, token limits, chat template, logText), so a
 * batch submitted twice is one job, and a result file named by the id can only hold that
 * batch's output: a duplicate delivery rewrites identical content.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, createReadStream, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { FormatName } from '../formats/index.ts';
import { extract } from '../pipeline/extract.ts';
import { outputRecord } from '../pipeline/jsonl-job.ts';
import type { Model } from '../native/index.ts';
import { MfnerError } from '../native/errors.ts';

export const BATCH_SCHEMA = 1;

/** Everything that changes the output, fully resolved (types and guideline, not a dataset name). */
export interface BatchTask {
  format: FormatName;
  types: string[];
  guideline: string;
  /** 'format', 'none' or GBNF source. */
  constraint: string;
  maxTokens: number;
  contextSize: number | null;
  chatTemplate: string | null;
  logText: boolean;
}

export interface FileDigest {
  /** File name only (paths differ between machines). */
  name: string;
  sha256: string;
}

export type BatchRecord =
  | { line: number; id: string | number | null; text: string }
  | { line: number; id: string | number | null; error: { code: string; message: string } };

export interface BatchJobData {
  v: typeof BATCH_SCHEMA;
  /** Position of the batch in its run (for status lines; not part of the id). */
  index: number;
  model: FileDigest;
  adapter: FileDigest | null;
  task: BatchTask;
  records: BatchRecord[];
}

/** The content hash that names the job and its result file. */
export function batchId(data: Omit<BatchJobData, 'index'>): string {
  const content = { v: data.v, model: data.model.sha256, adapter: data.adapter?.sha256 ?? null, task: data.task, records: data.records };
  return createHash('sha256').update(JSON.stringify(content)).digest('hex');
}

/** The manifest entry of a batch: no text, enough to check its result. */
export interface BatchEntry {
  id: string;
  /** Number of records. */
  n: number;
  first: number;
  last: number;
}

export function batchEntry(id: string, records: readonly BatchRecord[]): BatchEntry {
  return { id, n: records.length, first: records[0].line, last: records[records.length - 1].line };
}

/** SHA-256 of a file, streamed. */
export async function fileDigest(file: string): Promise<FileDigest> {
  if (!existsSync(file)) throw new MfnerError('ERR_MODEL_MISSING', `file not found: ${file}`);
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return { name: path.basename(file), sha256: hash.digest('hex') };
}

export function resultPath(dir: string, id: string): string {
  return path.join(dir, `${id}.jsonl`);
}

/**
 * Writes a result atomically: a temporary file in the same directory, fsync, rename over the
 * final name, fsync of the directory. A reader sees no file or the whole file, never a part.
 */
export function writeResultAtomic(dir: string, id: string, content: string): string {
  mkdirSync(dir, { recursive: true });
  const final = resultPath(dir, id);
  const tmp = path.join(dir, `.${id}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, final);
  try {
    const dfd = openSync(dir, 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    // Some file systems refuse fsync on directories; the rename is still atomic.
  }
  return final;
}

export interface ProcessOptions {
  /** The LoRA adapter file (its digest is checked by the worker). */
  adapter?: string;
  /** Prompts decoded together (does not change results). */
  batchSize?: number;
  threads?: number;
  signal?: AbortSignal;
}

export interface ProcessedBatch {
  /** The output JSONL (one line per record, in input order), exactly as `mfner extract` writes it. */
  jsonl: string;
  records: number;
  errors: number;
}

/** Extracts a batch with a loaded model: one output record per batch record, in input order. */
export async function processBatch(model: Model, data: BatchJobData, options: ProcessOptions = {}): Promise<ProcessedBatch> {
  const docs = data.records.filter((r): r is Extract<BatchRecord, { text: string }> => 'text' in r);
  const t = data.task;
  const results = new Map<number, Record<string, unknown>>();
  let i = 0;
  if (docs.length > 0) {
    const input = docs.map((d) => ({ id: d.id === null ? undefined : d.id, text: d.text }));
    for await (const r of extract(input, {
      model,
      adapter: options.adapter,
      format: t.format,
      types: t.types,
      guideline: t.guideline,
      constraint: t.constraint,
      maxTokens: t.maxTokens,
      contextSize: t.contextSize ?? undefined,
      chatTemplate: t.chatTemplate ?? undefined,
      keepAnswers: t.logText,
      batchSize: options.batchSize,
      threads: options.threads,
      signal: options.signal,
    })) {
      const d = docs[i++];
      results.set(d.line, outputRecord({ kind: 'doc', line: d.line, id: d.id, text: d.text }, r, t.logText));
    }
  }
  if (i !== docs.length) throw new MfnerError('ERR_INTERNAL', 'extract returned fewer results than documents');
  let errors = 0;
  const lines = data.records.map((r) => {
    if ('error' in r) {
      errors++;
      return JSON.stringify({ line: r.line, id: r.id, error: r.error });
    }
    const rec = results.get(r.line) as Record<string, unknown>;
    if ('error' in rec) errors++;
    return JSON.stringify(rec);
  });
  return { jsonl: lines.map((l) => `${l}\n`).join(''), records: lines.length, errors };
}

/**
 * Checks a result file against its manifest entry: n records, lines ascending within
 * [first, last]. Returns the content, or a reason (no text) why it is unusable.
 */
export function readResult(file: string, entry: BatchEntry): { content: string } | { problem: string } {
  if (!existsSync(file)) return { problem: 'missing' };
  const content = readFileSync(file, 'utf8');
  const lines = content.split('\n');
  if (lines.pop() !== '') return { problem: 'no final newline' };
  if (lines.length !== entry.n) return { problem: `${lines.length} records, expected ${entry.n}` };
  let prev = entry.first - 1;
  for (const l of lines) {
    let line: unknown;
    try {
      line = (JSON.parse(l) as { line?: unknown }).line;
    } catch {
      return { problem: 'not JSONL' };
    }
    if (typeof line !== 'number' || line <= prev || line > entry.last) return { problem: 'records out of order or from another batch' };
    prev = line;
  }
  if (prev !== entry.last) return { problem: 'last record is not the batch\'s last line' };
  return { content };
}
