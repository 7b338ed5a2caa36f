/**
 * `mfner extract` end to end, in real child processes on stories260K: one record per input
 * record, error records, privacy of error messages, resume after SIGKILL (with a torn last
 * line), refusal of other arguments, and no network access.
 */
import test from 'ava';
import { reportMissing } from '../helpers/shared.ts';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stories, tempDir } from '../native/helpers.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = path.join(root, 'lib/cli/bin.ts');
const noNetwork = path.join(root, 'test/pipeline/no-network.mjs');
const maybe = stories.missing ? test.skip : test.serial;
reportMissing(test, 'stories260K CLI tests', stories.missing);

const SECRET = 'ZEBRAFINCH-7731';

/** 26 documents, 3 malformed lines and a blank line: 29 records. */
function writeInput(dir: string): { file: string; records: number } {
  const lines: string[] = [];
  for (let i = 0; i < 26; i++) {
    lines.push(JSON.stringify({ id: `doc-${i}`, text: `Patient ${i} (${SECRET}) got aspirin for migraine; BCL6 𝛼 rose.` }));
    if (i === 3) lines.push(`{"id": "broken", "text": "${SECRET} never closed`);
    if (i === 9) lines.push(JSON.stringify({ id: 'no-text', body: SECRET }));
    if (i === 15) lines.push('');
    if (i === 20) lines.push(JSON.stringify([SECRET]));
  }
  const file = path.join(dir, 'docs.jsonl');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return { file, records: 29 };
}

const args = (input: string, out: string) => [
  'extract', '--model', stories.path, '--format', 'multi_term', '--types', 'Chemical,Disease',
  '--in', input, '--out', out, '--max-tokens', '24', '--batch', '4', '--threads', '1', '--json',
];

function nodeArgs(extra: string[]): string[] {
  return ['--import', 'tsx', '--import', noNetwork, bin, ...extra];
}

function runCli(extra: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, nodeArgs(extra), { cwd: root, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });
}

const records = (file: string) => readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { line: number; id: unknown; error?: { code: string; message: string } });

let reference: { dir: string; input: string; out: string; stdout: string; stderr: string; marker: string } | undefined;
/** One uninterrupted run, shared by the tests that compare against it. */
function referenceRun() {
  if (reference) return reference;
  const dir = tempDir('mfner-extract-');
  const { file } = writeInput(dir);
  const out = path.join(dir, 'reference.jsonl');
  const marker = path.join(dir, 'net-marker');
  const r = runCli(args(file, out), { MFNER_NET_MARKER: marker });
  if (r.status !== 0) throw new Error(`reference run failed (${r.status}): ${r.stderr}`);
  reference = { dir, input: file, out, stdout: r.stdout, stderr: r.stderr, marker };
  return reference;
}

maybe('every input record yields exactly one output record, in input order, with error records for malformed lines', (t) => {
  const ref = referenceRun();
  const recs = records(ref.out);
  t.is(recs.length, 29);
  const lines = recs.map((r) => r.line);
  t.deepEqual(lines, [...lines].sort((a, b) => a - b));
  t.is(new Set(lines).size, 29);
  const errors = recs.filter((r) => r.error);
  t.deepEqual(errors.map((r) => [r.id, r.error!.code]), [[null, 'invalid-json'], ['no-text', 'missing-text'], [null, 'not-an-object']]);
  const summary = JSON.parse(ref.stdout) as { records: number; documents: number; errors: number };
  t.deepEqual([summary.records, summary.documents, summary.errors], [29, 26, 3]);
  // Offsets in the file are code points: the 𝛼 is one position.
  t.true(recs.filter((r) => !r.error).every((r) => Array.isArray((r as { entities?: unknown }).entities)));
});

maybe('no document text in errors, progress or logs', (t) => {
  const ref = referenceRun();
  t.false(ref.stderr.includes(SECRET), 'stderr quotes a document');
  t.false(ref.stdout.includes(SECRET), 'stdout quotes a document');
  for (const r of records(ref.out).filter((r) => r.error)) t.false(JSON.stringify(r).includes(SECRET), 'an error record quotes its line');
});

