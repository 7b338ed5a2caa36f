#!/usr/bin/env node
// `npm pack` runs this (prepack) so the tarball carries the extracted, patched source.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureLlamaSource } from './lib/llama-source.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const result = ensureLlamaSource(root, { log: (m) => process.stderr.write(`mfner: ${m}\n`), force: process.argv.includes('--force') });
process.stderr.write(`mfner: llama.cpp source ${result} (deps/llama.cpp)\n`);
