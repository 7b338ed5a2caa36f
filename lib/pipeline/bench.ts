/**
 * `mfner bench`: one per-format throughput report, Markdown and JSON.
 *
 * Its own measurement is the end-to-end one: `extract` under the default format constraint,
 * per format, over the same documents (documents/s, generated tokens/s, prompt tokens). The
 * component benchmarks (bench/decode.ts, bench/constraints.ts, bench/train.ts) are not
 * re-implemented: in a source checkout they are run as child processes, as written, and their
 * Markdown tables are gathered into the same report (rows parsed into JSON objects).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { FORMAT_NAMES, type FormatName } from '../formats/index.ts';
import { Model, MfnerError } from '../native/index.ts';
import { packageRoot } from '../native/package-root.ts';
import { extract } from './extract.ts';

export interface FormatThroughput {
  format: FormatName;
  documents: number;
  errors: number;
  entities: number;
  promptTokens: number;
  generatedTokens: number;
  seconds: number;
  documentsPerSecond: number;
  generatedTokensPerSecond: number;
}

export const COMPONENT_BENCHES = ['decode', 'constraints', 'train'] as const;
export type ComponentBench = (typeof COMPONENT_BENCHES)[number];

export interface ComponentResult {
  name: ComponentBench;
  command: string;
  status: 'ok' | 'failed' | 'unavailable';
  seconds: number;
  /** Every Markdown table the bench printed, rows as objects keyed by header. */
  tables: Record<string, string>[][];
  /** Its full stdout (Markdown). */
  output: string;
}

export interface BenchReport {
  model: string;
  threads?: number;
  batchSize: number;
  maxTokens: number;
  documents: number;
  formats: FormatThroughput[];
  components: ComponentResult[];
  date: string;
}

/** A small built-in document set (no corpus needed): biomedical-style sentences. */
export const BENCH_DOCUMENTS: readonly string[] = [
  'These results suggest that BCL6 plays a role in activated lymphocytes as an immediate early gene.',
  'Aspirin reduced the risk of recurrent stroke in patients with atrial fibrillation.',
  'Mutations in BRCA1 and BRCA2 increase the risk of breast and ovarian cancer.',
  'The IL-2 receptor alpha chain is expressed on activated T cells.',
  'Cisplatin-induced nephrotoxicity was attenuated by magnesium supplementation.',
  'NF-kappa B binds to the enhancer of the HIV-1 long terminal repeat.',
  'Patients with Huntington disease carry an expanded CAG repeat in the HTT gene.',
  'Dexamethasone suppressed the expression of c-fos mRNA in HeLa cells.',
];

export async function benchFormats(options: {
  model: Model | string;
  formats?: readonly FormatName[];
  types?: readonly string[];
  documents?: readonly string[];
  batchSize?: number;
  maxTokens?: number;
  threads?: number;
  onProgress?: (format: FormatName) => void;
}): Promise<FormatThroughput[]> {
  const own = typeof options.model === 'string';
  const model = typeof options.model === 'string' ? await Model.load(options.model) : options.model;
  const docs = options.documents ?? BENCH_DOCUMENTS;
  const out: FormatThroughput[] = [];
  try {
    for (const format of options.formats ?? FORMAT_NAMES) {
      options.onProgress?.(format);
      const started = performance.now();
      const row: FormatThroughput = { format, documents: 0, errors: 0, entities: 0, promptTokens: 0, generatedTokens: 0, seconds: 0, documentsPerSecond: 0, generatedTokensPerSecond: 0 };
      for await (const d of extract(docs, { model, format, types: options.types ?? ['protein', 'DNA', 'cell_type'], batchSize: options.batchSize ?? 8, maxTokens: options.maxTokens ?? 128, threads: options.threads })) {
        row.documents++;
        if (d.error) row.errors++;
        row.entities += d.entities.length;
        row.promptTokens += d.tokens.prompt;
        row.generatedTokens += d.tokens.generated;
      }
      row.seconds = (performance.now() - started) / 1000;
      row.documentsPerSecond = row.documents / row.seconds;
      row.generatedTokensPerSecond = row.generatedTokens / row.seconds;
      out.push(row);
    }
  } finally {
    if (own) await model.dispose();
  }
  return out;
}

