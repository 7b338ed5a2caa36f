import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where the read-only shared data lives: `$MFNER_SHARED`, else `../shared` beside the project.
 * Tests that need it call `sharedPath(...)` and skip with a clear message when it is absent.
 */
export const sharedDir: string =
  process.env.MFNER_SHARED ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared');

export function sharedPath(...parts: string[]): string {
  return path.join(sharedDir, ...parts);
}

/** Returns the path, or undefined (and a reason) when the shared file is absent. */
export function sharedFile(...parts: string[]): { path: string; missing?: string } {
  const p = sharedPath(...parts);
  return existsSync(p)
    ? { path: p }
    : { path: p, missing: `shared data not found at ${p} (set MFNER_SHARED to the shared/ folder)` };
}

/**
 * Says in the test report why a file's tests are skipped: a skipped test whose title is the
 * reason (a test with only `t.log` fails under ava, which wants an assertion).
 */
export function reportMissing(test: { skip: (title: string, fn: () => void) => void }, what: string, missing: string | undefined): void {
  if (missing) test.skip(`${what}: ${missing}`, () => {});
}
