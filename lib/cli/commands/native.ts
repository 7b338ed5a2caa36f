/**
 * `mfner model info`, `mfner generate`, `mfner tokenize`, `mfner make-model`, `mfner quantize`: the native layer
 * from the command line. `--json` prints one JSON object on stdout.
 */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { Model, QUANTIZE_TYPES, SHAPES, makeModel, quantizeModel, type MadeArchitecture, type MadeShape } from '../../native/index.ts';
import { EXIT, fail, nonNegativeInt, nonNegativeNumber, positiveInt, threadsOption, usageCheck } from '../options.ts';
import { parseList, printJson } from '../util.ts';
import { makeCorpusModel } from '../../train/corpus-model.ts';
import { getDataset } from '../../corpus/registry.ts';

export function register(program: Command): void {
  const model = program.command('model').description('inspect GGUF models');
  model
    .command('info <gguf>')
    .description('architecture, parameters, vocabulary, context length, chat template')
    .option('--json', 'print one JSON object')
    .action(async (gguf: string, opts: { json?: boolean }) => {
      const m = await Model.load(gguf, { vocabOnly: false });
      try {
        const md = m.metadata;
        if (opts.json) return printJson({ path: gguf, ...md });
        const lines = [
          `architecture   ${md.architecture ?? '?'}`,
          `name           ${md.name ?? '?'}`,
          `parameters     ${md.parameterCount.toLocaleString('en-US')}`,
          `size           ${(md.sizeBytes / 1048576).toFixed(1)} MiB`,
          `vocabulary     ${md.vocabularySize}`,
          `context        ${md.contextLength}`,
          `layers         ${md.layerCount} × ${md.embeddingLength}`,
          `chat template  ${md.chatTemplate ? `${md.chatTemplate.length} characters` : 'none'}`,
        ];
        process.stdout.write(`${lines.join('\n')}\n`);
      } finally {
        await m.dispose();
      }
    });

  program
    .command('generate')
    .description('generate from a prompt (greedy unless --temperature); an empty prompt starts from BOS')
    .requiredOption('--model <gguf>', 'model file')
    .option('--prompt <text>', 'prompt text', '')
    .option('--chat', 'wrap the prompt as one user turn with the model\'s chat template')
    .option('--max-tokens <n>', 'tokens to generate at most', positiveInt('--max-tokens'), 64)
    .option('--temperature <t>', 'sampling temperature (0 = greedy)', nonNegativeNumber('--temperature'), 0)
    .option('--seed <n>', 'sampling seed (default 0)', nonNegativeInt('--seed'))
    .option('--threads <n>', 'CPU threads (at most the CPU count)', threadsOption())
    .option('--adapter <gguf>', 'LoRA adapter to apply')
    .option('--json', 'print one JSON object')
    .addHelpText('after', `
Examples:
  mfner generate --model ../shared/models/stories260K.gguf --max-tokens 30
  mfner generate --model qwen2.5-0.5b-instruct-f16.gguf --chat --prompt "Name three diseases." --json`)
    .action(async (opts: { model: string; prompt: string; chat?: boolean; maxTokens: number; temperature: number; seed?: number; threads?: number; adapter?: string; json?: boolean }) => {
      const m = await Model.load(opts.model);
      try {
        const prompt = opts.chat ? m.renderChat([{ role: 'user', content: opts.prompt }]) : opts.prompt;
        const promptTokens = prompt === '' ? 1 : m.tokenize(prompt, { addSpecial: true, parseSpecial: true }).length;
        const ctx = await m.createContext({
          contextSize: Math.min(m.metadata.contextLength, Math.max(256, promptTokens + opts.maxTokens + 8)),
          ...(opts.threads ? { threads: opts.threads } : {}),
        });
        if (opts.adapter) await ctx.setAdapters([{ path: opts.adapter, scale: 1 }]);
        const r = await ctx.generate([prompt], { maxTokens: opts.maxTokens, temperature: opts.temperature, seed: opts.seed ?? 0 });
        const s = r.sequences[0];
        if (opts.json) {
          printJson({ text: s.text, tokens: [...s.tokens], finishReason: s.finishReason, timings: r.timings });
        } else {
          process.stdout.write(`${opts.chat ? '' : opts.prompt}${s.text}\n`);
        }
      } finally {
        await m.dispose();
      }
    });

  program
    .command('tokenize')
    .description('token ids and pieces of a text')
    .requiredOption('--model <gguf>', 'model file')
    .requiredOption('--text <text>', 'text to tokenize')
    .option('--no-special', 'do not add BOS/EOS or parse special tokens')
    .option('--json', 'print one JSON object')
    .action(async (opts: { model: string; text: string; special: boolean; json?: boolean }) => {
      const m = await Model.load(opts.model, { vocabOnly: true });
      try {
        const ids = m.tokenize(opts.text, { addSpecial: opts.special, parseSpecial: opts.special });
        const pieces = m.tokenPieces(ids).map((b) => b.toString('utf8'));
        if (opts.json) return printJson({ count: ids.length, tokens: [...ids], pieces });
        process.stdout.write(`${[...ids].map((id, i) => `${id}\t${JSON.stringify(pieces[i])}`).join('\n')}\n`);
      } finally {
        await m.dispose();
      }
    });

  program
    .command('make-model')
    .description('write a GGUF with random weights, a real tokenizer and chat template (for tests and benchmarks)')
    .requiredOption('--out <gguf>', 'output file')
    .option('--arch <name>', 'qwen2 (Qwen2 vocabulary, Qwen2.5 template) or llama (Llama-3 vocabulary, Llama-3.2 template)', 'qwen2')
    .option('--shape <name>', `one of ${Object.keys(SHAPES).join(', ')} (default tiny; with --corpus, cpu)`)
    .option('--corpus <datasets>', 'learn a small vocabulary from these datasets\' training text (e.g. NCBI-disease,BC5CDR) instead of the family\'s; F32 weights')
    .option('--configurations <list>', 'with --corpus: configurations whose prompts and answers feed the vocabulary', 'all')
    .option('--vocab-size <n>', 'with --corpus: vocabulary size', positiveInt('--vocab-size'), 4096)
    .option('--trailing-space', 'with --corpus: vocabulary pieces keep the space after them, as --scale cpu\'s do (docs/training.md)')
    .option('--root <dir>', 'with --corpus: corpora root')
    .option('--weight-type <t>', 'the matrices\' ggml type: f32, f16, bf16, q8_0, q4_0, q4_K, q5_K, q6_K or any other llama.cpp loads (norms and biases stay f32; K-quants need widths that are multiples of 256)', 'f16')
    .option('--seed <n>', 'weights seed', positiveInt('--seed'), 42)
    .option('--json', 'print one JSON object')
    .addHelpText('after', `
The weights are random: the model knows nothing, but it loads, tokenizes, chats, trains and
decodes like the real one. For a file of a mixed llama.cpp type (q4_K_M...), make an f32 model
and run mfner quantize on it.

Examples:
  mfner make-model --arch qwen2 --shape tiny --weight-type f32 --out tiny.gguf
  mfner make-model --arch qwen2 --shape small --weight-type q8_0 --out small-q8_0.gguf
  mfner make-model --arch llama --shape tiny --out llama-tiny.gguf          # Llama-3 vocabulary, Llama-3.2 template
  mfner make-model --corpus NCBI-disease,BC5CDR --configurations each:multi_term+single_tag+multi_span+multi_bio --vocab-size 12288 --trailing-space --out ncbi.gguf   # the model --scale cpu trains (docs/training.md)`)
    .action(async (opts: { out: string; arch: string; shape?: string; weightType: string; seed: number; corpus?: string; configurations: string; vocabSize: number; trailingSpace?: boolean; root?: string; json?: boolean }) => {
      if (opts.arch !== 'qwen2' && opts.arch !== 'llama') fail(EXIT.usage, 'ERR_INVALID_ARG', `--arch must be qwen2 or llama, not ${JSON.stringify(opts.arch.slice(0, 40))}`);
      if (opts.shape !== undefined && !(opts.shape in SHAPES)) fail(EXIT.usage, 'ERR_INVALID_ARG', `--shape must be one of ${Object.keys(SHAPES).join(', ')}`);
      if (opts.corpus !== undefined) {
        const datasets = parseList(opts.corpus);
        const configurations = parseList(opts.configurations);
        usageCheck(() => datasets.forEach((d) => getDataset(d)), '--corpus');
        if (opts.arch !== 'qwen2') fail(EXIT.usage, 'ERR_INVALID_ARG', '--corpus makes a qwen2-family model (its chat markers are in the vocabulary)');
        if (opts.weightType !== 'f16' && opts.weightType !== 'f32') fail(EXIT.usage, 'ERR_INVALID_ARG', '--corpus models are F32 (for full fine-tuning)');
        const m = await makeCorpusModel({ datasets, configurations, out: opts.out, root: opts.root, vocabSize: opts.vocabSize, trailingSpace: opts.trailingSpace ?? false, seed: opts.seed, ...(opts.shape ? { shape: SHAPES[opts.shape as MadeShape] } : {}) });
        if (opts.json) return printJson(m);
        process.stdout.write(`wrote ${m.path}: vocabulary ${m.vocabularySize} tokens (${m.merges} merges) from ${m.texts} training texts, ${m.shape.nLayer} layers x ${m.shape.nEmbd}${m.reused ? ' (reused)' : ''}\n`);
        return;
      }
      opts.shape ??= 'tiny';
      const r = await makeModel({ architecture: opts.arch as MadeArchitecture, shape: opts.shape as MadeShape, out: opts.out, seed: opts.seed, weightType: opts.weightType }).catch((err: { code?: string; message: string }) =>
        err.code === 'ERR_INVALID_ARG' ? fail(EXIT.usage, err.code, `--weight-type: ${err.message}`) : Promise.reject(err),
      );
      if (opts.json) return printJson(r);
      process.stdout.write(`wrote ${r.path}: ${r.parameterCount.toLocaleString('en-US')} parameters, ${r.tensorCount} tensors\n`);
    });

  program
    .command('quantize')
    .description('convert a GGUF model to another type with llama.cpp\'s own quantizer (q8_0, q4_k_m, bf16, f16, or f32 to dequantize)')
    .requiredOption('--model <gguf>', 'input model')
    .requiredOption('--out <gguf>', 'output model (written complete or not at all)')
    .option('--type <t>', `llama.cpp file type: ${QUANTIZE_TYPES.join(', ')}`, 'q8_0')
    .option('--pure', 'every matrix in --type (no llama.cpp mix: the *_k_m types keep some tensors at higher precision by default)')
    .option('--threads <n>', 'CPU threads (at most the CPU count)', threadsOption(), 1)
    .option('--json', 'print one JSON object')
    .addHelpText('after', `
Which type for which machine: docs/training.md ("Base types"). A merged LoRA model of a
quantized base is F16 in its merged matrices; quantize it for a smaller file.

Examples:
  mfner quantize --model qwen2.5-0.5b-instruct-fp16.gguf --type q8_0 --out qwen-q8_0.gguf
  mfner quantize --model merged.gguf --type q4_k_m --out merged-q4_k_m.gguf
  mfner quantize --model qwen-q4_k_m.gguf --type f32 --out qwen-as-f32.gguf   # dequantized (full fine-tuning, checks)`)
    .action(async (opts: { model: string; out: string; type: string; pure?: boolean; threads?: number; json?: boolean }) => {
      if (!QUANTIZE_TYPES.includes(opts.type.toLowerCase())) fail(EXIT.usage, 'ERR_INVALID_ARG', `--type must be one of ${QUANTIZE_TYPES.join(', ')}`);
      if (existsSync(opts.out)) fail(EXIT.usage, 'ERR_OUTPUT_EXISTS', `${opts.out} exists; remove it or choose another --out`);
      const r = await quantizeModel({ input: opts.model, output: opts.out, type: opts.type, threads: opts.threads, pure: opts.pure ?? false });
      if (opts.json) return printJson(r);
      process.stdout.write(`wrote ${opts.out}: ${r.type}, ${(r.outputBytes / 2 ** 20).toFixed(1)} MiB (from ${(r.inputBytes / 2 ** 20).toFixed(1)} MiB)\n`);
    });
}
