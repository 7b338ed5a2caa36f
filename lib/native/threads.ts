import os from 'node:os';

/** The CPUs Node may use here (`os.availableParallelism()`, at least 1): the most threads mfner runs. */
export function cpuCount(): number {
  return Math.max(1, os.availableParallelism());
}

export interface ResolveThreadsOptions {
  /** Called once with one line (no `mfner:` prefix) when a count is capped. */
  warn?: (message: string) => void;
  /** How the message names the value (default `threads N`), e.g. `--threads 999`. */
  label?: string;
}

/**
 * The thread count to run with: `requested` (or {@link defaultThreads} when undefined), capped
 * at {@link cpuCount}. More threads than CPUs never helps and can stall ggml for seconds per
 * token (its threads wait at a barrier for the descheduled ones), so a larger value is clamped,
 * with `warn` told why. Values that are not positive integers pass through for the caller (or
 * the native layer) to refuse.
 */
export function resolveThreads(requested: number | undefined, options: ResolveThreadsOptions = {}): number {
  if (requested === undefined) return defaultThreads(options);
  const cpus = cpuCount();
  if (!(requested > cpus)) return requested;
  options.warn?.(`${options.label ?? `threads ${requested}`} is more than the ${cpus} CPU${cpus === 1 ? '' : 's'} here; using ${cpus}`);
  return cpus;
}

/**
 * The default thread count: $MFNER_THREADS (capped at the CPU count, as {@link resolveThreads}),
 * else half the CPUs Node may use (1..8).
 * ggml's threads meet at a barrier after every operation, so one descheduled thread stalls them
 * all: on 2 shared cores, 2 threads measured ~4000x slower than 1 (llama-batched-bench,
 * stories260K) while another process was busy. Half the CPUs also skips hyperthread siblings.
 */
export function defaultThreads(options: Pick<ResolveThreadsOptions, 'warn'> = {}): number {
  const env = Number.parseInt(process.env.MFNER_THREADS ?? '', 10);
  if (Number.isInteger(env) && env > 0) return resolveThreads(env, { warn: options.warn, label: `MFNER_THREADS=${env}` });
  return Math.max(1, Math.min(8, Math.floor(cpuCount() / 2)));
}
