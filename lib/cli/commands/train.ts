/**
 * `mfner train` (LoRA or full fine-tuning with the paper's defaults, dev micro-F1 every ¼ epoch,
 * best checkpoint kept, resumable) and `mfner loss` (the response-only mean NLL the trainer
 * optimises). Progress goes to stderr; logs hold numbers, never document text.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { EXIT, fail, fraction, interruptSignal, positiveInt, positiveNumber, threadsOption, usageCheck } from '../options.ts';
import { DATASET_NAMES, getDataset } from '../../corpus/registry.ts';
import { configurationFormats } from '../../prompt/configurations.ts';
import { Model } from '../../native/index.ts';
import { MfnerError } from '../../native/errors.ts';
import { formatDuration } from '../../pipeline/progress.ts';
import { datasetTrainingData, fileTrainingData, readExampleFile, type TrainingData } from '../../train/data.ts';
import { runTraining, PAPER_DEFAULTS, type TrainRunSummary } from '../../train/run.ts';
import { Trainer } from '../../train/trainer.ts';
import { tokenizeExample, type TrainExample } from '../../train/examples.ts';
import { FALLBACK_CHAT_TEMPLATE } from '../../pipeline/extract.ts';
import type { ScheduleKind } from '../../train/schedule.ts';
import { parseList, printJson } from '../util.ts';

/** cli-progress ships no types; the part used here. */
interface Bar {
  start(total: number, value: number, payload?: Record<string, unknown>): void;
  update(value: number, payload?: Record<string, unknown>): void;
  stop(): void;
}
interface CliProgress {
  SingleBar: new (options: Record<string, unknown>, preset?: unknown) => Bar;
  Presets: { shades_classic: unknown };
}
const cliProgress = createRequire(import.meta.url)('cli-progress') as CliProgress;

function readTemplate(file?: string): string | undefined {
  return file ? readFileSync(file, 'utf8') : undefined;
}

interface TrainFlags {
  model: string; method: 'lora' | 'full'; datasets?: string; config: string; draw: number; data?: string; devData?: string; types?: string; guideline?: string;
  out: string; epochs?: number; lr?: number; batch?: number; accumulation?: number; maxSteps?: number; evalPerEpoch?: number; eval: boolean;
  schedule?: ScheduleKind; warmup?: number; weightDecay?: number; rank?: number; alpha?: number; targets?: string; context?: number; threads?: number;
  seed?: number; trainCap?: number; devCap?: number; test?: boolean; testCap?: number; merge?: boolean; overwrite?: boolean; chatTemplate?: string;
  constraint?: string; genBatch?: number; maxTokens?: number; genContext?: number; root?: string; checkpointEvery?: number; json?: boolean; progress: boolean;
}

function printSummary(s: TrainRunSummary): void {
  const lines = [
    `mfner: ${s.method} training ${s.aborted ? 'stopped' : 'done'}: ${s.steps}/${s.totalSteps} optimizer steps${s.resumedFrom ? ` (resumed at ${s.resumedFrom})` : ''}, ${s.examples} examples (${s.skippedExamples} skipped), ${formatDuration(s.seconds * 1000)}`,
    `  final loss ${s.finalLoss?.toFixed(4) ?? '-'}, ${s.tokensPerSecond.toFixed(0)} tokens/s, ${s.trainableParameters.toLocaleString('en-US')} trainable parameters`,
  ];
  if (s.evaluations.length) lines.push(`  dev micro-F1: ${s.evaluations.map((e) => `${e.epoch.toFixed(2)}ep ${(100 * e.score).toFixed(1)}`).join(', ')}; best ${(100 * (s.bestScore ?? 0)).toFixed(1)} at step ${s.bestStep}`);
  if (s.result) lines.push(`  result: ${s.result}${s.merged ? ` (merged: ${s.merged})` : ''}`);
  if (s.aborted) lines.push('  interrupted: run the same command again to resume from the checkpoint');
  for (const r of s.testRuns ?? []) lines.push(`  test ${r.dataset} ${r.format} draw ${r.draw}: F1 ${(100 * r.f1).toFixed(1)} (${r.documents} documents) -> ${r.file}`);
  process.stderr.write(`${lines.join('\n')}\n`);
}

