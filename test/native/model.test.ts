import test from 'ava';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { Model, MfnerError, madeModelPath } from '../../lib/native/index.ts';
import { THREADS, stories, tempDir } from './helpers.ts';

const BIOMEDICAL = 'IL-2 induces NF-κB in CD4+ T cells; 5 µM TNF-α, β-catenin and γδ T cells (𝛼-actin) at 37 °C.';

test('a made tiny qwen2 model loads and renders a multi-turn chat with the Qwen template', async (t) => {
  const model = await Model.load(await madeModelPath('qwen2', 'tiny'));
  t.is(model.metadata.architecture, 'qwen2');
  t.is(model.metadata.vocabularySize, 151936);
  t.is(model.metadata.layerCount, 2);
  t.truthy(model.metadata.chatTemplate);
  // 2 + 2 layers × 12 tensors (norms, Q/K/V with bias, output, SwiGLU); the tied head is not listed again.
  const weights = model.weights();
  t.is(weights.length, 26);
  t.is(weights.filter((w) => w.name === 'token_embd.weight').length, 1);
  t.like(weights.find((w) => w.name === 'blk.1.attn_q.weight'), { type: 'f16' });
  t.like(weights.find((w) => w.name === 'blk.1.attn_q.bias'), { type: 'f32' });
  t.true(weights.every((w) => typeof w.buffer === 'string' && w.buffer.length > 0));
  const messages = [
    { role: 'user', content: 'Text: BCL6 plays a role.\n\nType: protein' },
    { role: 'assistant', content: 'Answer: ["BCL6"]' },
    { role: 'user', content: 'Type: DNA' },
  ] as const;
  t.is(
    model.renderChat(messages),
    '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n' +
      '<|im_start|>user\nText: BCL6 plays a role.\n\nType: protein<|im_end|>\n' +
      '<|im_start|>assistant\nAnswer: ["BCL6"]<|im_end|>\n' +
      '<|im_start|>user\nType: DNA<|im_end|>\n' +
      '<|im_start|>assistant\n',
  );
  const noPrompt = model.renderChat([{ role: 'system', content: 'S' }, ...messages.slice(0, 2)], { addGenerationPrompt: false });
  t.is(noPrompt, '<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nText: BCL6 plays a role.\n\nType: protein<|im_end|>\n<|im_start|>assistant\nAnswer: ["BCL6"]<|im_end|>\n');
  // Special tokens in a rendered chat are single tokens.
  const ids = model.tokenize('<|im_start|>user', { parseSpecial: true });
  t.is(model.detokenize(ids.subarray(0, 1), { special: true }), '<|im_start|>');
  const ctx = await model.createContext({ contextSize: 256, threads: THREADS });
  const r = await ctx.generate([model.renderChat(messages)], { maxTokens: 5 });
  t.true(r.sequences[0].tokens.length >= 1);
  await model.dispose();
});

test('a made tiny llama model renders the Llama 3.2 layout with a fixed date', async (t) => {
  const model = await Model.load(await madeModelPath('llama', 'tiny'));
  const text = model.renderChat([{ role: 'user', content: 'Hi' }]);
  t.is(
    text,
    '<|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n<|eot_id|>' +
      '<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n',
  );
  // The template's BOS is left to the tokenizer, exactly once.
  const ids = model.tokenize(text, { addSpecial: true, parseSpecial: true });
  t.is(ids[0], model.metadata.bosToken ?? -1);
  t.not(ids[1], model.metadata.bosToken ?? -1);
  await model.dispose();
});

test('tokenize/detokenize round-trips biomedical text with Greek letters and µ', async (t) => {
  const paths = [await madeModelPath('qwen2', 'tiny'), await madeModelPath('llama', 'tiny')];
  if (!stories.missing) paths.push(stories.path);
  for (const p of paths) {
    const model = await Model.load(p, { vocabOnly: true });
    const ids = model.tokenize(BIOMEDICAL);
    t.true(ids.length > 10, p);
    const back = model.detokenize(ids);
    // SentencePiece adds a leading space marker; the text itself must come back intact.
    t.is(back.trimStart(), BIOMEDICAL, path.basename(p));
    const bytes = Buffer.concat(model.tokenPieces(ids));
    t.is(bytes.toString('utf8').trimStart(), BIOMEDICAL);
    await model.dispose();
  }
});

test('bad model files give clear coded errors, never a crash', async (t) => {
  const dir = tempDir();
  const code = async (p: string) => ((await t.throwsAsync(Model.load(p), { instanceOf: MfnerError })) as MfnerError);
  const missing = await code(path.join(dir, 'nope.gguf'));
  t.is(missing.code, 'ERR_MODEL_NOT_FOUND');
  writeFileSync(path.join(dir, 'text.gguf'), 'this is not a model');
  t.is((await code(path.join(dir, 'text.gguf'))).code, 'ERR_NOT_GGUF');
  writeFileSync(path.join(dir, 'empty.gguf'), '');
  t.is((await code(path.join(dir, 'empty.gguf'))).code, 'ERR_NOT_GGUF');
  const source = stories.missing ? await madeModelPath('qwen2', 'tiny') : stories.path;
  const whole = readFileSync(source);
  for (const cut of [8, 100, 5000, Math.floor(whole.length / 2), whole.length - 10]) {
    const p = path.join(dir, `cut-${cut}.gguf`);
    writeFileSync(p, whole.subarray(0, cut));
    t.is((await code(p)).code, 'ERR_MODEL_LOAD', `truncated at ${cut}`);
  }
  copyFileSync(source, path.join(dir, 'ok.gguf'));
  const ok = await Model.load(path.join(dir, 'ok.gguf'));
  t.true(ok.metadata.parameterCount > 0);
  await ok.dispose();
  t.throws(() => ok.tokenize('x'), { code: 'ERR_DISPOSED' } as never);
});

test('loading the library without a built addon names the command that builds it', (t) => {
  const script = "import('./lib/native/index.ts').then(m => m.Model.load('x')).catch(e => { console.log(e.code + ' ' + e.message); })";
  const r = spawnSync(process.execPath, ['--import=tsx', '-e', script], {
    cwd: path.resolve(import.meta.dirname, '../..'),
    env: { ...process.env, MFNER_ADDON: '/nonexistent/mfner.node' },
    encoding: 'utf8',
  });
  t.regex(r.stdout, /^ERR_ADDON_MISSING /);
  t.regex(r.stdout, /npm rebuild mfner/);
  t.regex(r.stdout, /npm install-scripts approve mfner/);
});

test('a LoRA adapter file that is not an adapter is a coded error; release refuses while applied', async (t) => {
  const model = await Model.load(await madeModelPath('qwen2', 'tiny'));
  const ctx = await model.createContext({ contextSize: 256, threads: THREADS });
  const dir = tempDir();
  writeFileSync(path.join(dir, 'bad.gguf'), 'nope');
  await t.throwsAsync(ctx.setAdapters([{ path: path.join(dir, 'bad.gguf') }]), { code: 'ERR_NOT_GGUF' } as never);
  // A whole model is a GGUF but not an adapter: llama.cpp refuses it, mfner reports it.
  await t.throwsAsync(ctx.setAdapters([{ path: await madeModelPath('qwen2', 'tiny') }]), { code: 'ERR_ADAPTER_LOAD' } as never);
  t.notThrows(() => model.releaseAdapter('/never/loaded.gguf'));
  await model.dispose();
});