maybe('no network access at any point', (t) => {
  const ref = referenceRun();
  t.false(existsSync(ref.marker), existsSync(ref.marker) ? `network attempted: ${readFileSync(ref.marker, 'utf8')}` : '');
});

test.serial('the no-network hook does catch network calls (so its silence above means something)', (t) => {
  const dir = tempDir('mfner-net-');
  const marker = path.join(dir, 'marker');
  const code = `
    const tries = [() => fetch('http://127.0.0.1:9/'), () => require('node:dns').lookup('example.org', () => {}), () => require('node:net').connect(9, '127.0.0.1'), () => require('node:https').get('https://127.0.0.1:9/')];
    for (const f of tries) { try { const p = f(); if (p && p.catch) p.catch(() => {}); } catch {} }`;
  const r = spawnSync(process.execPath, ['--import', noNetwork, '-e', code], { encoding: 'utf8', env: { ...process.env, MFNER_NET_MARKER: marker } });
  t.is(r.status, 0, r.stderr);
  t.deepEqual(readFileSync(marker, 'utf8').trim().split('\n'), ['fetch', 'dns.lookup', 'net.connect', 'https.request']);
});

maybe('a run killed with SIGKILL and started again with the same arguments loses and duplicates nothing', async (t) => {
  const ref = referenceRun();
  const out = path.join(ref.dir, 'killed.jsonl');
  const child: ChildProcess = spawn(process.execPath, nodeArgs(args(ref.input, out)), { cwd: root, stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  // Kill once a few records are on disk, well before the end.
  const deadline = Date.now() + 60_000;
  let seen = 0;
  while (Date.now() < deadline) {
    seen = existsSync(out) ? readFileSync(out, 'utf8').split('\n').length - 1 : 0;
    if (seen >= 5) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  child.kill('SIGKILL');
  await exited;
  const before = readFileSync(out, 'utf8').split('\n').length - 1;
  t.true(before >= 5 && before < 29, `killed after ${before} records`);
  // What a kill in the middle of a write leaves: a torn last line.
  appendFileSync(out, '{"line": 31, "id": "doc-2');
  const r = runCli(args(ref.input, out));
  t.is(r.status, 0, r.stderr);
  const summary = JSON.parse(r.stdout) as { resumedRecords: number; resumedAfterLine: number; truncatedBytes: number; records: number };
  t.is(summary.resumedRecords, before);
  t.is(summary.truncatedBytes, '{"line": 31, "id": "doc-2'.length);
  t.is(summary.resumedRecords + summary.records, 29);
  // Byte for byte, but for confidences: their float sums depend on the batch's make-up, so a
  // resumed run (other batches) may differ in the last written digit (docs/pipeline.md).
  const noConfidence = (s: string) => s.replace(/"confidence":[0-9.e+-]+/gu, '"confidence":0');
  const confidences = (s: string) => [...s.matchAll(/"confidence":([0-9.e+-]+)/gu)].map((m) => Number(m[1]));
  const [resumed, whole] = [readFileSync(out, 'utf8'), readFileSync(ref.out, 'utf8')];
  t.is(noConfidence(resumed), noConfidence(whole), 'resumed output differs from an uninterrupted run');
  const [c1, c2] = [confidences(resumed), confidences(whole)];
  t.is(c1.length, c2.length);
  t.true(c1.every((c, i) => c > 0 && c <= 1 && Math.abs(c - c2[i]) <= 0.002), 'confidences of a resumed run differ by more than the rounding');
  // Started once more: already complete, nothing written.
  const again = runCli(args(ref.input, out));
  t.is(again.status, 0);
  t.true((JSON.parse(again.stdout) as { alreadyComplete: boolean }).alreadyComplete);
  t.is(readFileSync(out, 'utf8'), readFileSync(ref.out, 'utf8'));
});

maybe('an output from other arguments is not resumed: exit 2 unless --overwrite', (t) => {
  const ref = referenceRun();
  const other = args(ref.input, ref.out).map((a) => (a === 'Chemical,Disease' ? 'Chemical' : a));
  const r = runCli(other);
  t.is(r.status, 2);
  t.regex(r.stderr, /ERR_OUTPUT_EXISTS/);
  t.is(readFileSync(ref.out, 'utf8').split('\n').length - 1, 29, 'the output was left alone');
});
