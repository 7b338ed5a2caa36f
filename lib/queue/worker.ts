/**
 * `worker`: loads the model once and processes batches from the queue until stopped. Per
 * batch: check that the batch asks for this worker's model and adapter (by SHA-256), extract,
 * write the result file atomically under its job id, record it in the done set, complete the
 * job (BullMQ then deletes it, text included). A worker that dies mid-batch holds a lock that
 * expires after `lockMs`; another worker's stalled check then puts the batch back in the queue.
 * Logs carry job ids, counts and error codes, never text.
 */
import { Model } from '../native/index.ts';
import { BATCH_SCHEMA, fileDigest, processBatch, writeResultAtomic, type BatchJobData } from './batch.ts';
import { bullConnection, connect, keys, redisOptions, DEFAULT_QUEUE_NAME, KEY_PREFIX, type QueueTarget } from './connection.ts';
import { loadEngine } from './engine.ts';

export interface WorkerOptions extends QueueTarget {
  model: string;
  adapter?: string;
  /** Directory for result files (shared storage, or one per machine gathered before collect). */
  results: string;
  /** Batches processed at once by this worker, sharing the model (default 1; each adds a KV cache). */
  concurrency?: number;
  /** Prompts decoded together (default 8). */
  batchSize?: number;
  threads?: number;
  /** Lock of an active batch; a dead worker's batch is redelivered after it expires (default 30000). */
  lockMs?: number;
  /** Redeliveries after lock expiry before a batch is failed (default 3). */
  maxStalled?: number;
  /** Exit once the queue has had nothing waiting, delayed or active for this long (default: run until stopped). */
  idleExitMs?: number;
  /** Stops the worker: the active batches finish first. */
  signal?: AbortSignal;
  log?: (line: string) => void;
}

export interface WorkerSummary {
  batches: number;
  records: number;
  errors: number;
  failures: number;
  seconds: number;
}

const short = (h: string) => h.slice(0, 12);

export async function runWorker(options: WorkerOptions): Promise<WorkerSummary> {
  const started = Date.now();
  const log = options.log ?? (() => {});
  const { bullmq } = await loadEngine();
  const name = options.name ?? DEFAULT_QUEUE_NAME;
  const k = keys(name);
  const modelDigest = await fileDigest(options.model);
  const adapterDigest = options.adapter ? await fileDigest(options.adapter) : null;
  // Checked once with a clear error, then a client that reconnects (workers outlive Redis restarts).
  (await connect(options.connection)).disconnect();
  const redis = new (await loadEngine()).Redis({ ...redisOptions(options.connection), maxRetriesPerRequest: null });
  redis.on('error', () => {});
  const model = await Model.load(options.model);
  const summary: WorkerSummary = { batches: 0, records: 0, errors: 0, failures: 0, seconds: 0 };
  const lockMs = options.lockMs ?? 30_000;
  let worker: import('bullmq').Worker<BatchJobData, { records: number; errors: number }, 'batch'> | undefined;
  let idleTimer: NodeJS.Timeout | undefined;
  try {
    const processor = async (job: import('bullmq').Job<BatchJobData, { records: number; errors: number }, 'batch'>) => {
      const data = job.data;
      const id = job.id as string;
      if (data.v !== BATCH_SCHEMA) throw new bullmq.UnrecoverableError(`ERR_BATCH_SCHEMA: batch schema ${String(data.v)}, this worker reads ${BATCH_SCHEMA}`);
      if (data.model.sha256 !== modelDigest.sha256) {
        throw new bullmq.UnrecoverableError(
          `ERR_MODEL_MISMATCH: the batch asks for model ${data.model.name} (sha256 ${short(data.model.sha256)}), this worker has ${modelDigest.name} (${short(modelDigest.sha256)})`,
        );
      }
      if ((data.adapter?.sha256 ?? null) !== (adapterDigest?.sha256 ?? null)) {
        throw new bullmq.UnrecoverableError(
          `ERR_MODEL_MISMATCH: the batch asks for adapter ${data.adapter ? `${data.adapter.name} (${short(data.adapter.sha256)})` : 'none'}, this worker has ${adapterDigest ? `${adapterDigest.name} (${short(adapterDigest.sha256)})` : 'none'}`,
        );
      }
      const t0 = Date.now();
      log(`start ${id} batch ${data.index} records ${data.records.length} attempt ${job.attemptsMade + 1}`);
      const out = await processBatch(model, data, { adapter: options.adapter, batchSize: options.batchSize, threads: options.threads });
      writeResultAtomic(options.results, id, out.jsonl);
      await redis.hset(k.done, id, String(out.records));
      summary.batches++;
      summary.records += out.records;
      summary.errors += out.errors;
      log(`done ${id} batch ${data.index} records ${out.records} errors ${out.errors} ms ${Date.now() - t0}`);
      return { records: out.records, errors: out.errors };
    };
    worker = new bullmq.Worker<BatchJobData, { records: number; errors: number }, 'batch'>(name, processor, {
      connection: bullConnection(options.connection, { maxRetriesPerRequest: null }),
      prefix: KEY_PREFIX,
      concurrency: options.concurrency ?? 1,
      lockDuration: lockMs,
      stalledInterval: Math.max(500, Math.floor(lockMs / 2)),
      maxStalledCount: options.maxStalled ?? 3,
      autorun: false,
    });
    worker.on('error', (err) => log(`queue error: ${(err as Error).message?.split('\n')[0] ?? 'unknown'}`));
    worker.on('failed', (job, err) => {
      summary.failures++;
      // Error messages from extraction and the file system carry codes, counts and paths, not text.
      log(`failed ${job?.id ?? '?'} attempt ${job?.attemptsMade ?? '?'}: ${err.message.split('\n')[0]}`);
    });
    worker.on('stalled', (jobId) => log(`redelivering ${jobId} (its worker's lock expired)`));
    const w = worker;
    const stop = () => void w.close();
    options.signal?.addEventListener('abort', stop, { once: true });
    if (options.idleExitMs !== undefined) {
      const queue = new bullmq.Queue(name, { connection: bullConnection(options.connection), prefix: KEY_PREFIX });
      queue.on('error', () => {});
      let idleSince = Date.now();
      const check = async () => {
        try {
          const c = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children');
          const busy = Object.values(c).some((n) => n > 0);
          if (busy) idleSince = Date.now();
          else if (Date.now() - idleSince >= (options.idleExitMs ?? 0)) {
            await queue.close();
            await w.close();
            return;
          }
        } catch {
          idleSince = Date.now();
        }
        if (!w.closing) idleTimer = setTimeout(() => void check(), 250);
        else await queue.close();
      };
      idleTimer = setTimeout(() => void check(), 250);
    }
    log(`ready: queue ${name}, model ${modelDigest.name} (${short(modelDigest.sha256)})${adapterDigest ? `, adapter ${adapterDigest.name}` : ''}, concurrency ${options.concurrency ?? 1}`);
    await worker.run();
    options.signal?.removeEventListener('abort', stop);
  } finally {
    if (idleTimer) clearTimeout(idleTimer);
    await worker?.close();
    redis.disconnect();
    await model.dispose();
  }
  summary.seconds = (Date.now() - started) / 1000;
  return summary;
}
