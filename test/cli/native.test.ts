import test from 'ava';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { STORIES_GREEDY, stories, tempDir } from '../native/helpers.ts';

const root = path.resolve(import.meta.dirname, '../..');
function mfner(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import=tsx', path.join(root, 'lib/cli/bin.ts'), ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, MFNER_THREADS: '1' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const maybe = stories.missing ? test.skip : test;

maybe('mfner generate --json reproduces the stories260K greedy sample from BOS', (t) => {
  const r = mfner('generate', '--model', stories.path, '--max-tokens', '40', '--json');
  t.is(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  t.true(out.text.startsWith(STORIES_GREEDY));
  t.is(out.tokens.length, 40);
  t.is(out.finishReason, 'length');
});

maybe('mfner model info --json and tokenize --json print one JSON object', (t) => {
  const info = mfner('model', 'info', stories.path, '--json');
  t.is(info.code, 0, info.stderr);
  t.like(JSON.parse(info.stdout), { architecture: 'llama', vocabularySize: 512, chatTemplate: null });
  const tok = mfner('tokenize', '--model', stories.path, '--text', 'Lily', '--json');
  t.is(tok.code, 0, tok.stderr);
  const parsed = JSON.parse(tok.stdout);
  t.is(parsed.tokens[0], 1, 'BOS first by default');
  t.is(parsed.pieces.slice(1).join('').trim(), 'Lily');
  t.is(parsed.count, parsed.tokens.length);
});

test('mfner make-model writes a model that mfner model info reads', (t) => {
  const out = path.join(tempDir(), 'llama-tiny.gguf');
  const made = mfner('make-model', '--arch', 'llama', '--shape', 'tiny', '--out', out, '--json');
  t.is(made.code, 0, made.stderr);
  t.like(JSON.parse(made.stdout), { path: out, tensorCount: 2 + 2 * 9 });
  const info = JSON.parse(mfner('model', 'info', out, '--json').stdout);
  t.like(info, { architecture: 'llama', vocabularySize: 128256, layerCount: 2, embeddingLength: 32 });
  t.regex(info.chatTemplate, /start_header_id/);
  // Q4_0 matrices: 18 bytes per 32 weights against F16's 64.
  const q4 = mfner('make-model', '--arch', 'llama', '--shape', 'tiny', '--weight-type', 'q4_0', '--out', path.join(tempDir(), 'llama-tiny-q4.gguf'), '--json');
  t.is(q4.code, 0, q4.stderr);
  t.true(JSON.parse(q4.stdout).dataBytes < 0.35 * JSON.parse(made.stdout).dataBytes);
  t.regex(mfner('make-model', '--arch', 'llama', '--weight-type', 'q8', '--out', '/tmp/x.gguf').stderr, /--weight-type: weight type must be a ggml tensor type \(.*q8_0.*\), not "q8" \[ERR_INVALID_ARG\]/);
  // BF16 and Q8_0 made directly; a K-quant needs rows of whole 256-value blocks, which tiny lacks
  for (const type of ['bf16', 'q8_0']) {
    const r = mfner('make-model', '--arch', 'llama', '--shape', 'tiny', '--weight-type', type, '--out', path.join(tempDir(), `llama-tiny-${type}.gguf`), '--json');
    t.is(r.code, 0, r.stderr);
  }
  const k = mfner('make-model', '--arch', 'llama', '--shape', 'tiny', '--weight-type', 'q4_K', '--out', path.join(tempDir(), 'llama-tiny-q4k.gguf'));
  t.is(k.code, 2);
  t.regex(k.stderr, /--weight-type: .*q4_K packs rows in blocks of 256 values; a row has 32/);
});

test('CLI errors are one line with a stable code: exit 1 for a failure, 2 for a bad argument', (t) => {
  const r = mfner('model', 'info', '/nonexistent/model.gguf');
  t.is(r.code, 1);
  t.regex(r.stderr.trim(), /^mfner: model file not found or not readable: \/nonexistent\/model\.gguf \[ERR_MODEL_NOT_FOUND\]$/);
  const bad = mfner('make-model', '--arch', 'gpt2', '--out', '/tmp/x.gguf');
  t.is(bad.code, 2);
  t.regex(bad.stderr.trim(), /^mfner: --arch must be qwen2 or llama, not "gpt2" \[ERR_INVALID_ARG\]$/);
});

test('mfner quantize converts with llama.cpp\'s quantizer, refuses an existing --out, and leaves nothing behind on a bad model', (t) => {
  const dir = tempDir();
  const f32 = path.join(dir, 'tiny-f32.gguf');
  t.is(mfner('make-model', '--shape', 'tiny', '--weight-type', 'f32', '--out', f32).code, 0);
  const q8 = path.join(dir, 'tiny-q8_0.gguf');
  const r = mfner('quantize', '--model', f32, '--type', 'q8_0', '--out', q8, '--threads', '1', '--json');
  t.is(r.code, 0, r.stderr);
  const made = JSON.parse(r.stdout);
  t.is(made.type, 'q8_0');
  t.true(made.outputBytes < 0.5 * made.inputBytes, `${made.outputBytes} vs ${made.inputBytes}`);
  const info = JSON.parse(mfner('model', 'info', q8, '--json').stdout);
  t.is(info.layerCount, 2);
  // back to F32 (dequantized): loadable again
  const back = path.join(dir, 'tiny-back.gguf');
  t.is(mfner('quantize', '--model', q8, '--type', 'f32', '--out', back).code, 0);
  t.is(mfner('quantize', '--model', q8, '--type', 'f32', '--out', back).code, 2, 'an existing --out is refused');
  const bad = path.join(dir, 'not-a-model.gguf');
  writeFileSync(bad, 'not a gguf file');
  const failed = mfner('quantize', '--model', bad, '--type', 'q8_0', '--out', path.join(dir, 'never.gguf'));
  t.is(failed.code, 1);
  t.regex(failed.stderr, /\[ERR_NOT_GGUF\]/);
  // a valid header whose tensor data stops halfway: llama.cpp fails while writing the output
  const truncated = path.join(dir, 'truncated.gguf');
  const whole = readFileSync(f32);
  writeFileSync(truncated, whole.subarray(0, Math.floor(whole.length * 0.6)));
  const cut = mfner('quantize', '--model', truncated, '--type', 'q8_0', '--out', path.join(dir, 'never.gguf'));
  t.is(cut.code, 1, cut.stderr);
  t.false(readdirSync(dir).some((f) => f.startsWith('never.gguf')), 'no output and no partial file');
});
