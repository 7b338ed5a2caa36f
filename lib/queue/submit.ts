/**
 * `submit`: reads an input JSONL, cuts it into batches of consecutive records, and enqueues
 * one BullMQ job per batch (job id = the batch's content hash). Submitting the same input
 * again is safe: batches already done are skipped, queued ones are not duplicated (BullMQ
 * ignores an existing job id), and failed ones are retried. The run's manifest (batch ids and
 * line ranges, no text) is stored in Redis under a run id derived from the batch ids.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { FormatName } from '../formats/index.ts';
import { readLines } from '../corpus/lines.ts';
import { resolveTask } from '../pipeline/extract.ts';
import { parseRecord } from '../pipeline/jsonl-job.ts';
import { MfnerError } from '../native/errors.ts';
import { BATCH_SCHEMA, batchEntry, batchId, fileDigest, type BatchEntry, type BatchJobData, type BatchRecord, type BatchTask } from './batch.ts';
import { bullConnection, connect, keys, DEFAULT_QUEUE_NAME, KEY_PREFIX, type QueueTarget } from './connection.ts';
import { loadEngine } from './engine.ts';

export interface SubmitOptions extends QueueTarget {
  input: string;
  model: string;
  adapter?: string;
  format: FormatName;
  dataset?: string;
  types?: readonly string[];
  guideline?: string;
  /** 'format' (default), 'none' or GBNF source. */
  constraint?: string;
  maxTokens?: number;
  contextSize?: number;
  chatTemplate?: string;
  logText?: boolean;
  /** Records per job (default 16). */
  batchRecords?: number;
  /** Tries per batch before it is reported failed (default 3). */
  attempts?: number;
  /** First retry delay; doubles per retry (default 5000 ms). */
  backoffMs?: number;
  /** Enqueue batches even when a result was recorded before (e.g. the results were deleted). */
  redo?: boolean;
}

export interface SubmitResult {
  run: string;
  queue: string;
  records: number;
  documents: number;
  /** Input records that are error records already (bad JSON, no text). */
  inputErrors: number;
  batches: number;
  /** Batches newly enqueued (or already queued). */
  enqueued: number;
  /** Batches skipped because their result was recorded. */
  alreadyDone: number;
  /** Failed batches of this run that were retried. */
  retried: number;
}

export interface RunMeta {
  run: string;
  records: number;
  documents: number;
  inputErrors: number;
  batches: number;
  input: string;
  model: string;
  adapter: string | null;
  format: string;
  submittedAt: string;
}

const ADD_CHUNK = 100;

export async function submit(options: SubmitOptions): Promise<SubmitResult> {
  if (!existsSync(options.input)) throw new MfnerError('ERR_INPUT_MISSING', `input file not found: ${options.input}`);
  if (!existsSync(options.model)) throw new MfnerError('ERR_MODEL_MISSING', `model file not found: ${options.model}`);
  if (options.adapter && !existsSync(options.adapter)) throw new MfnerError('ERR_ADAPTER_MISSING', `adapter file not found: ${options.adapter}`);
  const per = options.batchRecords ?? 16;
  if (!Number.isInteger(per) || per < 1) throw new MfnerError('ERR_INVALID_ARG', 'batchRecords must be a positive integer');
  const { types, guideline } = resolveTask(options);
  const task: BatchTask = {
    format: options.format,
    types,
    guideline,
    constraint: options.constraint ?? 'format',
    maxTokens: options.maxTokens ?? 256,
    contextSize: options.contextSize ?? null,
    chatTemplate: options.chatTemplate ?? null,
    logText: options.logText ?? false,
  };
  const model = await fileDigest(options.model);
  const adapter = options.adapter ? await fileDigest(options.adapter) : null;
  const name = options.name ?? DEFAULT_QUEUE_NAME;
  const k = keys(name);
  const { bullmq } = await loadEngine();
  const redis = await connect(options.connection);
  const queue = new bullmq.Queue<BatchJobData, unknown, 'batch'>(name, { connection: bullConnection(options.connection), prefix: KEY_PREFIX });
  queue.on('error', () => {});
  const attempts = options.attempts ?? 3;
  const backoff = options.backoffMs ?? 5000;
  const result: SubmitResult = { run: '', queue: name, records: 0, documents: 0, inputErrors: 0, batches: 0, enqueued: 0, alreadyDone: 0, retried: 0 };
  const temp = k.temp(randomBytes(8).toString('hex'));
  const runHash = createHash('sha256');
  const runIds = new Set<string>();
  try {
    let pending: Array<{ data: BatchJobData; id: string; entry: BatchEntry }> = [];
    const flush = async () => {
      if (pending.length === 0) return;
      const chunk = pending;
      pending = [];
      await redis.rpush(temp, ...chunk.map((p) => JSON.stringify(p.entry)));
      const done = options.redo ? chunk.map(() => null) : await redis.hmget(k.done, ...chunk.map((p) => p.id));
      const toAdd = chunk.filter((_, i) => done[i] === null);
      result.alreadyDone += chunk.length - toAdd.length;
      if (toAdd.length > 0) {
        await queue.addBulk(
          toAdd.map((p) => ({
            name: 'batch' as const,
            data: p.data,
            opts: { jobId: p.id, attempts, backoff: { type: 'exponential', delay: backoff }, removeOnComplete: true, removeOnFail: false },
          })),
        );
      }
      result.enqueued += toAdd.length;
    };
    let records: BatchRecord[] = [];
    const cut = async () => {
      if (records.length === 0) return;
      const data: BatchJobData = { v: BATCH_SCHEMA, index: result.batches, model, adapter, task, records };
      const id = batchId(data);
      runHash.update(`${id}\n`);
      runIds.add(id);
      pending.push({ data, id, entry: batchEntry(id, records) });
      result.batches++;
      records = [];
      if (pending.length >= ADD_CHUNK) await flush();
    };
    for await (const { line, text } of readLines(options.input)) {
      if (text.trim() === '') continue;
      const rec = parseRecord(line, text);
      result.records++;
      if (rec.kind === 'error') {
        result.inputErrors++;
        records.push({ line, id: rec.id, error: { code: rec.code, message: rec.message } });
      } else {
        result.documents++;
        records.push({ line, id: rec.id, text: rec.text });
      }
      if (records.length >= per) await cut();
    }
    await cut();
    await flush();
    // Failed batches of this run go again (their attempts start over).
    for (const job of await queue.getFailed()) {
      if (job.id !== undefined && runIds.has(job.id)) {
        await job.retry('failed');
        result.retried++;
      }
    }
    result.run = runHash.digest('hex').slice(0, 16);
    const meta: RunMeta = {
      run: result.run,
      records: result.records,
      documents: result.documents,
      inputErrors: result.inputErrors,
      batches: result.batches,
      input: path.basename(options.input),
      model: model.name,
      adapter: adapter?.name ?? null,
      format: task.format,
      submittedAt: new Date().toISOString(),
    };
    if (result.batches > 0) await redis.rename(temp, k.batches(result.run));
    else await redis.del(k.batches(result.run));
    await redis.set(k.run(result.run), JSON.stringify(meta));
    await redis.sadd(k.runs, result.run);
  } finally {
    await redis.del(temp).catch(() => 0);
    await queue.close();
    redis.disconnect();
  }
  return result;
}

/** Reads a chat template or GBNF file given as a CLI value. */
export function readTextFile(file: string): string {
  return readFileSync(file, 'utf8');
}
