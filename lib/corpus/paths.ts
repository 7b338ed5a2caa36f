import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root: the nearest folder above this module whose package.json names mfner. */
function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if (JSON.parse(readFileSync(manifest, 'utf8')).name === 'mfner') return dir;
      } catch {
        // not ours; keep climbing
      }
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error('cannot locate the mfner package root');
    dir = up;
  }
}

/** `$MFNER_CORPORA`, else `../shared/corpora` beside the package (works from lib/ and dist/lib/). */
export function defaultCorporaRoot(): string {
  return process.env.MFNER_CORPORA ?? path.resolve(packageRoot(), '../shared/corpora');
}
