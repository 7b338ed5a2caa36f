/**
 * Runs GGUF mutants in a few child processes (fuzz-child.ts), each looping over many of them, and
 * restarts a child after the one that killed it. Every mutant ends `ok`, with an error code, as
 * `signal:<SIG>` (the process died by a signal: the bug this hunts) or `hang` (no answer in
 * `mutantTimeoutMs`).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';

export interface FuzzOutcome {
  index: number;
  outcome: string;
}

const CHILD = path.join(import.meta.dirname, 'fuzz-child.ts');

function runChild(modelPath: string, dir: string, mode: string, seed: number, indices: number[], mutantTimeoutMs: number): Promise<{ done: Map<number, string>; stuck?: { index: number; outcome: string } }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import=tsx', CHILD, modelPath, dir, mode, String(seed), ...indices.map(String)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, MFNER_LOG: 'none', MFNER_THREADS: '1' },
    });
    const done = new Map<number, string>();
    let current: number | undefined;
    let hung = false;
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        hung = true;
        child.kill('SIGKILL');
      }, mutantTimeoutMs);
    };
    arm();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString('utf8')).slice(-4000);
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      const [what, index, outcome] = line.split(' ');
      if (what === 'start') {
        current = Number(index);
        arm();
      } else if (what === 'end') {
        done.set(Number(index), outcome);
        current = undefined;
      }
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (current === undefined && code === 0) return resolve({ done });
      // The mutant in progress killed it (or, between mutants, the child itself failed).
      const index = current ?? indices.find((i) => !done.has(i)) ?? -1;
      const outcome = hung ? 'hang' : signal ? `signal:${signal}` : `exit:${code}:${stderr.split('\n').filter(Boolean).slice(-3).join(' | ')}`;
      resolve({ done, stuck: { index, outcome } });
    });
  });
}

/** Runs mutants `0..count-1` in `children` parallel lanes; returns one outcome per mutant. */
export async function runFuzz(options: { modelPath: string; dir: string; mode: string; seed: number; count: number; children: number; mutantTimeoutMs: number }): Promise<FuzzOutcome[]> {
  const outcomes = new Map<number, string>();
  const lane = async (indices: number[]) => {
    let left = indices;
    while (left.length > 0) {
      const { done, stuck } = await runChild(options.modelPath, options.dir, options.mode, options.seed, left, options.mutantTimeoutMs);
      for (const [i, o] of done) outcomes.set(i, o);
      if (stuck && stuck.index >= 0) outcomes.set(stuck.index, stuck.outcome);
      left = left.filter((i) => !outcomes.has(i));
      if (stuck && stuck.index < 0) break;
    }
  };
  const lanes = Array.from({ length: options.children }, (_, k) => Array.from({ length: options.count }, (_, i) => i).filter((i) => i % options.children === k));
  await Promise.all(lanes.map(lane));
  return [...outcomes].map(([index, outcome]) => ({ index, outcome })).sort((a, b) => a.index - b.index);
}
