/**
 * `mfner bench formats`: per output format, the format constraint's mask time per token with the
 * Qwen2 152k vocabulary against llama.cpp's GBNF for the same language, and decode tokens/s
 * constrained ÷ unconstrained (with and without jump-forward, 1 and 8 sequences) on a made
 * Qwen2 model, in one run. Prints one table, or `--json`.
 */
import type { Command } from 'commander';
import { EXIT, fail, nonNegativeNumber, positiveInt, threadsOption } from '../options.ts';
import { benchFormats, formatBenchTable } from '../../decode/bench.ts';
import { FORMAT_NAMES, type FormatName } from '../../formats/types.ts';
import { SHAPES, type MadeShape } from '../../native/index.ts';
import { parseList, printJson } from '../util.ts';

export function register(program: Command): void {
  // `mfner bench` itself (extract throughput) is the pipeline's; this adds `bench formats` to it.
  const bench = program.commands.find((c) => c.name() === 'bench') ?? program.command('bench').description('benchmarks');
  // `bench`'s own options (--formats, --threads, --json) stay before `formats`; after it they are
  // ours. (The root only has --version/--help, so positional options change nothing else.)
  program.enablePositionalOptions();
  bench.enablePositionalOptions();
  bench
    .command('formats')
    .description('per format: constraint mask µs/token (vs GBNF) and constrained ÷ unconstrained decode tokens/s on a made Qwen2 model')
    .option('--shape <name>', `made Qwen2 shape for the decode runs (${Object.keys(SHAPES).join(', ')})`, 'qwen2.5-0.5b')
    .option('--threads <n>', 'CPU threads for decoding (at most the CPU count)', threadsOption(), 1)
    .option('--tokens <n>', 'tokens per sequence per run', positiveInt('--tokens'), 48)
    .option('--reps <n>', 'interleaved repetitions of each decode run', positiveInt('--reps'), 2)
    .option('--temperature <t>', 'sampling temperature of the decode runs (0 = greedy)', nonNegativeNumber('--temperature'), 0)
    .option('--gbnf-steps <n>', 'GBNF mask steps per format (slow)', positiveInt('--gbnf-steps'), 24)
    .option('--formats <a,b>', 'only these formats')
    .option('--masks-only', 'mask figures only (no model to make or decode)')
    .option('--json', 'print one JSON object')
    .action(async (opts: { shape: string; threads: number; tokens: number; reps: number; temperature: number; gbnfSteps: number; formats?: string; masksOnly?: boolean; json?: boolean }) => {
      if (!(opts.shape in SHAPES)) fail(EXIT.usage, 'ERR_INVALID_ARG', `unknown --shape ${JSON.stringify(opts.shape.slice(0, 40))} (${Object.keys(SHAPES).join(', ')})`);
      const formats = opts.formats ? parseList(opts.formats) : [...FORMAT_NAMES];
      for (const f of formats) if (!(FORMAT_NAMES as readonly string[]).includes(f)) fail(EXIT.usage, 'ERR_INVALID_ARG', `unknown format ${JSON.stringify(f.slice(0, 40))} in --formats`);
      const result = await benchFormats({
        shape: opts.shape as MadeShape,
        threads: opts.threads,
        tokens: opts.tokens,
        reps: opts.reps,
        temperature: opts.temperature,
        gbnfSteps: opts.gbnfSteps,
        formats: formats as FormatName[],
        masksOnly: opts.masksOnly ?? false,
        onRow: opts.json ? undefined : (row) => process.stderr.write(`${row.format} done\n`),
      });
      if (opts.json) return printJson(result);
      process.stdout.write(formatBenchTable(result));
    });
}
