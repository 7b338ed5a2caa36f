/**
 * `queue status`: what is waiting, running, delayed (retry backoff), failed and done; the
 * workers connected; the failed batches with their reason (codes and counts, no text); and
 * for a run, how many of its batches have results.
 */
import { connect, bullConnection, keys, DEFAULT_QUEUE_NAME, KEY_PREFIX, type QueueTarget } from './connection.ts';
import { loadEngine } from './engine.ts';
import type { BatchEntry, BatchJobData } from './batch.ts';
import type { RunMeta } from './submit.ts';
import { MfnerError } from '../native/errors.ts';

export interface FailedBatch {
  id: string;
  /** Position in its run. */
  batch: number;
  attempts: number;
  reason: string;
}

export interface RunStatus {
  meta: RunMeta;
  batches: number;
  done: number;
  /** Batches of this run that failed for good (retry with `mfner queue retry` or by submitting again). */
  failed: number;
  pending: number;
}

export interface QueueStatus {
  queue: string;
  counts: Record<string, number>;
  workers: number;
  failed: FailedBatch[];
  runs: string[];
  run?: RunStatus;
}

export async function readRun(redis: import('ioredis').Redis, name: string, run: string): Promise<{ meta: RunMeta; entries: BatchEntry[] }> {
  const k = keys(name);
  const raw = await redis.get(k.run(run));
  if (raw === null) throw new MfnerError('ERR_RUN_UNKNOWN', `no run ${run} in queue ${name} (mfner submit prints the run id)`);
  const entries = (await redis.lrange(k.batches(run), 0, -1)).map((e) => JSON.parse(e) as BatchEntry);
  return { meta: JSON.parse(raw) as RunMeta, entries };
}

export async function queueStatus(options: QueueTarget & { run?: string; failedLimit?: number }): Promise<QueueStatus> {
  const { bullmq } = await loadEngine();
  const name = options.name ?? DEFAULT_QUEUE_NAME;
  const k = keys(name);
  const redis = await connect(options.connection);
  const queue = new bullmq.Queue<BatchJobData>(name, { connection: bullConnection(options.connection), prefix: KEY_PREFIX });
  queue.on('error', () => {});
  try {
    const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'failed', 'completed');
    counts.done = await redis.hlen(k.done);
    let workers = 0;
    try {
      workers = await queue.getWorkersCount();
    } catch {
      workers = -1; // CLIENT LIST not allowed for this user
    }
    const failedJobs = await queue.getFailed(0, (options.failedLimit ?? 100) - 1);
    const failed = failedJobs.map((j) => ({ id: j.id ?? '?', batch: j.data.index, attempts: j.attemptsMade, reason: (j.failedReason ?? '').split('\n')[0] }));
    const runs = (await redis.smembers(k.runs)).sort();
    const status: QueueStatus = { queue: name, counts, workers, failed, runs };
    if (options.run) {
      const { meta, entries } = await readRun(redis, name, options.run);
      const ids = entries.map((e) => e.id);
      let done = 0;
      for (let i = 0; i < ids.length; i += 1000) {
        const part = await redis.hmget(k.done, ...ids.slice(i, i + 1000));
        done += part.filter((v) => v !== null).length;
      }
      const idSet = new Set(ids);
      const allFailed = failedJobs.length >= (options.failedLimit ?? 100) ? await queue.getFailed() : failedJobs;
      const runFailed = allFailed.filter((j) => j.id !== undefined && idSet.has(j.id)).length;
      status.run = { meta, batches: ids.length, done, failed: runFailed, pending: ids.length - done - runFailed };
    }
    return status;
  } finally {
    await queue.close();
    redis.disconnect();
  }
}

/** Puts every failed batch back in the queue (attempts start over). */
export async function retryFailed(options: QueueTarget): Promise<number> {
  const { bullmq } = await loadEngine();
  const name = options.name ?? DEFAULT_QUEUE_NAME;
  const queue = new bullmq.Queue(name, { connection: bullConnection(options.connection), prefix: KEY_PREFIX });
  queue.on('error', () => {});
  try {
    const n = await queue.getFailedCount();
    await queue.retryJobs({ state: 'failed' });
    return n;
  } finally {
    await queue.close();
  }
}

/**
 * Removes failed batches (they hold their documents' text for a retry), and with `all` the
 * whole queue: jobs, run manifests and the done set.
 */
export async function cleanQueue(options: QueueTarget & { all?: boolean }): Promise<{ removedFailed: number }> {
  const { bullmq } = await loadEngine();
  const name = options.name ?? DEFAULT_QUEUE_NAME;
  const queue = new bullmq.Queue(name, { connection: bullConnection(options.connection), prefix: KEY_PREFIX });
  queue.on('error', () => {});
  try {
    const removed = await queue.clean(0, 0, 'failed');
    if (options.all) await queue.obliterate({ force: true });
    return { removedFailed: removed.length };
  } finally {
    await queue.close();
  }
}
