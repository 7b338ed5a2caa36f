/**
 * `collect`: the merged JSONL in input order, one record per input record.
 *
 * From a queue run: the run's manifest (batch ids in input order) is read from Redis and each
 * batch's result file is appended verbatim; a file is used only if it has exactly the batch's
 * records, in order. Each batch contributes once however often it was delivered, so the output
 * is exactly-once. Nothing is written unless every batch has its result.
 *
 * From shards (`mfner extract --shard i/N` outputs): a k-way merge by input line; a line seen
 * twice is refused. With the input file, every input record must have its output record.
 */
import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { readLines } from '../corpus/lines.ts';
import { readState } from '../pipeline/resume.ts';
import { MfnerError } from '../native/errors.ts';
import { readResult, resultPath } from './batch.ts';
import { connect, bullConnection, DEFAULT_QUEUE_NAME, KEY_PREFIX, type QueueTarget } from './connection.ts';
import { loadEngine } from './engine.ts';
import { readRun } from './status.ts';

export interface CollectResult {
  out: string;
  records: number;
  errors: number;
  /** Batches (queue) or files (shards) merged. */
  parts: number;
}

/** Writes through a temporary file renamed over `out` at the end. */
class AtomicWriter {
  private readonly tmp: string;
  private readonly fd: number;
  constructor(readonly out: string) {
    this.tmp = path.join(path.dirname(out), `.${path.basename(out)}.${process.pid}.collect.tmp`);
    this.fd = openSync(this.tmp, 'w');
  }
  write(text: string): void {
    writeSync(this.fd, text);
  }
  commit(): void {
    fsyncSync(this.fd);
    closeSync(this.fd);
    renameSync(this.tmp, this.out);
  }
  abort(): void {
    closeSync(this.fd);
    rmSync(this.tmp, { force: true });
  }
}

const countErrors = (content: string) => content.split('\n').filter((l) => l.includes('"error":{')).length;

export async function collectRun(options: QueueTarget & { run: string; results: readonly string[]; out: string }): Promise<CollectResult> {
  const name = options.name ?? DEFAULT_QUEUE_NAME;
  const redis = await connect(options.connection);
  let run;
  try {
    run = await readRun(redis, name, options.run);
  } finally {
    redis.disconnect();
  }
  const missing: Array<{ id: string; problem: string }> = [];
  const writer = new AtomicWriter(options.out);
  let records = 0;
  let errors = 0;
  try {
    for (const entry of run.entries) {
      let found: { content: string } | { problem: string } = { problem: 'missing' };
      for (const dir of options.results) {
        const r = readResult(resultPath(dir, entry.id), entry);
        if ('content' in r || r.problem !== 'missing') found = r;
        if ('content' in r) break;
      }
      if ('content' in found) {
        if (missing.length === 0) writer.write(found.content);
        records += entry.n;
        errors += countErrors(found.content);
      } else missing.push({ id: entry.id, problem: found.problem });
    }
    if (missing.length > 0) {
      const states = await batchStates(options, missing.slice(0, 200).map((m) => m.id));
      const byState = new Map<string, number>();
      for (const s of states) byState.set(s, (byState.get(s) ?? 0) + 1);
      const bad = missing.filter((m) => m.problem !== 'missing').length;
      throw new MfnerError(
        'ERR_INCOMPLETE',
        `${missing.length} of ${run.entries.length} batches of run ${options.run} have no usable result yet` +
          ` (${[...byState].map(([s, n]) => `${s}: ${n}`).join(', ')}${missing.length > 200 ? ', first 200 looked up' : ''}${bad ? `; ${bad} result files unusable` : ''}); nothing written. See \`mfner queue status --run ${options.run}\``,
      );
    }
    writer.commit();
  } catch (err) {
    writer.abort();
    throw err;
  }
  return { out: options.out, records, errors, parts: run.entries.length };
}

async function batchStates(target: QueueTarget, ids: string[]): Promise<string[]> {
  const { bullmq } = await loadEngine();
  const queue = new bullmq.Queue(target.name ?? DEFAULT_QUEUE_NAME, { connection: bullConnection(target.connection), prefix: KEY_PREFIX });
  queue.on('error', () => {});
  try {
    return await Promise.all(ids.map(async (id) => {
      const s = await queue.getJobState(id);
      return s === 'unknown' ? 'done but result file not found' : s;
    }));
  } finally {
    await queue.close();
  }
}

/** Merges `mfner extract --shard i/N` outputs by input line. */
export async function mergeShards(options: { files: readonly string[]; out: string; input?: string }): Promise<CollectResult> {
  for (const f of options.files) {
    if (!existsSync(f)) throw new MfnerError('ERR_INPUT_MISSING', `shard output not found: ${f}`);
    const state = readState(f);
    if (state && !state.complete) throw new MfnerError('ERR_INCOMPLETE', `${f} is from a run that has not finished; run its shard again to complete it`);
  }
  const iters = options.files.map((f) => readLines(f)[Symbol.asyncIterator]());
  const heads: Array<{ line: number; text: string } | null> = [];
  const next = async (i: number) => {
    for (;;) {
      const r = await iters[i].next();
      if (r.done) return null;
      if (r.value.text === '') continue;
      let line: unknown;
      try {
        line = (JSON.parse(r.value.text) as { line?: unknown }).line;
      } catch {
        throw new MfnerError('ERR_INVALID_INPUT', `${options.files[i]}, line ${r.value.line}: not a JSON record (a torn line? finish that shard first)`);
      }
      if (typeof line !== 'number') throw new MfnerError('ERR_INVALID_INPUT', `${options.files[i]}, line ${r.value.line}: no "line" field; not an mfner extract output`);
      return { line, text: r.value.text };
    }
  };
  for (let i = 0; i < iters.length; i++) heads.push(await next(i));
  const expected = options.input ? readLines(options.input)[Symbol.asyncIterator]() : undefined;
  const nextExpected = async () => {
    if (!expected) return undefined;
    for (;;) {
      const r = await expected.next();
      if (r.done) return null;
      if (r.value.text.trim() !== '') return r.value.line;
    }
  };
  const writer = new AtomicWriter(options.out);
  let records = 0;
  let errors = 0;
  let prev = 0;
  try {
    for (;;) {
      let best = -1;
      for (let i = 0; i < heads.length; i++) if (heads[i] && (best < 0 || heads[i]!.line < heads[best]!.line)) best = i;
      const want = await nextExpected();
      if (best < 0) {
        if (want) throw new MfnerError('ERR_INCOMPLETE', `input line ${want} has no output record in these shards (a shard missing?)`);
        break;
      }
      const head = heads[best]!;
      if (head.line <= prev) throw new MfnerError('ERR_DUPLICATE', `input line ${head.line} has more than one output record (the same shard given twice?)`);
      if (want !== undefined && want !== head.line) {
        throw new MfnerError('ERR_INCOMPLETE', want === null ? `output record for line ${head.line} is beyond the input` : `input line ${want} has no output record in these shards (a shard missing?)`);
      }
      writer.write(`${head.text}\n`);
      records++;
      if (head.text.includes('"error":{')) errors++;
      prev = head.line;
      heads[best] = await next(best);
    }
    writer.commit();
  } catch (err) {
    writer.abort();
    throw err;
  }
  return { out: options.out, records, errors, parts: options.files.length };
}
