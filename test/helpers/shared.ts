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
