/**
 * The main jobs: `mfner extract` (JSONL in, entities out, resumable), `mfner eval` (the
 * results layout over sampled test sets) and `mfner reproduce` (the paper's protocol; `smoke`
 * runs the same code paths in minutes).
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { EXIT, fail, interruptSignal, parsedBy, positiveInt, threadsOption, usageCheck } from '../options.ts';
import { FORMAT_NAMES, type FormatName } from '../../formats/index.ts';
import { DATASET_NAMES, getDataset } from '../../corpus/registry.ts';
import { configurationFormats } from '../../prompt/configurations.ts';
import { resolveTask } from '../../pipeline/extract.ts';
import { runExtractJob } from '../../pipeline/jsonl-job.ts';
import { runEvaluation, evaluationTable } from '../../pipeline/evaluate.ts';
import { runReproduce, type Scale } from '../../pipeline/reproduce.ts';
import { progressLine, formatDuration } from '../../pipeline/progress.ts';
import { parseList, plural, printJson } from '../util.ts';
import { parseShard, type Shard } from '../../queue/shard.ts';
import { benchFormats, parseComponents, runComponent, writeBench, BENCH_DOCUMENTS, type BenchReport } from '../../pipeline/bench.ts';
import { MfnerError, madeModelPath } from '../../native/index.ts';

/** Exit codes: 0 done, 1 failure, 2 usage (bad or conflicting arguments), 130 interrupted. */
export { EXIT } from '../options.ts';

function rethrow(err: unknown): never {
  // Already printed (fail(), or commander's own parse errors).
  if (err instanceof CommanderError) throw err;
  const code = (err as { code?: unknown }).code;
  if (code === 'ERR_ABORTED') fail(EXIT.interrupted, 'ERR_ABORTED', 'interrupted; run the same command again to resume');
  if (code === 'ERR_TRAIN_UNAVAILABLE') fail(EXIT.usage, code, (err as Error).message);
  if (code === 'ERR_OUTPUT_EXISTS' || code === 'ERR_INVALID_ARG' || code === 'ERR_INPUT_MISSING' || code === 'ERR_MODEL_MISSING') {
    fail(EXIT.usage, code as string, (err as Error).message);
  }
  throw err;
}

const formatOption = () => new Option('--format <format>', 'output format').choices([...FORMAT_NAMES]);
const constraintHelp = "'format' (default: answers constrained to the format and the input), 'none', or a GBNF file as @path";

function constraintValue(v: string | undefined): string | undefined {
  if (v === undefined || v === 'format' || v === 'none') return v;
  if (v.startsWith('@')) return readFileSync(v.slice(1), 'utf8');
  throw new MfnerError('ERR_INVALID_ARG', "--constraint takes 'format', 'none' or @grammar.gbnf");
}