/** Markdown tables in `text`: each as rows keyed by its header cells. */
export function parseMarkdownTables(text: string): Record<string, string>[][] {
  const tables: Record<string, string>[][] = [];
  const lines = text.split('\n');
  const cells = (l: string) => l.trim().replace(/^\|/u, '').replace(/\|$/u, '').split('|').map((c) => c.trim());
  for (let i = 0; i + 1 < lines.length; i++) {
    if (!lines[i].trim().startsWith('|') || !/^\s*\|[\s:|-]+\|\s*$/u.test(lines[i + 1])) continue;
    const header = cells(lines[i]);
    const rows: Record<string, string>[] = [];
    let j = i + 2;
    for (; j < lines.length && lines[j].trim().startsWith('|'); j++) {
      const c = cells(lines[j]);
      rows.push(Object.fromEntries(header.map((h, k) => [h, c[k] ?? ''])));
    }
    tables.push(rows);
    i = j - 1;
  }
  return tables;
}

/** Runs one component bench script (a source checkout only), as written, with its own arguments. */
export function runComponent(name: ComponentBench, args: readonly string[] = [], timeoutMs = 30 * 60_000): ComponentResult {
  const script = path.join(packageRoot, 'bench', `${name}.ts`);
  const command = `npx tsx bench/${name}.ts ${args.join(' ')}`.trim();
  if (!existsSync(script)) return { name, command, status: 'unavailable', seconds: 0, tables: [], output: '' };
  const started = performance.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', script, ...args], { cwd: packageRoot, encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = r.stdout ?? '';
  return { name, command, status: r.status === 0 ? 'ok' : 'failed', seconds: (performance.now() - started) / 1000, tables: parseMarkdownTables(output), output };
}

export function benchMarkdown(r: BenchReport): string {
  const f = (x: number, d = 1) => x.toFixed(d);
  const lines = [
    '# mfner bench',
    '',
    `Model ${r.model}, ${r.documents} documents, batch ${r.batchSize}, answers ≤ ${r.maxTokens} tokens, threads ${r.threads ?? 'default'}, default format constraint; ${r.date}.`,
    '',
    '## Extraction per format',
    '',
    '| format | documents/s | generated tokens/s | generated tokens / document | prompt tokens / document | entities | errors | seconds |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...r.formats.map((x) => `| ${x.format} | ${f(x.documentsPerSecond, 2)} | ${f(x.generatedTokensPerSecond)} | ${f(x.generatedTokens / Math.max(x.documents, 1))} | ${f(x.promptTokens / Math.max(x.documents, 1))} | ${x.entities} | ${x.errors} | ${f(x.seconds, 2)} |`),
    '',
  ];
  for (const c of r.components) {
    lines.push(`## ${c.name} (\`${c.command}\`): ${c.status}${c.status === 'unavailable' ? ' (bench/ is in the source checkout only)' : `, ${f(c.seconds)} s`}`, '');
    if (c.output) lines.push(c.output.trim(), '');
  }
  return `${lines.join('\n')}\n`;
}

export function writeBench(dir: string, r: BenchReport): string[] {
  mkdirSync(dir, { recursive: true });
  const md = path.join(dir, 'bench.md');
  const json = path.join(dir, 'bench.json');
  writeFileSync(md, benchMarkdown(r));
  writeFileSync(json, `${JSON.stringify(r, null, 2)}\n`);
  return [md, json];
}

export function parseComponents(list: string): ComponentBench[] {
  const names = list.split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names) if (!(COMPONENT_BENCHES as readonly string[]).includes(n)) throw new MfnerError('ERR_INVALID_ARG', `unknown bench ${JSON.stringify(n)} (${COMPONENT_BENCHES.join(', ')})`);
  return names as ComponentBench[];
}
