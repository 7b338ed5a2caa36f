import test from 'ava';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { benchFormats, benchMarkdown, parseMarkdownTables, writeBench, type BenchReport } from '../../lib/pipeline/bench.ts';
import { THREADS, stories, tempDir } from '../native/helpers.ts';

test('component bench tables are gathered as rows keyed by header', (t) => {
  const out = 'Qwen2 vocabulary\n\n| format | mask mean µs | ratio |\n|---|---:|---|\n| multi_term | 12.5 | 0.98 |\n| conv_term | 9.1 | 1.01 |\n\nfooter\n| a | b |\n|---|---|\n| 1 | 2 |\n';
  t.deepEqual(parseMarkdownTables(out), [
    [{ format: 'multi_term', 'mask mean µs': '12.5', ratio: '0.98' }, { format: 'conv_term', 'mask mean µs': '9.1', ratio: '1.01' }],
    [{ a: '1', b: '2' }],
  ]);
});

const maybe = stories.missing ? test.skip : test;
maybe('per-format throughput on stories260K, written as Markdown and JSON', async (t) => {
  const formats = await benchFormats({ model: stories.path, formats: ['multi_term', 'single_span'], documents: ['BCL6 binds DNA.', 'Lily saw a dog.'], maxTokens: 16, batchSize: 2, threads: THREADS });
  t.deepEqual(formats.map((f) => [f.format, f.documents, f.errors]), [['multi_term', 2, 0], ['single_span', 2, 0]]);
  t.true(formats.every((f) => f.documentsPerSecond > 0 && f.generatedTokens > 0 && f.generatedTokensPerSecond > 0));
  const report: BenchReport = { model: 'stories260K', batchSize: 2, maxTokens: 16, documents: 2, formats, components: [], date: 'now' };
  const dir = tempDir('mfner-bench-');
  const files = writeBench(dir, report);
  t.true(files.every((f) => existsSync(f)));
  t.deepEqual(JSON.parse(readFileSync(path.join(dir, 'bench.json'), 'utf8')).formats.length, 2);
  t.regex(benchMarkdown(report), /\| single_span \| [0-9.]+ \|/u);
});
