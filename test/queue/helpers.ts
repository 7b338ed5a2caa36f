import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const bin = path.join(root, 'lib/cli/bin.ts');

/** The Redis the queue tests use (.ci/run starts one on loopback), or why they skip. */
export const REDIS = process.env.MFNER_TEST_REDIS;
export const NO_REDIS = REDIS
  ? undefined
  : 'MFNER_TEST_REDIS is not set (e.g. redis://127.0.0.1:6379; .ci/run installs and starts redis-server): queue tests skipped';

export const uniqueName = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;

export function runCli(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, ['--import', 'tsx', bin, ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 240_000 });
}

export interface Child {
  proc: ChildProcess;
  lines: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the first line at index ≥ `from` (seen or to come) that matches. */
  waitFor(re: RegExp, from?: number, timeoutMs?: number): Promise<string>;
}

export function spawnCli(args: string[], env: NodeJS.ProcessEnv = {}): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', bin, ...args], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiters: Array<{ re: RegExp; from: number; resolve: (l: string) => void }> = [];
  let buf = '';
  const onData = (d: Buffer) => {
    buf += d.toString('utf8');
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      lines.push(line);
      for (const w of [...waiters]) if (lines.length - 1 >= w.from && w.re.test(line)) (waiters.splice(waiters.indexOf(w), 1), w.resolve(line));
    }
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  return {
    proc,
    lines,
    exited,
    waitFor: (re, from = 0, timeoutMs = 120_000) =>
      new Promise((resolve, reject) => {
        const seen = lines.slice(from).find((l) => re.test(l));
        if (seen) return resolve(seen);
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${re}; output:\n${lines.slice(-20).join('\n')}`)), timeoutMs);
        waiters.push({ re, from, resolve: (l) => (clearTimeout(timer), resolve(l)) });
        void exited.then(() => setTimeout(() => reject(new Error(`exited before ${re}; output:\n${lines.slice(-20).join('\n')}`)), 50));
      }),
  };
}

export const SECRET = 'KESTREL-5521';

/** `documents` documents (each quoting SECRET) and two malformed lines. */
export function writeDocs(file: string, documents: number): number {
  const lines: string[] = [];
  for (let i = 0; i < documents; i++) {
    lines.push(JSON.stringify({ id: `doc-${i}`, text: `Patient ${i} (${SECRET}) got aspirin for migraine; BCL6 𝛼 rose.` }));
    if (i === 7) lines.push(`{"id": "broken", "text": "${SECRET} never closed`);
    if (i === 150) lines.push(JSON.stringify({ id: 'no-text', body: SECRET }));
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
  return lines.length;
}

/** Every value under a queue's keys, as text (to look for document text). */
export async function dumpQueue(url: string, name: string): Promise<{ keys: string[]; text: string }> {
  const { Redis } = await import('ioredis');
  const r = new Redis(url);
  try {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await r.scan(cursor, 'MATCH', `mfner:${name}:*`, 'COUNT', '1000');
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    const parts: string[] = [];
    for (const k of keys) {
      const type = await r.type(k);
      if (type === 'string') parts.push((await r.get(k)) ?? '');
      else if (type === 'hash') parts.push(JSON.stringify(await r.hgetall(k)));
      else if (type === 'list') parts.push(JSON.stringify(await r.lrange(k, 0, -1)));
      else if (type === 'set') parts.push(JSON.stringify(await r.smembers(k)));
      else if (type === 'zset') parts.push(JSON.stringify(await r.zrange(k, '0', '-1')));
      else if (type === 'stream') parts.push(JSON.stringify(await r.xrange(k, '-', '+')));
    }
    return { keys, text: parts.join('\n') };
  } finally {
    r.disconnect();
  }
}

export async function dropQueue(url: string, name: string): Promise<void> {
  const { Queue } = await import('bullmq');
  const { bullConnection } = await import('../../lib/queue/connection.ts');
  const q = new Queue(name, { connection: bullConnection({ url }), prefix: 'mfner' });
  try {
    await q.obliterate({ force: true });
  } finally {
    await q.close();
  }
}
