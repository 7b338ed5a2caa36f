/**
 * `mfner/queue`: extraction across many machines on BullMQ (Redis ≥ 6.2). Needs the optional
 * packages bullmq and ioredis; importing this entry without them fails at once with
 * ERR_QUEUE_UNAVAILABLE naming the install command. See docs/operations.md.
 */
import { loadEngine } from './engine.ts';

await loadEngine();

export { submit, type SubmitOptions, type SubmitResult, type RunMeta } from './submit.ts';
export { runWorker, type WorkerOptions, type WorkerSummary } from './worker.ts';
export { collectRun, mergeShards, type CollectResult } from './collect.ts';
export { queueStatus, retryFailed, cleanQueue, type QueueStatus, type RunStatus, type FailedBatch } from './status.ts';
export { redisOptions, redactUrl, connect, PASSWORD_ENV, DEFAULT_QUEUE_NAME, type ConnectionSpec, type QueueTarget } from './connection.ts';
export { batchId, processBatch, writeResultAtomic, readResult, resultPath, fileDigest, BATCH_SCHEMA, type BatchJobData, type BatchTask, type BatchRecord, type BatchEntry } from './batch.ts';
export { parseShard, inShard, type Shard } from './shard.ts';
export { loadEngine, INSTALL_HINT } from './engine.ts';
