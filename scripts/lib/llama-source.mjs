// Brings the pinned llama.cpp source into deps/llama.cpp: from the node-llama-cpp npm tarball
// (pinned by version and integrity), through its git bundle, verified by commit, pruned to what
// the build needs, then patched. A stamp file records pin + patch hash so later runs do nothing.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, renameSync, cpSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { applySeries, seriesHash, readSeries } from './patches.mjs';

export const STAMP = '.mfner-source.json';

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  if (r.error) throw new Error(`${cmd} could not run: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${(r.stderr || r.stdout || '').trim()}`);
  return r.stdout;
}

export function readPin(root) {
  return JSON.parse(readFileSync(path.join(root, 'native', 'llama-pin.json'), 'utf8'));
}

/** What the stamp must say for the tree to be reused. */
export function expectedStamp(root) {
  const pin = readPin(root);
  const patchDir = path.join(root, 'native', 'patches');
  return { commit: pin.commit, release: pin.release, from: `${pin.package}@${pin.version}`, patches: readSeries(patchDir), patchHash: seriesHash(patchDir) };
}

export function sourceIsCurrent(root, dir = path.join(root, 'deps', 'llama.cpp')) {
  const stampFile = path.join(dir, STAMP);
  if (!existsSync(stampFile)) return false;
  try {
    const have = JSON.parse(readFileSync(stampFile, 'utf8'));
    const want = expectedStamp(root);
    return have.commit === want.commit && have.patchHash === want.patchHash;
  } catch {
    return false;
  }
}

/** Fetches the pinned tarball through npm (its cache first) and checks its integrity. */
function fetchTarball(root, pin, log) {
  const cacheDir = path.join(root, '.cache');
  mkdirSync(cacheDir, { recursive: true });
  const file = path.join(cacheDir, `${pin.package}-${pin.version}.tgz`);
  if (!existsSync(file) || integrityOf(file) !== pin.integrity) {
    log(`fetching ${pin.package}@${pin.version} through the npm registry (llama.cpp ${pin.release})`);
    sh('npm', ['pack', `${pin.package}@${pin.version}`, '--pack-destination', cacheDir, '--silent', '--ignore-scripts'], { cwd: cacheDir });
  }
  const got = integrityOf(file);
  if (got !== pin.integrity) {
    rmSync(file, { force: true });
    throw new Error(`integrity mismatch for ${pin.package}@${pin.version}: expected ${pin.integrity}, got ${got}`);
  }
  return file;
}

/** Makes `dest` hold exactly the files of `src`, rewriting only those whose bytes differ. Returns how many changed. */
function syncTree(src, dest) {
  let changed = 0;
  const walk = (rel) => {
    const from = path.join(src, rel);
    const to = path.join(dest, rel);
    if (existsSync(to) && statSync(to).isDirectory() !== statSync(from).isDirectory()) rmSync(to, { recursive: true, force: true });
    if (statSync(from).isDirectory()) {
      mkdirSync(to, { recursive: true });
      const names = new Set(readdirSync(from));
      for (const name of readdirSync(to)) if (!names.has(name)) {
        rmSync(path.join(to, name), { recursive: true, force: true });
        changed++;
      }
      for (const name of names) walk(path.join(rel, name));
      return;
    }
    const bytes = readFileSync(from);
    if (existsSync(to) && readFileSync(to).equals(bytes)) return;
    writeFileSync(to, bytes);
    changed++;
  };
  walk('');
  return changed;
}

function integrityOf(file) {
  return `sha512-${createHash('sha512').update(readFileSync(file)).digest('base64')}`;
}

/**
 * Makes deps/llama.cpp current. Returns 'reused' or 'extracted'.
 * options.log receives one-line progress messages (stderr in the installer).
 */
export function ensureLlamaSource(root, { log = () => {}, force = false } = {}) {
  const dest = path.join(root, 'deps', 'llama.cpp');
  if (!force && sourceIsCurrent(root, dest)) return 'reused';
  const pin = readPin(root);
  const tarball = fetchTarball(root, pin, log);
  const work = path.join(root, 'deps', `.llama.cpp.tmp-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  try {
    sh('tar', ['-xzf', tarball, '-C', work, pin.bundlePath]);
    const clone = path.join(work, 'clone');
    const bundle = path.join(work, pin.bundlePath);
    const env = { ...process.env, GIT_CEILING_DIRECTORIES: work };
    sh('git', ['clone', '--quiet', '--no-checkout', bundle, clone], { env });
    sh('git', ['-c', 'advice.detachedHead=false', 'checkout', '--quiet', pin.commit], { cwd: clone, env });
    const head = sh('git', ['rev-parse', 'HEAD'], { cwd: clone, env }).trim();
    if (head !== pin.commit) throw new Error(`llama.cpp bundle gave commit ${head}, expected ${pin.commit}`);
    const tree = path.join(work, 'tree');
    for (const rel of pin.keep) {
      cpSync(path.join(clone, rel), path.join(tree, rel), { recursive: true });
    }
    const patchDir = path.join(root, 'native', 'patches');
    const applied = applySeries(patchDir, tree);
    if (applied.length) log(`applied ${applied.length} patch(es): ${applied.join(', ')}`);
    if (existsSync(path.join(dest, 'CMakeLists.txt'))) {
      // An earlier tree (another patch set): change only the files that differ, so their
      // timestamps alone move and an incremental build recompiles what a patch touched.
      rmSync(path.join(dest, STAMP), { force: true });
      const changed = syncTree(tree, dest);
      log(`updated ${changed} file(s) of deps/llama.cpp in place`);
    } else {
      rmSync(dest, { recursive: true, force: true });
      renameSync(tree, dest);
    }
    writeFileSync(path.join(dest, STAMP), `${JSON.stringify(expectedStamp(root), null, 2)}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return 'extracted';
}
