import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { MfnerError } from './errors.ts';
import { packageRoot } from './package-root.ts';
import type { NativeBinding } from './types.ts';

const require = createRequire(import.meta.url);

/**
 * Where the addon is looked for: only $MFNER_ADDON when set, else the cmake-js output
 * (build-cmake/, what npm install builds) and the node-gyp output (build/); the newer wins.
 */
export function addonCandidates(): string[] {
  if (process.env.MFNER_ADDON) return [path.resolve(process.env.MFNER_ADDON)];
  return [path.join(packageRoot, 'build-cmake', 'Release', 'mfner.node'), path.join(packageRoot, 'build', 'Release', 'mfner.node')];
}

export const BUILD_HINT =
  'Build it with `npm rebuild mfner` (npm 11 runs a dependency\'s install script only after ' +
  '`npm install-scripts approve mfner`), or `npm run build:native` inside the mfner repository.';

let cached: NativeBinding | undefined;

/** Loads the addon once; a missing or broken build is an MfnerError with the command that fixes it. */
export function loadBinding(): NativeBinding {
  if (cached) return cached;
  const candidates = addonCandidates();
  const found = candidates
    .filter((p) => existsSync(p))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
  if (!found) {
    throw new MfnerError('ERR_ADDON_MISSING', `the mfner native addon is not built (looked for ${candidates.join(', ')}). ${BUILD_HINT}`);
  }
  try {
    cached = require(found) as NativeBinding;
  } catch (err) {
    throw new MfnerError('ERR_ADDON_LOAD', `the mfner native addon at ${found} could not be loaded (${(err as Error).message}). ${BUILD_HINT}`, { cause: err });
  }
  return cached;
}
