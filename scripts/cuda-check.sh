#!/usr/bin/env bash
# The CUDA path on a machine with an NVIDIA GPU: the normal install step must pick CUDA by itself
# (a visible GPU and nvcc), the native tests must pass with the model on the GPU, and the decode
# bench runs against llama-batched-bench (both fully offloaded). Writes logs to ${OUT:-.}.
# Needs node, node_modules and deps/llama.cpp in place (npm install, or carried).
set -euo pipefail
out="${OUT:-.}"
nvidia-smi -L
nvcc --version | tail -n 1
start=$(date +%s)
MFNER_BUILD_JOBS="${MFNER_BUILD_JOBS:-$(nproc)}" node scripts/install.mjs --target=llama-batched-bench
echo "build: $(( $(date +%s) - start )) s"
cat build-cmake/mfner-build.json
node --input-type=module -e "
import { createRequire } from 'node:module';
const info = createRequire(import.meta.url)('./build-cmake/Release/mfner.node').systemInfo();
console.log('addon:', JSON.stringify({ cuda: info.cuda, gpuOffload: info.gpuOffload }));
if (!info.cuda || !info.gpuOffload) process.exit(1);
"
node node_modules/ava/entrypoints/cli.mjs test/native test/decode 2>&1 | grep -v '^llama\|^gguf\|^graph\|^process' | tee "$out/ava.log"
node --import=tsx bench/decode.ts --threads 4 --pl 1,4,16 | tee "$out/bench-decode.txt"
