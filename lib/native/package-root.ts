import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The mfner package root, found from this file in both lib/ (source) and dist/lib (built). */
export const packageRoot: string = (() => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).name === 'mfner') return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('cannot find the mfner package root');
    dir = parent;
  }
})();
