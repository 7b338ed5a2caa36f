#!/usr/bin/env bash
# Installs mfner the way a consumer does: npm pack here, npm install of the tarball in a fresh
# project, the npm 11 approval, the build, and a real generation. Takes a few minutes (it
# builds llama.cpp in the consumer's node_modules). Usage: scripts/pack-smoke.sh [model.gguf]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
model="${1:-$root/../shared/models/stories260K.gguf}"
work="$(mktemp -d "${TMPDIR:-/tmp}/mfner-pack-XXXXXX")"
trap 'rm -rf "$work"' EXIT

cd "$root"
tarball="$(npm pack --silent --pack-destination "$work" | tail -n 1)"
echo "packed $tarball ($(du -h "$work/$tarball" | cut -f1))"
tar -tzf "$work/$tarball" | grep -q 'package/deps/llama.cpp/.mfner-source.json' || { echo "the tarball lacks the llama.cpp source" >&2; exit 1; }
tar -tzf "$work/$tarball" | grep -q 'package/dist/lib/index.js' || { echo "the tarball lacks dist/" >&2; exit 1; }

mkdir "$work/consumer" && cd "$work/consumer"
npm init -y >/dev/null
npm install --no-audit --no-fund "$work/$tarball" >/dev/null 2>&1
cat > check.mjs <<'JS'
import { Model } from 'mfner';
try {
  const model = await Model.load(process.argv[2]);
  const ctx = await model.createContext({ contextSize: 256, threads: 1 });
  const { sequences } = await ctx.generate([''], { maxTokens: 20 });
  console.log(`generated: ${sequences[0].text}`);
  await model.dispose();
} catch (err) {
  console.log(`${err.code}: ${err.message}`);
  process.exitCode = 3;
}
JS
set +e
before="$(node check.mjs "$model")"; rc=$?
set -e
[ $rc -eq 3 ] && echo "$before" | grep -q 'ERR_ADDON_MISSING' && echo "$before" | grep -q 'npm install-scripts approve mfner' \
  || { echo "expected ERR_ADDON_MISSING before approval, got: $before" >&2; exit 1; }
echo "before approval: clear message (ok)"
npm install-scripts approve mfner >/dev/null
npm rebuild mfner
node check.mjs "$model" | tee "$work/out.txt"
grep -q '^generated: Once upon a time' "$work/out.txt"
npx mfner --version
echo "pack smoke test passed"
