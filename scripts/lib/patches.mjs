// Applies the project's patch series (native/patches/series) to an extracted llama.cpp tree.
import { createHash } from 'node:crypto';
import { readFileSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

/** Patch file names in series order; blank lines and # comments are ignored. */
export function readSeries(patchDir) {
  const seriesFile = path.join(patchDir, 'series');
  if (!existsSync(seriesFile)) return [];
  return readFileSync(seriesFile, 'utf8')
    .split('\n')
    .map((line) => line.replace(/#.*/, '').trim())
    .filter(Boolean);
}

/** One hash over the series and every patch's bytes: the source cache key. */
export function seriesHash(patchDir) {
  const hash = createHash('sha256');
  for (const name of readSeries(patchDir)) {
    hash.update(name).update('\0').update(readFileSync(path.join(patchDir, name))).update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

/**
 * Applies each patch with `git apply` run as if outside any repository (the tree may sit inside
 * the project's or a consumer's repository, which would otherwise re-root the paths).
 * Throws an Error naming the patch that does not apply.
 */
export function applySeries(patchDir, treeDir) {
  const applied = [];
  const env = { ...process.env, GIT_CEILING_DIRECTORIES: path.dirname(path.resolve(treeDir)) };
  for (const name of readSeries(patchDir)) {
    const file = path.resolve(patchDir, name);
    if (!existsSync(file)) throw new Error(`patch ${name} is listed in the series but ${file} does not exist`);
    for (const args of [['apply', '--check', file], ['apply', '--whitespace=nowarn', file]]) {
      const r = spawnSync('git', args, { cwd: treeDir, env, encoding: 'utf8' });
      if (r.error) throw new Error(`git is needed to apply patches: ${r.error.message}`);
      if (r.status !== 0) {
        throw new Error(`patch ${name} does not apply to ${treeDir}:\n${(r.stderr || r.stdout).trim()}`);
      }
    }
    applied.push(name);
  }
  return applied;
}
