import os from 'node:os';

/**
 * The default thread count: $MFNER_THREADS, else half the CPUs Node may use (1..8).
 * ggml's threads meet at a barrier after every operation, so one descheduled thread stalls them
 * all: on 2 shared cores, 2 threads measured ~4000x slower than 1 (llama-batched-bench,
 * stories260K) while another process was busy. Half the CPUs also skips hyperthread siblings.
 */
export function defaultThreads(): number {
  const env = Number.parseInt(process.env.MFNER_THREADS ?? '', 10);
  if (Number.isInteger(env) && env > 0) return env;
  return Math.max(1, Math.min(8, Math.floor(os.availableParallelism() / 2)));
}
