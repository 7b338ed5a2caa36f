/**
 * One writer per resumable output. Two `mfner extract` runs on the same `--out` (a killed wrapper
 * left the first running, a second started) would both append to it and interleave records, so a
 * run holds an exclusive lock file beside the output, next to its state file:
 * `.<out>.mfner-lock`, holding `{"pid", "hostname", "startedAt", "output"}`.
 *
 * - Created atomically with its content (a temporary file hard-linked into place, which fails if
 *   the lock exists; `open(…, 'wx')` where links are not supported), so a reader never sees a
 *   half-written lock.
 * - Held by a live process (on this host), or by any process on another host (whose liveness
 *   cannot be checked from here): `ERR_OUTPUT_LOCKED`, naming the output and the lock file, never
 *   any input text.
 * - Left by a process that is gone (a SIGKILL, a crash, power loss), or unreadable: stale, taken
 *   over, so a killed run resumes. One process at a time takes a given stale lock over (a marker
 *   file named after that lock's content, created with 'wx'), and only removes the lock if it
 *   still is the stale one.
 * - Released in the job's `finally` (abort and Ctrl-C included) and on process exit; a release
 *   only removes the lock if it is still this holder's.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, linkSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MfnerError } from '../native/errors.ts';
import { besideOutput } from './resume.ts';

export interface LockInfo {
  pid: number;
  hostname: string;
  startedAt: string;
  /** The output the lock is for (absolute). */
  output: string;
}

export interface OutputLock {
  /** The lock file. */
  readonly path: string;
  readonly info: LockInfo;
  /** Removes the lock if it is still this holder's; safe to call more than once. */
  release(): void;
}

/** The lock file of an output: beside it, as its state file (resume.ts). */
export function lockPath(out: string): string {
  return besideOutput(out, 'lock');
}

function code(err: unknown): string | undefined {
  return (err as { code?: string }).code;
}

/** Whether a process with this id runs on this host (EPERM: it does, as another user). */
export function processAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return code(err) === 'EPERM';
  }
}

/** Creates `file` holding `content`, atomically; false if it exists. */
function createExclusive(file: string, content: string): boolean {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(tmp, 'wx');
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, file);
    return true;
  } catch (err) {
    if (code(err) === 'EEXIST') return false;
    if (code(err) !== 'EPERM' && code(err) !== 'ENOTSUP' && code(err) !== 'EXDEV' && code(err) !== 'ENOSYS') throw err;
    // No hard links on this file system: exclusive create, then one write.
    let fd2: number;
    try {
      fd2 = openSync(file, 'wx');
    } catch (e) {
      if (code(e) === 'EEXIST') return false;
      throw e;
    }
    try {
      writeSync(fd2, content);
    } finally {
      closeSync(fd2);
    }
    return true;
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
  }
}

function readRaw(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    if (code(err) === 'ENOENT') return undefined;
    return '';
  }
}

function parseLock(raw: string): LockInfo | undefined {
  try {
    const v = JSON.parse(raw) as Partial<LockInfo>;
    if (typeof v?.pid === 'number' && typeof v.hostname === 'string') {
      return { pid: v.pid, hostname: v.hostname, startedAt: String(v.startedAt ?? '?'), output: String(v.output ?? '?') };
    }
  } catch {
    // garbage
  }
  return undefined;
}

function unlinkQuiet(file: string): void {
  try {
    unlinkSync(file);
  } catch (err) {
    if (code(err) !== 'ENOENT') throw err;
  }
}

/** Removes the stale lock whose content is `raw`, unless another process is doing so or it changed. */
function takeOver(file: string, raw: string): void {
  const marker = `${file}.takeover-${createHash('sha256').update(raw).digest('hex').slice(0, 16)}`;
  if (!createExclusive(marker, JSON.stringify({ pid: process.pid, hostname: os.hostname() }))) {
    // Another process is taking this lock over; if it died doing so, its marker is stale too.
    const m = parseLock(readRaw(marker) ?? '');
    if (!m || (m.hostname === os.hostname() && !processAlive(m.pid))) unlinkQuiet(marker);
    return;
  }
  try {
    if (readRaw(file) === raw) unlinkQuiet(file);
  } finally {
    unlinkQuiet(marker);
  }
}

function lockedError(out: string, file: string, held: LockInfo): MfnerError {
  const here = held.hostname === os.hostname();
  const who = here && held.pid === process.pid ? `this process, since ${held.startedAt}` : `pid ${held.pid} on ${here ? 'this host' : `host ${held.hostname}`}, since ${held.startedAt}`;
  const advice = here
    ? `wait for it to finish or stop it, then run again to resume (if no mfner run has that pid, delete ${file})`
    : `this host cannot tell whether it still runs; if it does not, delete ${file}`;
  return new MfnerError('ERR_OUTPUT_LOCKED', `${out} is being written by another mfner run (${who}): ${advice}`);
}

const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * Takes the lock of `out` (see the module comment) or throws `ERR_OUTPUT_LOCKED`. The directory
 * of `out` must exist.
 */
export function acquireOutputLock(out: string): OutputLock {
  const file = lockPath(out);
  const info: LockInfo = { pid: process.pid, hostname: os.hostname(), startedAt: new Date().toISOString(), output: path.resolve(out) };
  const mine = `${JSON.stringify(info)}\n`;
  for (let attempt = 0; attempt < 8; attempt++) {
    if (createExclusive(file, mine)) return holder(file, info, mine);
    const raw = readRaw(file);
    if (raw === undefined) continue; // released meanwhile
    const held = parseLock(raw);
    if (held && (held.hostname !== os.hostname() || processAlive(held.pid))) throw lockedError(out, file, held);
    takeOver(file, raw);
    if (attempt > 0) sleep(10 * attempt);
  }
  const held = parseLock(readRaw(file) ?? '');
  throw held ? lockedError(out, file, held) : new MfnerError('ERR_OUTPUT_LOCKED', `${out}: could not take its lock ${file}`);
}

function holder(file: string, info: LockInfo, mine: string): OutputLock {
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.off('exit', release);
    if (readRaw(file) === mine) unlinkQuiet(file);
  };
  // process.exit (a second Ctrl-C) skips finally blocks, not 'exit' listeners.
  process.on('exit', release);
  return { path: file, info, release };
}
