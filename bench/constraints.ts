/**
 * bench/constraints: per format, the cost of the format constraint with a 152k (Qwen2) vocabulary
 * and what it does to decoding speed (with and without jump-forward), against llama.cpp's GBNF
 * for the same language, in one run. The logic lives in lib/decode/bench.ts (`mfner bench formats`).
 *
 *   npx tsx bench/constraints.ts [--shape qwen2.5-0.5b|tiny] [--threads 1] [--tokens 48] [--reps 2] [--temperature 0] [--gbnf-steps 24] [--json]
 */
import { parseArgs } from 'node:util';
import { benchFormats, formatBenchTable } from '../lib/decode/bench.ts';
import type { MadeShape } from '../lib/native/index.ts';

const { values } = parseArgs({
  options: {
    shape: { type: 'string', default: 'qwen2.5-0.5b' },
    threads: { type: 'string', default: '1' },
    tokens: { type: 'string', default: '48' },
    reps: { type: 'string', default: '2' },
    temperature: { type: 'string', default: '0' },
    'gbnf-steps': { type: 'string', default: '24' },
    json: { type: 'boolean', default: false },
  },
});
const result = await benchFormats({
  shape: values.shape as MadeShape,
  threads: Number(values.threads),
  tokens: Number(values.tokens),
  reps: Number(values.reps),
  temperature: Number(values.temperature),
  gbnfSteps: Number(values['gbnf-steps']),
  onRow: values.json ? undefined : (r) => process.stderr.write(`${r.format} done\n`),
});
process.stdout.write(values.json ? `${JSON.stringify(result, null, 2)}\n` : formatBenchTable(result));
