/**
 * Scale-out commands on BullMQ/Redis (optional packages): `mfner submit`, `mfner worker`,
 * `mfner collect` and `mfner queue status|retry|clean`. `collect` also merges the outputs of
 * `mfner extract --shard i/N` (no Redis needed). See docs/operations.md.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { EXIT, interruptSignal, positiveInt, threadsOption, usageCheck } from '../options.ts';
import { resolveTask } from '../../pipeline/extract.ts';
import { FORMAT_NAMES, type FormatName } from '../../formats/index.ts';
import { DATASET_NAMES, getDataset } from '../../corpus/registry.ts';
import { parseList, printJson } from '../util.ts';
import { DEFAULT_QUEUE_NAME, PASSWORD_ENV, redactUrl, type QueueTarget } from '../../queue/connection.ts';

const USAGE_CODES = new Set(['ERR_INVALID_ARG', 'ERR_INPUT_MISSING', 'ERR_MODEL_MISSING', 'ERR_ADAPTER_MISSING', 'ERR_RUN_UNKNOWN']);

function rethrow(err: unknown): never {
  // Already printed (a usage error below, or commander's own).
  if (err instanceof CommanderError) throw err;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && USAGE_CODES.has(code)) {
    process.stderr.write(`mfner: ${(err as Error).message} [${code}]\n`);
    throw new CommanderError(EXIT.usage, code, (err as Error).message);
  }
  throw err;
}

interface ConnOpts {
  queue: string;
  name: string;
  tls?: boolean;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsServername?: string;
}

function withConnection(cmd: Command, required = true): Command {
  const q = new Option('--queue <url>', `Redis URL: redis://[user:password@]host:port[/db], rediss://… for TLS (password also from $${PASSWORD_ENV})`);
  if (required) q.makeOptionMandatory();
  return cmd
    .addOption(q)
    .option('--name <queue>', 'queue name (one per model is usual)', DEFAULT_QUEUE_NAME)
    .option('--tls', 'TLS even with redis://')
    .option('--tls-ca <pem>', 'CA certificate(s) to trust')
    .option('--tls-cert <pem>', 'client certificate (mutual TLS)')
    .option('--tls-key <pem>', 'client key (mutual TLS)')
    .option('--tls-servername <name>', 'name the server certificate must carry (default: the host)');
}

function target(o: ConnOpts): QueueTarget {
  return {
    name: o.name,
    connection: { url: o.queue, tls: o.tls, tlsCa: o.tlsCa, tlsCert: o.tlsCert, tlsKey: o.tlsKey, tlsServerName: o.tlsServername },
  };
}

const say = (line: string) => process.stderr.write(`mfner: ${line}\n`);

export function register(program: Command): void {
  withConnection(
    program
      .command('submit')
      .description('Enqueue the extraction of a JSONL file as batches on a BullMQ queue (idempotent: submitting again skips done batches and retries failed ones).'),
  )
    .requiredOption('--in <file>', 'input JSONL: {"id"?, "text"} per line')
    .requiredOption('--model <gguf>', 'model file; batches carry its SHA-256 and only workers with the same file take them')
    .option('--adapter <gguf>', 'LoRA adapter (GGUF)')
    .addOption(new Option('--format <format>', 'output format').choices([...FORMAT_NAMES]).makeOptionMandatory())
    .option('--dataset <name>', `types and guideline name from a dataset (${DATASET_NAMES.join(', ')})`)
    .option('--types <a,b,c>', 'entity types, in the order conv_term asks them')
    .option('--guideline <name>', 'the name in "Follow {name} guidelines"')
    .option('--constraint <c>', "'format' (default), 'none', or a GBNF file as @path", 'format')
    .option('--max-tokens <n>', 'token cap of one answer', positiveInt('--max-tokens'), 256)
    .option('--context <n>', 'token window of one prompt and its answers', positiveInt('--context'))
    .option('--chat-template <file>', 'Jinja chat template for models without one')
    .option('--log-text', 'keep raw answers (which may quote the documents) in the output records')
    .option('--batch-records <n>', 'input records per queue job', positiveInt('--batch-records'), 16)
    .option('--attempts <n>', 'tries per batch before it is reported failed', positiveInt('--attempts'), 3)
    .option('--backoff-ms <n>', 'first retry delay, doubled per retry', positiveInt('--backoff-ms'), 5000)
    .option('--redo', 'enqueue batches whose results were recorded before')
    .option('--json', 'print the summary as JSON')
    .addHelpText('after', `
Example:
  mfner submit --queue redis://redis.internal:6379 --in notes.jsonl --model qwen2.5-0.5b.gguf --format multi_term --dataset GENIA
  (prints the run id; then: mfner collect --queue … --run <id> --results /shared/results --out entities.jsonl)`)
    .action(async (o: ConnOpts & {
      in: string; model: string; adapter?: string; format: FormatName; dataset?: string; types?: string; guideline?: string; constraint: string;
      maxTokens: number; context?: number; chatTemplate?: string; logText?: boolean; batchRecords: number; attempts: number; backoffMs: number; redo?: boolean; json?: boolean;
    }) => {
      if (!o.dataset && !o.types) rethrow(Object.assign(new Error('give --dataset or --types'), { code: 'ERR_INVALID_ARG' }));
      if (o.dataset) usageCheck(() => getDataset(o.dataset!), '--dataset');
      usageCheck(() => resolveTask({ dataset: o.dataset, types: o.types ? parseList(o.types) : undefined, guideline: o.guideline }), '--types');
      let constraint = o.constraint;
      if (constraint !== 'format' && constraint !== 'none') {
        if (!constraint.startsWith('@')) rethrow(Object.assign(new Error("--constraint takes 'format', 'none' or @grammar.gbnf"), { code: 'ERR_INVALID_ARG' }));
        constraint = readFileSync(constraint.slice(1), 'utf8');
      }
      const { submit } = await import('../../queue/submit.ts');
      try {
        const r = await submit({
          ...target(o),
          input: o.in, model: o.model, adapter: o.adapter, format: o.format, dataset: o.dataset, types: o.types ? parseList(o.types) : undefined,
          guideline: o.guideline, constraint, maxTokens: o.maxTokens, contextSize: o.context,
          chatTemplate: o.chatTemplate ? readFileSync(o.chatTemplate, 'utf8') : undefined, logText: o.logText,
          batchRecords: o.batchRecords, attempts: o.attempts, backoffMs: o.backoffMs, redo: o.redo,
        });
        if (o.json) printJson(r);
        else {
          say(`run ${r.run} on queue ${r.queue} at ${redactUrl(o.queue)}: ${r.records} records (${r.inputErrors} input errors) in ${r.batches} batches; ${r.enqueued} enqueued, ${r.alreadyDone} already done, ${r.retried} failed batches retried`);
          process.stdout.write(`${r.run}\n`);
        }
      } catch (err) {
        rethrow(err);
      }
    });

  withConnection(
    program
      .command('worker')
      .description('Load the model once and process batches from the queue until stopped (SIGTERM/Ctrl-C finish the active batch first).'),
  )
    .requiredOption('--model <gguf>', 'model file (the same file the batches were submitted with)')
    .option('--adapter <gguf>', 'LoRA adapter (GGUF)')
    .requiredOption('--results <dir>', 'directory for result files (shared storage, or gathered before collect)')
    .option('--concurrency <n>', 'batches at once, sharing the model (each adds a KV cache)', positiveInt('--concurrency'), 1)
    .option('--batch <n>', 'prompts decoded together', positiveInt('--batch'), 8)
    .option('--threads <n>', 'CPU threads (at most the CPU count)', threadsOption())
    .option('--lock-ms <n>', "a dead worker's batch is redelivered after this", positiveInt('--lock-ms'), 30_000)
    .option('--max-stalled <n>', 'redeliveries after lock expiry before a batch fails', positiveInt('--max-stalled'), 3)
    .option('--exit-when-idle <ms>', 'exit once nothing has been waiting, delayed or active for this long', positiveInt('--exit-when-idle'))
    .option('--json', 'print the summary as JSON at exit')
    .action(async (o: ConnOpts & {
      model: string; adapter?: string; results: string; concurrency: number; batch: number; threads?: number; lockMs: number; maxStalled: number; exitWhenIdle?: number; json?: boolean;
    }) => {
      const { runWorker } = await import('../../queue/worker.ts');
      const { signal, dispose } = interruptSignal();
      try {
        const s = await runWorker({
          ...target(o),
          model: o.model, adapter: o.adapter, results: o.results, concurrency: o.concurrency, batchSize: o.batch, threads: o.threads,
          lockMs: o.lockMs, maxStalled: o.maxStalled, idleExitMs: o.exitWhenIdle, signal,
          log: (line) => say(`worker ${process.pid}: ${line}`),
        });
        if (o.json) printJson(s);
        else say(`worker ${process.pid}: stopped after ${s.batches} batches (${s.records} records, ${s.errors} error records, ${s.failures} failed attempts) in ${s.seconds.toFixed(1)} s`);
      } catch (err) {
        rethrow(err);
      } finally {
        dispose();
      }
    });

  withConnection(
    program
      .command('collect')
      .description("Write the merged JSONL in input order: a queue run's results (--queue, --run, --results), or mfner extract --shard outputs (files)."),
    false,
  )
    .argument('[shards...]', 'outputs of mfner extract --shard i/N (any order)')
    .option('--run <id>', 'the run id that mfner submit printed')
    .option('--results <dirs>', 'result directories, comma-separated')
    .option('--in <file>', 'shards: the input file, to check every record has its output')
    .requiredOption('--out <file>', 'merged output JSONL (written atomically)')
    .option('--json', 'print the summary as JSON')
    .action(async (shards: string[], o: Partial<ConnOpts> & { run?: string; results?: string; in?: string; out: string; json?: boolean }) => {
      const usage = (m: string) => rethrow(Object.assign(new Error(m), { code: 'ERR_INVALID_ARG' }));
      const { collectRun, mergeShards } = await import('../../queue/collect.ts');
      try {
        let r;
        if (shards.length > 0) {
          if (o.queue || o.run) usage('give shard files or --queue/--run, not both');
          r = await mergeShards({ files: shards, out: o.out, input: o.in });
        } else {
          if (!o.queue || !o.run || !o.results) usage('collect needs --queue, --run and --results (or shard files)');
          r = await collectRun({ ...target(o as ConnOpts), run: o.run!, results: parseList(o.results!), out: o.out });
        }
        if (o.json) printJson(r);
        else say(`${r.records} records (${r.errors} error records) from ${r.parts} ${shards.length > 0 ? 'shards' : 'batches'} written to ${r.out}`);
      } catch (err) {
        rethrow(err);
      }
    });

  const queue = program.command('queue').description('Inspect and manage the extraction queue.');
  withConnection(queue.command('status').description('Counts (waiting, active, delayed, failed, done), workers, failed batches with reasons; per run with --run.'))
    .option('--run <id>', 'progress of one run')
    .option('--json', 'print as JSON')
    .action(async (o: ConnOpts & { run?: string; json?: boolean }) => {
      const { queueStatus } = await import('../../queue/status.ts');
      try {
        const s = await queueStatus({ ...target(o), run: o.run });
        if (o.json) return printJson(s);
        const c = s.counts;
        const lines = [
          `queue ${s.queue} at ${redactUrl(o.queue)}: ${c.waiting + (c.prioritized ?? 0)} waiting, ${c.active} active, ${c.delayed} delayed (retry backoff), ${c.failed} failed, ${c.done} batch results recorded; ${s.workers < 0 ? 'workers unknown (CLIENT LIST not allowed)' : `${s.workers} workers`}`,
        ];
        if (s.run) lines.push(`run ${s.run.meta.run}: ${s.run.done}/${s.run.batches} batches done, ${s.run.failed} failed, ${s.run.pending} pending (${s.run.meta.records} records, model ${s.run.meta.model}, ${s.run.meta.format})`);
        for (const f of s.failed) lines.push(`failed ${f.id} (batch ${f.batch}, ${f.attempts} attempts): ${f.reason}`);
        if (s.runs.length > 0 && !s.run) lines.push(`runs: ${s.runs.join(', ')}`);
        process.stdout.write(`${lines.join('\n')}\n`);
      } catch (err) {
        rethrow(err);
      }
    });
  withConnection(queue.command('retry').description('Put every failed batch back in the queue (attempts start over).'))
    .action(async (o: ConnOpts) => {
      const { retryFailed } = await import('../../queue/status.ts');
      say(`${await retryFailed(target(o))} failed batches queued again`);
    });
  withConnection(queue.command('clean').description('Remove failed batches (they keep their text for a retry); --all removes the whole queue, run manifests included.'))
    .option('--all', 'remove everything under this queue name')
    .action(async (o: ConnOpts & { all?: boolean }) => {
      const { cleanQueue } = await import('../../queue/status.ts');
      const r = await cleanQueue({ ...target(o), all: o.all });
      say(`removed ${r.removedFailed} failed batches${o.all ? ' and the queue' : ''}`);
    });
}
