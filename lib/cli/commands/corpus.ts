/**
 * `mfner corpus stats` prints Table 1 from the files beside the paper's figures;
 * `mfner corpus sample` writes one split's chat examples as JSONL (code-point offsets).
 */
import { createWriteStream } from 'node:fs';
import { Command, Option } from 'commander';
import { OffsetMap } from '../../formats/entity.ts';
import { DATASET_NAMES, getDataset, loadDataset, SPLITS, type SplitName } from '../../corpus/registry.ts';
import { configurationFormats } from '../../prompt/configurations.ts';
import { nonNegativeInt, positiveInt, usageCheck } from '../options.ts';
import { datasetStats, formatStatsTable, type DatasetStats } from '../../corpus/stats.ts';
import { SkipReport } from '../../corpus/errors.ts';
import { prepareExamples, type PromptExample } from '../../prompt/index.ts';
import { parseList, printJson } from '../util.ts';

function exampleToJson(example: PromptExample) {
  const map = new OffsetMap(example.text);
  return {
    ...example,
    entities: example.entities.map((e) => ({ ...e, spans: e.spans.map((s) => map.spanToCodePoints(s)) })),
  };
}

export function register(program: Command): void {
  const corpus = program.command('corpus').description('Corpora: statistics and sampled chat examples');

  corpus
    .command('stats')
    .description("Table 1 as the files give it, beside the paper's figures")
    .option('--dataset <names>', `comma-separated datasets (default: all of ${DATASET_NAMES.join(', ')})`)
    .option('--root <dir>', 'corpora root (default: $MFNER_CORPORA or ../shared/corpora)')
    .addOption(new Option('--genia-coordination <mode>', 'drop or keep coordinated GENIA members').choices(['drop', 'keep']).default('drop'))
    .option('--json', 'print JSON instead of a table')
    .addHelpText('after', `
Examples:
  mfner corpus stats
  mfner corpus stats --dataset GENIA,NCBI-disease --json`)
    .action(async (opts: { dataset?: string; root?: string; geniaCoordination: string; json?: boolean }) => {
      const names = opts.dataset ? parseList(opts.dataset) : [...DATASET_NAMES];
      usageCheck(() => names.forEach((n) => getDataset(n)), '--dataset');
      const rows: (DatasetStats | { dataset: string; error: string })[] = [];
      for (const name of names) {
        try {
          const loaded = await loadDataset(name, {
            root: opts.root,
            geniaCoordination: opts.geniaCoordination === 'keep' ? 'keep' : 'drop',
          });
          rows.push(datasetStats(loaded));
        } catch (err) {
          // A dataset that is absent (BC4CHEMD) is a row saying so; other errors stop the command.
          if ((err as { code?: string }).code !== 'MFNER_DATASET_MISSING' || opts.dataset) throw err;
          rows.push({ dataset: name, error: (err as Error).message });
        }
      }
      if (opts.json) printJson(rows);
      else process.stdout.write(`${formatStatsTable(rows)}\n`);
    });

  corpus
    .command('sample')
    .description('Write the chat examples of one sampled split as JSONL')
    .requiredOption('--dataset <name>', `one of ${DATASET_NAMES.join(', ')}`)
    .requiredOption('--config <name>', 'all, 7best, term_ner or only:<format>')
    .addOption(new Option('--split <split>', 'which split').choices([...SPLITS]).makeOptionMandatory())
    .option('--draw <k>', 'seeded draw (the paper uses 1, 2, 3)', positiveInt('--draw'), 1)
    .option('--cap <n>', 'sample size cap (default: 10000 train, 200 dev, 300 test)', nonNegativeInt('--cap'))
    .option('--root <dir>', 'corpora root (default: $MFNER_CORPORA or ../shared/corpora)')
    .addOption(new Option('--genia-coordination <mode>', 'drop or keep coordinated GENIA members').choices(['drop', 'keep']).default('drop'))
    .option('--lenient', 'skip malformed records (counted on stderr) instead of failing')
    .option('--out <file>', 'write here instead of stdout')
    .addHelpText('after', `
Each line is one chat example: {"id", "format", "types", "text", "entities" (code-point spans), "messages"};
mfner train --data and mfner loss --in read it, mfner score --gold and mfner extract --in too.

Examples:
  mfner corpus sample --dataset NCBI-disease --config only:multi_term --split train --cap 16 --out train.jsonl
  mfner corpus sample --dataset GENIA --config 7best --split test --draw 2 --out genia-test.jsonl`)
    .action(
      async (opts: {
        dataset: string;
        config: string;
        split: SplitName;
        draw: number;
        cap?: number;
        root?: string;
        geniaCoordination: string;
        lenient?: boolean;
        out?: string;
      }) => {
        const { draw, cap } = opts;
        usageCheck(() => getDataset(opts.dataset), '--dataset');
        usageCheck(() => configurationFormats(opts.config), '--config');
        const report = new SkipReport();
        const { examples, report: built, sampled, available } = await prepareExamples(opts.dataset, {
          configuration: opts.config,
          split: opts.split,
          draw,
          cap,
          root: opts.root,
          lenient: opts.lenient,
          report,
          geniaCoordination: opts.geniaCoordination === 'keep' ? 'keep' : 'drop',
        });
        const out = opts.out ? createWriteStream(opts.out) : process.stdout;
        for (const ex of examples) out.write(`${JSON.stringify(exampleToJson(ex))}\n`);
        if (opts.out) await new Promise<void>((resolve, reject) => (out as ReturnType<typeof createWriteStream>).end((err?: Error | null) => (err ? reject(err) : resolve())));
        const skips = report.count > 0 ? `; skipped ${report.count} malformed record(s): ${report.summary().join('; ')}` : '';
        process.stderr.write(
          `mfner corpus sample: ${sampled} of ${available} documents, ${built.examples} examples` +
            ` (${Object.entries(built.byFormat).map(([f, n]) => `${f}=${n}`).join(' ')})` +
            (built.noFormat ? `; ${built.noFormat} documents no format could render` : '') +
            (built.unrenderable ? `; ${built.unrenderable} test examples not renderable in their format` : '') +
            `${skips}\n`,
        );
      },
    );
}
