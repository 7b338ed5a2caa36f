// Decides CPU or CUDA at build time. Merely having nvcc is not enough: a GPU must be visible.
import { spawnSync } from 'node:child_process';

function run(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 20_000 });
  return r.error || r.status !== 0 ? undefined : r.stdout;
}

/** Parses MFNER_CUDA: true/false when set to a known value, undefined when unset or empty. */
export function parseCudaSetting(value) {
  if (value === undefined || value.trim() === '') return undefined;
  const v = value.trim().toLowerCase();
  if (['1', 'on', 'true', 'yes'].includes(v)) return true;
  if (['0', 'off', 'false', 'no'].includes(v)) return false;
  throw new Error(`MFNER_CUDA must be 1/ON or 0/OFF, got "${value}"`);
}

/**
 * Returns { cuda, reason, gpus } given the environment and probes (injectable for tests).
 * probes.gpus() lists visible GPUs (nvidia-smi -L lines); probes.nvcc() tells whether nvcc runs.
 */
export function decideCuda(env = process.env, probes = defaultProbes) {
  const setting = parseCudaSetting(env.MFNER_CUDA);
  if (setting === false) return { cuda: false, reason: 'MFNER_CUDA=0 forces CPU', gpus: [] };
  if (setting === true) return { cuda: true, reason: 'MFNER_CUDA=1 asks for CUDA', gpus: probes.gpus() };
  const gpus = probes.gpus();
  if (gpus.length === 0) return { cuda: false, reason: 'no GPU visible (nvidia-smi -L lists none)', gpus };
  if (!probes.nvcc()) return { cuda: false, reason: 'a GPU is visible but nvcc is not found', gpus };
  return { cuda: true, reason: `${gpus.length} GPU(s) visible and nvcc found`, gpus };
}

export const defaultProbes = {
  gpus() {
    const out = run('nvidia-smi', ['-L']);
    return out ? out.split('\n').filter((l) => /^GPU \d+/.test(l)) : [];
  },
  nvcc() {
    return run('nvcc', ['--version']) !== undefined;
  },
};
