/**
 * The results directory: `<dir>/runs/<model>/<configuration>/<dataset>/<format>/draw-<k>.json`,
 * one file per run, path segments URI-encoded (so `only:conv_term` and `org/model` are safe on
 * every file system). The file's content is authoritative; the path is for people.
 */
import { mkdirSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runKey, type RunFile, type RunIdentity } from './run-file.ts';
import { RunFileError, validateRun } from './validate-run.ts';

export const RUNS_SUBDIR = 'runs';

export function runPath(resultsDir: string, r: RunIdentity): string {
  const seg = (s: string) => encodeURIComponent(s).replace(/^\.+/, (dots) => dots.replace(/\./g, '%2E'));
  return path.join(resultsDir, RUNS_SUBDIR, seg(r.model), seg(r.configuration), seg(r.dataset), seg(r.format), `draw-${r.draw}.json`);
}

/** Validates, then writes atomically (temporary file + rename), so readers never see half a run. */
export function writeRun(resultsDir: string, run: RunFile): string {
  validateRun(run);
  const file = runPath(resultsDir, run);
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(run)}\n`);
  renameSync(tmp, file);
  return file;
}

export function readRun(file: string): RunFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new RunFileError(file, `not readable as JSON (${(err as Error).name})`);
  }
  return validateRun(parsed, file);
}

/** Every run under `<dir>/runs`, validated, in a stable order; two files for one run is an error. */
export function readResults(resultsDir: string): RunFile[] {
  const root = path.join(resultsDir, RUNS_SUBDIR);
  let isDir = false;
  try {
    isDir = statSync(root).isDirectory();
  } catch {
    // reported below
  }
  if (!isDir) throw new Error(`${root}: no runs directory (expected ${RUNS_SUBDIR}/ inside the results directory)`);
  const files = (readdirSync(root, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.json'))
    .map((f) => path.join(root, f))
    .sort();
  const seen = new Map<string, string>();
  const runs: RunFile[] = [];
  for (const file of files) {
    const run = readRun(file);
    const key = runKey(run);
    const other = seen.get(key);
    if (other) throw new Error(`${file}: same run (${key}) as ${other}`);
    seen.set(key, file);
    runs.push(run);
  }
  return runs.sort((a, b) => (runKey(a) < runKey(b) ? -1 : runKey(a) > runKey(b) ? 1 : 0));
}
