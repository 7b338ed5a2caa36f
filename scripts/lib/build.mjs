// Builds llama.cpp (static) and the addon with cmake-js, quietly, into build-cmake/ (not build/,
// which belongs to node-gyp: `node-gyp rebuild` wipes build/, and binding.gyp links the static
// llama.cpp libraries from build-cmake/).
// The build directory is reused (incremental) while the cache key is unchanged: llama.cpp pin,
// patch hash and CPU/CUDA choice. A different key wipes it first.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, openSync, closeSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { decideCuda } from './build-config.mjs';
import { expectedStamp } from './llama-source.mjs';

const require = createRequire(import.meta.url);

// MFNER_BUILD_DIR and MFNER_LLAMA_DIR let a developer build a variant (other patches, other
// options) beside the default one; load it with MFNER_ADDON=<dir>/Release/mfner.node.
export const CMAKE_OUT = process.env.MFNER_BUILD_DIR || 'build-cmake';

export function addonPath(root) {
  return path.join(root, CMAKE_OUT, 'Release', 'mfner.node');
}

/** Fails with an install hint when a build tool is missing. */
export function checkTools() {
  const missing = [];
  const probe = (cmd, args) => !spawnSync(cmd, args, { stdio: 'ignore' }).error;
  if (!probe('cmake', ['--version'])) missing.push('cmake (Debian/Ubuntu: apt-get install cmake; macOS: brew install cmake)');
  if (!probe('c++', ['--version']) && !probe('g++', ['--version']) && !probe('clang++', ['--version'])) {
    missing.push('a C++17 compiler (Debian/Ubuntu: apt-get install g++; macOS: xcode-select --install)');
  }
  if (!probe('git', ['--version'])) missing.push('git (used to unpack and patch llama.cpp: apt-get install git)');
  if (missing.length) throw new Error(`cannot build the mfner addon; missing:\n  - ${missing.join('\n  - ')}`);
}

export function buildKey(root, cuda) {
  const stamp = expectedStamp(root);
  return { commit: stamp.commit, patchHash: stamp.patchHash, cuda };
}

/**
 * Runs the cmake-js build. Output goes to build/build.log; on failure the tail is returned in
 * the error. `targets` adds extra targets (e.g. llama-batched-bench).
 */
export function build(root, { log = () => {}, jobs, targets = [], env = process.env } = {}) {
  checkTools();
  const decision = decideCuda(env);
  log(`${decision.cuda ? 'CUDA' : 'CPU'} build: ${decision.reason}`);
  const buildDir = path.resolve(root, CMAKE_OUT);
  const keyFile = path.join(buildDir, 'mfner-build.json');
  const key = buildKey(root, decision.cuda);
  if (existsSync(keyFile)) {
    const old = JSON.parse(readFileSync(keyFile, 'utf8'));
    // A new patch set alone builds incrementally: llama-source.mjs rewrites only the files whose
    // bytes changed, so the build tool's timestamps see exactly what a patch touched.
    if (old.commit !== key.commit || old.cuda !== key.cuda) {
      log('build inputs changed (llama.cpp pin or CUDA): rebuilding from scratch');
      rmSync(buildDir, { recursive: true, force: true });
    }
  }
  mkdirSync(buildDir, { recursive: true });
  const logFile = path.join(buildDir, 'build.log');
  const cmakeJs = path.join(path.dirname(require.resolve('cmake-js/package.json')), 'bin', 'cmake-js');
  const parallel = String(jobs ?? Math.max(1, os.availableParallelism()));
  const baseArgs = ['--directory', root, '--out', buildDir, '--config', 'Release', '--parallel', parallel, '--log-level', 'warn',
    `--CDMFNER_CUDA=${decision.cuda ? 'ON' : 'OFF'}`,
    ...(env.MFNER_LLAMA_DIR ? [`--CDMFNER_LLAMA_DIR=${path.resolve(env.MFNER_LLAMA_DIR)}`] : [])];
  const runs = [['build', ...baseArgs], ...targets.map((t) => ['build', ...baseArgs, '--target', t])];
  const fd = openSync(logFile, 'w');
  try {
    for (const args of runs) {
      const r = spawnSync(process.execPath, [cmakeJs, ...args], { cwd: root, stdio: ['ignore', fd, fd], env });
      if (r.error || r.status !== 0) {
        const tail = readFileSync(logFile, 'utf8').split('\n').slice(-40).join('\n');
        throw new Error(`native build failed (full log: ${logFile}):\n${tail}`);
      }
    }
  } finally {
    closeSync(fd);
  }
  writeFileSync(keyFile, `${JSON.stringify({ ...key, reason: decision.reason, gpus: decision.gpus, builtAt: new Date().toISOString() }, null, 2)}\n`);
  return decision;
}
