/**
 * `--shard i/N` for clusters without Redis (Kubernetes Indexed Jobs, Slurm arrays, any batch
 * scheduler): copy i of N takes the input records whose 0-based record index (blank lines are
 * not records) is i mod N. The split is deterministic and needs no pass over the input; every
 * shard's output is in input order and carries each record's input `line`, so `mfner collect`
 * merges the N outputs back into one file in input order. Pure: no queue dependency.
 */
import { MfnerError } from '../native/errors.ts';

export interface Shard {
  /** 0-based (Kubernetes' JOB_COMPLETION_INDEX is 0-based). */
  index: number;
  count: number;
}

/** Parses `i/N` (0 ≤ i < N). */
export function parseShard(value: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(value);
  if (!m) throw new MfnerError('ERR_INVALID_ARG', `--shard takes i/N (0-based i), not ${JSON.stringify(value.slice(0, 40))}`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (!Number.isSafeInteger(count) || count < 1) throw new MfnerError('ERR_INVALID_ARG', '--shard i/N: N must be at least 1');
  if (index >= count) throw new MfnerError('ERR_INVALID_ARG', `--shard i/N: i is 0-based and must be below N (got ${index}/${count})`);
  return { index, count };
}

/** Whether the record with this 0-based record index belongs to the shard. */
export function inShard(recordIndex: number, shard: Shard): boolean {
  return recordIndex % shard.count === shard.index;
}