export function register(program: Command): void {
  program
    .command('extract')
    .description('Extract entities from a JSONL file of documents: one output record per input record, resumable, offline.')
    .requiredOption('--model <gguf>', 'model file (GGUF)')
    .option('--adapter <gguf>', 'LoRA adapter (GGUF)')
    .addOption(formatOption().makeOptionMandatory())
    .option('--dataset <name>', `take the types and guideline name from a dataset (${DATASET_NAMES.join(', ')})`)
    .option('--types <a,b,c>', 'entity types, in the order conv_term asks them')
    .option('--guideline <name>', 'the name in "Follow {name} guidelines"')
    .requiredOption('--in <file>', 'input JSONL: {"id"?, "text"} per line')
    .requiredOption('--out <file>', 'output JSONL (appended to on resume)')
    .option('--constraint <c>', constraintHelp, 'format')
    .option('--batch <n>', 'prompts decoded together', positiveInt('--batch'), 8)
    .option('--max-tokens <n>', 'token cap of one answer', positiveInt('--max-tokens'), 256)
    .option('--context <n>', 'token window of one prompt and its answers (default: min(model, 2048))', positiveInt('--context'))
    .option('--threads <n>', 'CPU threads (at most the CPU count)', threadsOption())
    .option('--chat-template <file>', 'Jinja chat template for models without one')
    .option('--overwrite', 'start again when --out exists from other arguments')
    .option('--log-text', 'keep raw answers (which may quote the documents) in the output records')
    .option('--shard <i/N>', 'only input records whose 0-based index is i mod N (N copies on a batch scheduler; merge with mfner collect)', parsedBy(parseShard))
    .option('--json', 'print the summary as one JSON object on stdout')
    .addHelpText(
      'after',
      `
Output records (code-point offsets), in input order:
  {"line": 3, "id": "d3", "entities": [{"type": "protein", "spans": [[27, 31]], "text": "BCL6"}], "problems": []}
  {"line": 4, "id": null, "error": {"code": "invalid-json", "message": "line 4 is not valid JSON"}}

A run that was killed resumes when started again with the same arguments.

Examples:
  mfner extract --model qwen2.5-0.5b.gguf --adapter genia-lora.gguf --format multi_term --dataset GENIA --in notes.jsonl --out entities.jsonl
  mfner extract --model model.gguf --format single_term --types Disease,Chemical --in docs.jsonl --out out.jsonl --json`,
    )
    .action(async (opts: {
      model: string; adapter?: string; format: FormatName; dataset?: string; types?: string; guideline?: string;
      in: string; out: string; constraint?: string; batch: number; maxTokens: number; context?: number; threads?: number;
      chatTemplate?: string; overwrite?: boolean; logText?: boolean; shard?: Shard; json?: boolean;
    }) => {
      if (!opts.dataset && !opts.types) fail(EXIT.usage, 'ERR_INVALID_ARG', 'give --dataset or --types');
      if (opts.dataset) usageCheck(() => getDataset(opts.dataset!), '--dataset');
      usageCheck(() => resolveTask({ dataset: opts.dataset, types: opts.types ? parseList(opts.types) : undefined, guideline: opts.guideline }), '--types');
      const constraint = usageCheck(() => constraintValue(opts.constraint), '--constraint');
      const { signal, dispose } = interruptSignal();
      const progress = progressLine();
      try {
        const chatTemplate = opts.chatTemplate ? (await import('node:fs')).readFileSync(opts.chatTemplate, 'utf8') : undefined;
        const result = await runExtractJob({
          model: opts.model,
          adapter: opts.adapter,
          format: opts.format,
          dataset: opts.dataset,
          types: opts.types ? parseList(opts.types) : undefined,
          guideline: opts.guideline,
          input: opts.in,
          output: opts.out,
          constraint,
          batchSize: opts.batch,
          maxTokens: opts.maxTokens,
          contextSize: opts.context,
          threads: opts.threads,
          chatTemplate,
          overwrite: opts.overwrite,
          logText: opts.logText,
          shard: opts.shard,
          signal,
          onNote: (n) => process.stderr.write(`mfner: note: ${n}\n`),
          onProgress: (p) =>
            progress.update(`extract: ${p.records} records (${plural(p.errors, 'error')}), input line ${p.line}, ${(p.records / Math.max(p.elapsedMs / 1000, 1e-3)).toFixed(1)} records/s, ${formatDuration(p.elapsedMs)}`),
        });
        progress.done();
        if (opts.json) printJson(result);
        else if (result.alreadyComplete) process.stderr.write(`mfner: ${opts.out} is already complete for these arguments\n`);
        else {
          const resumed = result.resumedAfterLine > 0 ? `, resumed after input line ${result.resumedAfterLine} (${result.resumedRecords} records kept${result.truncatedBytes ? `, ${result.truncatedBytes} torn bytes cut` : ''})` : '';
          process.stderr.write(
            `mfner: ${result.records} records written (${plural(result.documents, 'document')}, ${plural(result.errors, 'error')}) in ${formatDuration(result.seconds * 1000)}, ${result.documentsPerSecond.toFixed(2)} documents/s, constraint ${result.constraint}${resumed}\n`,
          );
        }
      } catch (err) {
        progress.done();
        rethrow(err);
      } finally {
        dispose();
      }
    });

  program
    .command('eval')
    .description("Evaluate a model on each draw's sampled test set in every compatible format of a configuration; write the results layout and print the table.")
    .requiredOption('--model <gguf>', 'model file (GGUF)')
    .option('--adapter <gguf>', 'LoRA adapter (GGUF)')
    .option('--model-name <name>', 'name of the model in the results (default: the file name)')
    .requiredOption('--datasets <a,b>', `datasets (${DATASET_NAMES.join(', ')})`)
    .option('--config <name>', 'all, 7best, term_ner or only:<format>', 'all')
    .option('--draws <n>', 'draws 1..n', positiveInt('--draws'), 3)
    .option('--test-cap <n>', 'test sample size (default: 300, the paper\'s)', positiveInt('--test-cap'))
    .option('--dev-threshold', 'also score each run keeping only entities above a confidence threshold chosen on the draw\'s dev sample (model <name>+dev-threshold)')
    .option('--dev-cap <n>', 'dev sample size for --dev-threshold (default 200)', positiveInt('--dev-cap'))
    .requiredOption('--out <dir>', 'results directory')
    .option('--constraint <c>', constraintHelp, 'format')
    .option('--batch <n>', 'prompts decoded together', positiveInt('--batch'), 8)
    .option('--max-tokens <n>', 'token cap of one answer', positiveInt('--max-tokens'), 256)
    .option('--context <n>', 'token window of one prompt and its answers', positiveInt('--context'))
    .option('--threads <n>', 'CPU threads (at most the CPU count)', threadsOption())
    .option('--root <dir>', 'corpora root (default: $MFNER_CORPORA or ../shared/corpora)')
    .option('--json', 'print the runs written as JSON')
    .addHelpText('after', `
Example:
  mfner eval --model qwen2.5-0.5b.gguf --adapter all-lora.gguf --datasets GENIA,NCBI-disease --config all --draws 3 --out results/`)
    .action(async (opts: {
      model: string; adapter?: string; modelName?: string; datasets: string; config: string; draws: number; testCap?: number; out: string;
      devThreshold?: boolean; devCap?: number; constraint?: string; batch: number; maxTokens: number; context?: number; threads?: number; root?: string; json?: boolean;
    }) => {
      usageCheck(() => configurationFormats(opts.config), '--config');
      usageCheck(() => parseList(opts.datasets).forEach((d) => getDataset(d)), '--datasets');
      const constraint = usageCheck(() => constraintValue(opts.constraint), '--constraint');
      const { signal, dispose } = interruptSignal();
      const progress = progressLine();
      try {
        const runs = await runEvaluation({
          model: opts.model,
          adapter: opts.adapter,
          modelName: opts.modelName,
          datasets: parseList(opts.datasets),
          configuration: opts.config,
          draws: Array.from({ length: opts.draws }, (_, i) => i + 1),
          testCap: opts.testCap,
          devThreshold: opts.devThreshold,
          devCap: opts.devCap,
          out: opts.out,
          root: opts.root,
          extract: { constraint, batchSize: opts.batch, maxTokens: opts.maxTokens, contextSize: opts.context, threads: opts.threads, signal },
          onNote: (n) => process.stderr.write(`mfner: note: ${n}\n`),
          // Called as each run starts: p.run - 1 runs are done, so the mean run time gives an ETA.
          onProgress: (p) =>
            progress.update(
              `eval: run ${p.run}/${p.runs} ${p.dataset} ${p.format} draw ${p.draw}, ${formatDuration(p.elapsedMs)}` +
                (p.run > 1 ? `, ETA ${formatDuration((p.elapsedMs / (p.run - 1)) * (p.runs - p.run + 1))}` : ''),
            ),
        });
        progress.done();
        if (opts.json) printJson(runs.map((r) => r.summary));
        else process.stdout.write(evaluationTable(runs.map((r) => r.run)));
      } catch (err) {
        progress.done();
        rethrow(err);
      } finally {
        dispose();
      }
    });

  program
    .command('reproduce')
    .description("The paper's protocol: sample, train, evaluate, report. --scale smoke runs the same code paths in minutes on a made tiny model; --scale cpu trains a model that learns, in about an hour on 2 cores.")
    .option('--models <list>', 'GGUF files, made:qwen2-tiny / made:llama-tiny, or made:corpus (a vocabulary learnt from the datasets; default for cpu), else made:qwen2-tiny')
    .requiredOption('--out <dir>', 'results directory (runs/ and report/)')
    .addOption(new Option('--scale <scale>', 'paper: the full study; cpu: 4 formats x NCBI-disease, BC5CDR on a model made from the corpora; smoke: tiny samples, few steps').choices(['paper', 'cpu', 'smoke']).default('smoke'))
    .option('--datasets <a,b>', 'datasets (default: smoke NCBI-disease,BC5CDR; paper all)')
    .option('--configurations <a,b>', "configurations (all, 7best, term_ner, only:<format>, each:<format>+<format>...; default the scale's: cpu each:multi_term+single_tag+multi_span+multi_bio, the four trained together)")
    .addOption(new Option('--method <method>', 'fine-tuning method (full needs F32 weights; default full for cpu, else lora)').choices(['lora', 'full']))
    .option('--no-train', 'evaluate the models as they are (smoke only)')
    .option('--threads <n>', 'CPU threads (at most the CPU count)', threadsOption())
    .option('--root <dir>', 'corpora root')
    .option('--json', 'print the summary as JSON')
    .addHelpText('after', `
Per model, configuration and draw: sample the train split, fine-tune (out/train/<model>/<config>/draw-<n>/),
evaluate the trained weights on the draw's test sample (out/runs/), then report (out/report/).

Examples:
  mfner reproduce --out smoke/                       # made tiny Qwen2, 2 datasets x 2 formats, minutes on a CPU
  mfner reproduce --scale cpu --threads 2 --out cpu/ # a model made and trained here: held-out F1 per format
  mfner reproduce --scale cpu --threads 2 --configurations only:multi_term --out term/  # one format alone, ~15 min
  mfner reproduce --scale paper --models qwen2.5-0.5b-instruct.gguf --out study/`)
    .action(async (opts: { models?: string; out: string; scale: Scale; datasets?: string; configurations?: string; method?: 'lora' | 'full'; train: boolean; threads?: number; root?: string; json?: boolean }) => {
      usageCheck(() => parseList(opts.datasets ?? '').forEach((d) => getDataset(d)), '--datasets');
      usageCheck(() => parseList(opts.configurations ?? '').forEach((c) => configurationFormats(c)), '--configurations');
      const { signal, dispose } = interruptSignal();
      const progress = progressLine();
      try {
        const summary = await runReproduce({
          models: opts.models ? parseList(opts.models) : undefined,
          out: opts.out,
          scale: opts.scale,
          method: opts.method,
          noTrain: !opts.train,
          datasets: opts.datasets ? parseList(opts.datasets) : undefined,
          configurations: opts.configurations ? parseList(opts.configurations) : undefined,
          threads: opts.threads,
          root: opts.root,
          signal,
          log: (line) => {
            progress.done();
            process.stderr.write(`mfner: ${line}\n`);
          },
          onProgress: (text) => progress.update(text),
        });
        progress.done();
        if (opts.json) printJson(summary);
        else process.stdout.write(`${summary.table}\nreport: ${summary.reportFiles.find((f) => f.endsWith('report.md')) ?? '(none)'}\n`);
      } catch (err) {
        progress.done();
        rethrow(err);
      } finally {
        dispose();
      }
    });

  program
    .command('bench')
    .description('Per-format throughput (documents/s, tokens/s) of extract, plus the decode, constraint and training benches, as Markdown and JSON.')
    .option('--model <gguf>', 'model file, or made:qwen2-tiny / made:llama-tiny / made:qwen2-qwen2.5-0.5b', 'made:qwen2-tiny')
    .option('--formats <a,b>', 'formats (default: all twelve)')
    .option('--batch <n>', 'prompts decoded together', positiveInt('--batch'), 8)
    .option('--max-tokens <n>', 'token cap of one answer', positiveInt('--max-tokens'), 128)
    .option('--threads <n>', 'CPU threads (at most the CPU count)', threadsOption())
    .option('--include <list>', 'component benches to run as well (source checkout): decode,constraints,train', '')
    .option('--out <dir>', 'where bench.md and bench.json go', 'bench-results')
    .option('--json', 'print the report as JSON')
    .addHelpText('after', `
Examples:
  mfner bench --threads 1                                     # extract per format on the made tiny Qwen2
  mfner bench --model qwen2.5-0.5b-instruct.gguf --include decode,constraints,train --out bench-results/`)
    .action(async (opts: { model: string; formats?: string; batch: number; maxTokens: number; threads?: number; include: string; out: string; json?: boolean }) => {
      const components = usageCheck(() => (opts.include ? parseComponents(opts.include) : []), '--include');
      const formats = opts.formats ? (parseList(opts.formats) as FormatName[]) : undefined;
      for (const f of formats ?? []) if (!FORMAT_NAMES.includes(f)) fail(EXIT.usage, 'ERR_INVALID_ARG', `unknown format ${JSON.stringify(f.slice(0, 40))} in --formats`);
      const progress = progressLine();
      try {
        const made = /^made:(qwen2|llama)-(tiny|qwen2\.5-0\.5b|llama-3\.2-1b)$/u.exec(opts.model);
        const model = made ? await madeModelPath(made[1] as 'qwen2' | 'llama', made[2] as 'tiny') : opts.model;
        const rows = await benchFormats({ model, formats, batchSize: opts.batch, maxTokens: opts.maxTokens, threads: opts.threads, onProgress: (f) => progress.update(`bench: extract ${f}`) });
        const report: BenchReport = {
          model: opts.model,
          threads: opts.threads,
          batchSize: opts.batch,
          maxTokens: opts.maxTokens,
          documents: BENCH_DOCUMENTS.length,
          formats: rows,
          components: components.map((c) => {
            progress.update(`bench: ${c}`);
            return runComponent(c, opts.threads ? ['--threads', String(opts.threads)] : []);
          }),
          date: new Date().toISOString(),
        };
        progress.done();
        const files = writeBench(opts.out, report);
        if (opts.json) printJson(report);
        else process.stdout.write(`${(await import('node:fs')).readFileSync(files[0], 'utf8')}\nwritten: ${files.join(', ')}\n`);
      } catch (err) {
        progress.done();
        rethrow(err);
      }
    });
}