export function register(program: Command): void {
  program
    .command('train')
    .description("Fine-tune a model (LoRA or full) on the paper's instruction data or your own JSONL, keeping the checkpoint with the best dev micro-F1; resumable.")
    .requiredOption('--model <gguf>', 'base model (GGUF; LoRA: any type; full: F32, or F16/BF16 upcast to F32 in memory)')
    .addOption(new Option('--method <m>', 'lora or full').choices(['lora', 'full']).default('lora'))
    .option('--datasets <a,b>', `train on these datasets' sampled train splits, dev-score on their dev splits (${DATASET_NAMES.join(', ')})`)
    .option('--config <name>', 'format configuration: all, 7best, term_ner or only:<format>', 'all')
    .option('--draw <k>', 'which seeded draw of the samples', positiveInt('--draw'), 1)
    .option('--data <file>', 'train on a JSONL file instead: {"messages"}, {"prompt","completion"} or annotated {"text","entities"} per line')
    .option('--dev-data <file>', 'annotated documents to dev-score on (with --data)')
    .option('--types <a,b>', 'entity types of annotated --data documents (default: those in the file)')
    .option('--guideline <name>', 'the name in "Follow {name} guidelines" for --data documents')
    .requiredOption('--out <dir>', 'run directory (checkpoint/, best/, adapter.gguf or model.gguf, train-log.jsonl, summary.json, results/)')
    .option('--epochs <n>', `epochs (default ${PAPER_DEFAULTS.epochs})`, positiveInt('--epochs'))
    .option('--lr <x>', `learning rate (default ${PAPER_DEFAULTS.lr})`, positiveNumber('--lr'))
    .option('--batch <n>', `examples per micro-batch group (default ${PAPER_DEFAULTS.batchSize})`, positiveInt('--batch'))
    .option('--accumulation <n>', `gradient accumulation (default ${PAPER_DEFAULTS.accumulation})`, positiveInt('--accumulation'))
    .option('--max-steps <n>', 'stop after this many optimizer steps', positiveInt('--max-steps'))
    .option('--eval-per-epoch <n>', `dev evaluations per epoch (default ${PAPER_DEFAULTS.evaluationsPerEpoch})`, positiveInt('--eval-per-epoch'))
    .option('--no-eval', 'no dev evaluation (the last weights are the result)')
    .addOption(new Option('--schedule <s>', 'learning-rate schedule').choices(['constant', 'linear', 'cosine']))
    .option('--warmup <ratio>', 'warmup fraction of the steps (default 0)', fraction('--warmup'))
    .option('--weight-decay <x>', 'AdamW decoupled weight decay on matrices (default 0)', (v) => { const n = Number(v); if (!(n >= 0)) throw new InvalidArgumentError('--weight-decay must be >= 0'); return n; })
    .option('--rank <r>', `LoRA rank (default ${PAPER_DEFAULTS.rank})`, positiveInt('--rank'))
    .option('--alpha <a>', `LoRA alpha (default ${PAPER_DEFAULTS.alpha})`, positiveNumber('--alpha'))
    .option('--targets <a,b>', 'LoRA target modules (default all linear: attn_q,attn_k,attn_v,attn_output,ffn_gate,ffn_up,ffn_down)')
    .option('--context <n>', `tokens per packed micro-batch (default ${PAPER_DEFAULTS.contextSize})`, positiveInt('--context'))
    .option('--threads <n>', 'CPU threads (at most the CPU count)', threadsOption())
    .option('--seed <n>', 'shuffling and LoRA init seed', (v) => { const n = Number(v); if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('--seed must be an integer >= 0'); return n; })
    .option('--train-cap <n>', 'train documents per dataset (default: the paper\'s 10000)', positiveInt('--train-cap'))
    .option('--dev-cap <n>', 'dev documents per dataset (default: the paper\'s 200)', positiveInt('--dev-cap'))
    .option('--test', 'afterwards, evaluate the best weights on the draw\'s test samples into <out>/results (with --datasets)')
    .option('--test-cap <n>', 'test documents per dataset (default 300)', positiveInt('--test-cap'))
    .option('--merge', 'LoRA: also write the merged full model <out>/model.gguf (F32/F16/BF16 bases keep their type; a quantized base\'s merged matrices are F16)')
    .option('--checkpoint-every <n>', 'optimizer steps between resumable checkpoints (default: each evaluation)', positiveInt('--checkpoint-every'))
    .option('--overwrite', 'start again when <out> holds a run with other settings')
    .option('--chat-template <file>', 'Jinja chat template for models without one (inference must use the same)')
    .option('--constraint <c>', "dev/test generation constraint: 'format' (default) or 'none'")
    .option('--gen-batch <n>', 'prompts decoded together in evaluation (default 8)', positiveInt('--gen-batch'))
    .option('--max-tokens <n>', 'token cap of one generated answer in evaluation (default 256)', positiveInt('--max-tokens'))
    .option('--gen-context <n>', 'token window of one evaluation prompt and its answers (default: min(model, 2048))', positiveInt('--gen-context'))
    .option('--root <dir>', 'corpora root (default: $MFNER_CORPORA or ../shared/corpora)')
    .option('--no-progress', 'no progress bar')
    .option('--json', 'print the summary as one JSON object on stdout')
    .addHelpText('after', `
The paper's setup is the default: AdamW, lr 1e-5 constant, batch 2 x accumulation 8, 4 epochs,
dev micro-F1 every 1/4 epoch, best checkpoint kept. An interrupted run (Ctrl-C saves a
checkpoint) resumes when the same command is run again.

Examples:
  mfner train --model qwen2.5-0.5b-instruct-q8_0.gguf --datasets NCBI-disease --config all --draw 1 --method lora --out runs/ncbi-lora
  mfner train --model model-f32.gguf --method full --datasets GENIA,BC5CDR --config 7best --test --out runs/full
  mfner train --model model.gguf --data my-examples.jsonl --dev-data my-dev.jsonl --config only:multi_term --epochs 2 --out runs/mine`)
    .action(async (opts: TrainFlags) => {
      if (Boolean(opts.datasets) === Boolean(opts.data)) fail(EXIT.usage, 'ERR_INVALID_ARG', 'give either --datasets or --data');
      if (opts.test && !opts.datasets) fail(EXIT.usage, 'ERR_INVALID_ARG', '--test needs --datasets');
      if (opts.constraint !== undefined && opts.constraint !== 'format' && opts.constraint !== 'none') fail(EXIT.usage, 'ERR_INVALID_ARG', "--constraint takes 'format' or 'none'");
      usageCheck(() => configurationFormats(opts.config), '--config');
      usageCheck(() => parseList(opts.datasets ?? '').forEach((d) => getDataset(d)), '--datasets');
      const { signal, dispose } = interruptSignal(() =>
        process.stderr.write('\nmfner: stopping after the current micro-batch and saving a checkpoint (again to quit now)\n'),
      );
      const showBar = opts.progress && Boolean(process.stderr.isTTY) && !opts.json;
      const bar = new cliProgress.SingleBar(
        { stream: process.stderr, format: 'train |{bar}| {value}/{total} steps | epoch {epoch} | loss {loss} | {tps} tok/s | ETA {eta_formatted} | {status}', hideCursor: true, etaBuffer: 20, noTTYOutput: false },
        cliProgress.Presets.shades_classic,
      );
      let barStarted = false;
      const note = (n: string) => {
        if (!opts.json) process.stderr.write(`${barStarted ? '\n' : ''}mfner: note: ${n}\n`);
      };
      try {
        let data: TrainingData;
        try {
          data = opts.datasets
            ? await datasetTrainingData({ datasets: parseList(opts.datasets), configuration: opts.config, draw: opts.draw, trainCap: opts.trainCap, devCap: opts.devCap, root: opts.root })
            : fileTrainingData(opts.data!, opts.devData, { configuration: opts.config, types: opts.types ? parseList(opts.types) : undefined, guideline: opts.guideline, draw: opts.draw });
        } catch (err) {
          const code = (err as { code?: unknown }).code;
          fail(EXIT.usage, typeof code === 'string' ? code : 'ERR_INVALID_ARG', (err as Error).message);
        }
        for (const n of data.report.notes) note(n);
        if (!opts.json) process.stderr.write(`mfner: ${data.report.source}: ${data.train.length} training examples, ${data.dev.length} dev examples\n`);
        let lastStatus = 'training';
        const summary = await runTraining({
          model: opts.model,
          method: opts.method,
          data,
          out: opts.out,
          lr: opts.lr,
          batchSize: opts.batch,
          accumulation: opts.accumulation,
          epochs: opts.epochs,
          maxSteps: opts.maxSteps,
          evaluationsPerEpoch: opts.evalPerEpoch,
          schedule: opts.schedule,
          warmupRatio: opts.warmup,
          weightDecay: opts.weightDecay,
          rank: opts.rank,
          alpha: opts.alpha,
          targets: opts.targets ? parseList(opts.targets) : undefined,
          contextSize: opts.context,
          threads: opts.threads,
          seed: opts.seed,
          chatTemplate: readTemplate(opts.chatTemplate),
          evaluate: opts.eval && data.dev.length > 0,
          generation: { constraint: opts.constraint, batchSize: opts.genBatch, maxTokens: opts.maxTokens, contextSize: opts.genContext },
          checkpointEvery: opts.checkpointEvery,
          overwrite: opts.overwrite,
          merge: opts.merge,
          test: opts.test ? { datasets: parseList(opts.datasets!), configuration: opts.config, draw: opts.draw, testCap: opts.testCap, root: opts.root } : undefined,
          signal,
          onNote: note,
          onProgress: (p) => {
            if (!showBar) return;
            const payload = { epoch: p.epoch.toFixed(2), loss: p.loss.toFixed(4), tps: p.tokensPerSecond.toFixed(0), status: p.evaluation ? `dev F1 ${(100 * p.evaluation.score).toFixed(1)} (best ${(100 * p.evaluation.best).toFixed(1)})` : lastStatus };
            if (!barStarted) {
              bar.start(p.totalSteps, p.step, payload);
              barStarted = true;
            } else bar.update(p.step, payload);
            if (p.evaluation) lastStatus = payload.status;
          },
          onEvaluation: (phase) => {
            if (showBar && barStarted) bar.update(NaN as unknown as number, { status: phase === 'start' ? 'evaluating on dev' : lastStatus });
          },
        });
        if (barStarted) bar.stop();
        barStarted = false;
        if (opts.json) printJson(summary);
        else printSummary(summary);
        if (summary.aborted) throw new CommanderError(EXIT.interrupted, 'ERR_ABORTED', 'interrupted');
      } catch (err) {
        if (barStarted) bar.stop();
        if (err instanceof CommanderError) throw err;
        const code = (err as { code?: unknown }).code;
        if (code === 'ERR_ABORTED') fail(EXIT.interrupted, 'ERR_ABORTED', 'interrupted; run the same command again to resume');
        if (code === 'ERR_OUTPUT_EXISTS' || code === 'ERR_INVALID_ARG' || code === 'ERR_NO_EXAMPLES' || code === 'MFNER_DATASET_MISSING') fail(EXIT.usage, code as string, (err as Error).message);
        throw err;
      } finally {
        dispose();
      }
    });

  program
    .command('loss')
    .description('Response-only mean negative log-likelihood per example and overall (the number training minimises).')
    .requiredOption('--model <gguf>', 'model file (GGUF)')
    .option('--adapter <gguf>', 'LoRA adapter (GGUF)')
    .requiredOption('--in <file>', 'JSONL: {"messages": [...]} (assistant turns scored) or {"prompt", "completion"} (completion + EOS scored)')
    .option('--context <n>', 'tokens per evaluation batch (default: the longest example, at least 64)', positiveInt('--context'))
    .option('--threads <n>', 'CPU threads (at most the CPU count)', threadsOption())
    .option('--chat-template <file>', 'Jinja chat template for models without one')
    .option('--json', 'print one JSON object on stdout')
    .action(async (opts: { model: string; adapter?: string; in: string; context?: number; threads?: number; chatTemplate?: string; json?: boolean }) => {
      let examples: TrainExample[] = [];
      try {
        examples = readExampleFile(opts.in);
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        fail(EXIT.usage, typeof code === 'string' ? code : 'ERR_INVALID_ARG', (err as Error).message);
      }
      if (examples.length === 0) fail(EXIT.usage, 'ERR_INVALID_ARG', `${opts.in} holds no examples`);
      const model = await Model.load(opts.model);
      let trainer: Trainer | undefined;
      try {
        const chatTemplate = model.metadata.chatTemplate ? undefined : (readTemplate(opts.chatTemplate) ?? FALLBACK_CHAT_TEMPLATE);
        const longest = Math.max(...examples.map((e) => tokenizeExample(model, e, { chatTemplate }).tokens.length));
        const contextSize = opts.context ?? Math.max(64, longest);
        if (longest > contextSize) throw new MfnerError('ERR_INVALID_ARG', `an example has ${longest} tokens, more than --context ${contextSize}`);
        // Without an adapter: a rank-1 LoRA on one module with B = 0 (PEFT init) changes no logit,
        // so the numbers are the base model's, computed by the same code path as training.
        trainer = opts.adapter
          ? Trainer.create(model, { method: 'lora', adapterPath: opts.adapter, contextSize, threads: opts.threads, chatTemplate, forwardOnly: true })
          : Trainer.create(model, { method: 'lora', rank: 1, alpha: 1, targets: ['attn_q'], contextSize, threads: opts.threads, chatTemplate, forwardOnly: true });
        const r = await trainer.loss(examples);
        const out = { mean: r.mean, tokens: r.tokens, examples: r.perExample.map((nll, i) => ({ index: i, nll, tokens: r.perExampleTokens[i] })) };
        if (opts.json) printJson(out);
        else {
          for (const e of out.examples) process.stdout.write(`${e.index}\t${e.nll.toFixed(6)}\t${e.tokens} tokens\n`);
          process.stdout.write(`mean\t${r.mean.toFixed(6)}\t${r.tokens} tokens\n`);
        }
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (code === 'ERR_INVALID_ARG' || code === 'ERR_EXAMPLE_TOO_LONG' || code === 'ERR_TEMPLATE_NOT_PREFIX') fail(EXIT.usage, code as string, (err as Error).message);
        throw err;
      } finally {
        await trainer?.dispose();
        await model.dispose();
      }
    });
}
