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
tar -tzf "$work/$tarball" > "$work/contents.txt"
for f in package/deps/llama.cpp/.mfner-source.json package/deps/llama.cpp/models/ggml-vocab-qwen2.gguf package/dist/lib/index.js package/native/patches/series; do
  grep -qx "$f" "$work/contents.txt" || { echo "the tarball lacks $f" >&2; exit 1; }
done
if grep -q '\.node$' "$work/contents.txt"; then echo "the tarball carries a built addon; it must not" >&2; exit 1; fi

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
# npm 11 blocks a registry dependency's install script until `npm install-scripts approve`;
# a tarball named on the command line may run it at once. Handle both, and check the message
# a consumer without a built addon gets either way.
missing="$(MFNER_ADDON=/nonexistent/mfner.node node check.mjs "$model" || true)"
echo "$missing" | grep -q 'ERR_ADDON_MISSING' && echo "$missing" | grep -q 'npm install-scripts approve mfner' \
  || { echo "expected ERR_ADDON_MISSING naming the approval, got: $missing" >&2; exit 1; }
echo "without an addon: clear message (ok)"
if ! ls node_modules/mfner/build-cmake/Release/mfner.node >/dev/null 2>&1; then
  echo "install script was held back: approving and rebuilding"
  npm install-scripts approve mfner >/dev/null
  npm rebuild mfner
else
  echo "npm ran the install script at install time"
fi
node check.mjs "$model" | tee "$work/out.txt"
grep -q '^generated: Once upon a time' "$work/out.txt"
npx mfner --version
echo "pack smoke test passed"
