import test from 'ava';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FORMAT_NAMES, getFormat } from '../../lib/formats/index.ts';
import { corporaRoot, withCorpora } from './corpora.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
function mfner(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import=tsx', 'lib/cli/bin.ts', ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, MFNER_CORPORA: corporaRoot },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

withCorpora('mfner corpus stats --json gives the measured counts beside the paper', (t) => {
  const r = mfner('corpus', 'stats', '--dataset', 'pgx,ncbi', '--json');
  t.is(r.code, 0, r.stderr);
  const rows = JSON.parse(r.stdout);
  t.deepEqual(rows.map((x: { dataset: string }) => x.dataset), ['PGxCorpus', 'NCBI-disease']);
  t.deepEqual([rows[0].splits.train.sentences, rows[0].splits.dev.sentences, rows[0].splits.test.sentences], [661, 142, 142]);
  t.is(rows[0].splits.train.discontinuousEntities, 303);
  t.deepEqual(rows[1].paper, { train: 5432, dev: 923, test: 940, nested: '-', discontinuous: '-', labels: 1 });
  t.is(rows[1].splits.train.sentences, 5424);
  const table = mfner('corpus', 'stats', '--dataset', 'ncbi');
  t.regex(table.stdout, /NCBI-disease\s+train\s+5424\s+5432\s+5134/);
});

withCorpora('BC4CHEMD is registered, and its absence is a clear error', (t) => {
  const r = mfner('corpus', 'stats', '--dataset', 'bc4chemd');
  t.is(r.code, 1);
  t.regex(r.stderr, /dataset BC4CHEMD: files not found: .*BC4CHEMD\/train\.tsv.*not distributed with the shared corpora.*\[MFNER_DATASET_MISSING\]/);
});

let formats = true;
try {
  FORMAT_NAMES.forEach((n) => getFormat(n));
} catch {
  formats = false;
}
(formats ? withCorpora : test.skip)('mfner corpus sample writes JSONL with code-point offsets, deterministically', (t) => {
  const args = ['corpus', 'sample', '--dataset', 'genia', '--config', '7best', '--draw', '2', '--split', 'dev'];
  const r = mfner(...args);
  t.is(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  t.true(lines.length >= 200);
  t.is(new Set(lines.map((l) => l.documentId)).size, 200);
  for (const l of lines) {
    t.true(['conv_term', 'multi_tag', 'multi_term', 'multi_triple', 'single_code', 'single_tag', 'single_term'].includes(l.format));
    for (const e of l.entities) t.is(e.spans.map(([s, x]: [number, number]) => [...l.text].slice(s, x).join('')).join(' '), e.text);
    t.true(l.messages[0].content.startsWith('The task you need to complete is named entity recognition. Follow Genia guidelines.\n\n'));
  }
  t.regex(r.stderr, /200 of 1765 documents/);
  t.is(mfner(...args).stdout, r.stdout);
  const bad = mfner('corpus', 'sample', '--dataset', 'genia', '--config', 'best', '--split', 'dev');
  t.regex(bad.stderr, /unknown configuration "best"/);
});
