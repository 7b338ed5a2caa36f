#!/usr/bin/env node
// `npm run build:gyp`: node-gyp over the CMake-built llama.cpp libraries, offline: the headers
// come from the local Node installation (--nodedir), never from the internet.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const fail = (m) => { process.stderr.write(`mfner: ${m}\n`); process.exit(1); };

if (!existsSync(path.join(root, 'build-cmake', 'llama', 'src', 'libllama.a'))) {
  fail('the llama.cpp static libraries are not built yet: run `npm install` (or `npm run build:native`) first');
}
const nodeDir = process.env.npm_config_nodedir || path.dirname(path.dirname(process.execPath));
if (!existsSync(path.join(nodeDir, 'include', 'node', 'node_api.h'))) {
  fail(`no Node headers under ${nodeDir}/include/node; set npm_config_nodedir to a Node installation with headers`);
}
const gyp = path.join(path.dirname(require.resolve('node-gyp/package.json')), 'bin', 'node-gyp.js');
const r = spawnSync(process.execPath, [gyp, 'rebuild', `--nodedir=${nodeDir}`, '--loglevel=warn', `--jobs=${process.env.MFNER_BUILD_JOBS ?? 'max'}`], { cwd: root, stdio: 'inherit' });
if (r.status !== 0) fail('node-gyp build failed (see above)');
process.stderr.write('mfner: node-gyp build done: build/Release/mfner.node\n');
