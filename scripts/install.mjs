#!/usr/bin/env node
// npm's install step: bring the pinned, patched llama.cpp source, then build it and the addon.
// Quiet on success (one line on stderr), clear on failure. Nothing here touches the network
// except `npm pack` of the pinned node-llama-cpp tarball when deps/llama.cpp is absent.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureLlamaSource } from './lib/llama-source.mjs';
import { build, addonPath } from './lib/build.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const log = (m) => process.stderr.write(`mfner: ${m}\n`);
const force = process.argv.includes('--force');
const targets = process.argv.filter((a) => a.startsWith('--target=')).map((a) => a.slice('--target='.length));

if (process.env.MFNER_SKIP_BUILD === '1') {
  log('MFNER_SKIP_BUILD=1: native build skipped');
  process.exit(0);
}
try {
  const t0 = Date.now();
  const source = ensureLlamaSource(root, { log, force });
  const decision = build(root, { log: () => {}, targets, jobs: process.env.MFNER_BUILD_JOBS });
  log(`addon built (${decision.cuda ? 'CUDA' : 'CPU'}: ${decision.reason}; llama.cpp source ${source}) in ${((Date.now() - t0) / 1000).toFixed(0)} s: ${path.relative(root, addonPath(root))}`);
} catch (err) {
  log(err.message);
  process.exit(1);
}
