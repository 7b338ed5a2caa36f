/**
 * Without Redis: --shard splitting and collect's shard merge (identical to one unsharded
 * extract, in real child processes), connection options (password, TLS, redaction), content
 * hash ids, atomic result files and their checks, and the clear error of mfner/queue without
 * its optional packages.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stories, tempDir } from '../native/helpers.ts';
import { parseShard, inShard } from '../../lib/queue/shard.ts';
import { redisOptions, redactUrl } from '../../lib/queue/connection.ts';
import { batchId, batchEntry, readResult, writeResultAtomic, BATCH_SCHEMA, type BatchJobData } from '../../lib/queue/batch.ts';
import { root, runCli, writeDocs } from './helpers.ts';

test('parseShard and inShard split records deterministically and completely', (t) => {
  t.deepEqual(parseShard('2/5'), { index: 2, count: 5 });
  t.throws(() => parseShard('5/5'), { message: /0-based/ });
  t.throws(() => parseShard('a/b'));
  t.throws(() => parseShard('0/0'));
  for (let i = 0; i < 50; i++) t.is([0, 1, 2].filter((s) => inShard(i, { index: s, count: 3 })).length, 1);
});

test('connection options: password from URL or env, TLS from rediss://, redacted URLs', (t) => {
  t.like(redisOptions({ url: 'redis://u:p%40ss@h:7000/3' }, {}), { host: 'h', port: 7000, db: 3, username: 'u', password: 'p@ss' });
  t.is(redisOptions({ url: 'redis://h' }, { MFNER_REDIS_PASSWORD: 'envpw' }).password, 'envpw');
  t.is(redisOptions({ url: 'redis://:urlpw@h' }, { MFNER_REDIS_PASSWORD: 'envpw' }).password, 'urlpw');
  t.is(redisOptions({ url: 'redis://h' }, {}).tls, undefined);
  t.like(redisOptions({ url: 'rediss://cache.example:6380' }, {}).tls, { servername: 'cache.example' });
  t.throws(() => redisOptions({ url: 'http://h' }), { message: /redis:\/\/ or rediss:\/\// });
  t.throws(() => redisOptions({ url: 'rediss://h', tlsCert: 'c.pem' }), { message: /go together/ });
  t.is(redactUrl('redis://user:secret@h:1/0'), 'redis://user:***@h:1/0');
  t.is(redactUrl('redis://:secret@h'), 'redis://:***@h');
});

const data = (text: string, maxTokens = 4): Omit<BatchJobData, 'index'> => ({
  v: BATCH_SCHEMA,
  model: { name: 'm.gguf', sha256: 'a'.repeat(64) },
  adapter: null,
  task: { format: 'multi_term', types: ['X'], guideline: 'g', constraint: 'format', maxTokens, contextSize: null, chatTemplate: null, logText: false },
  records: [{ line: 1, id: null, text }],
});

test('job ids are content hashes of batch, model, adapter and options', (t) => {
  t.is(batchId(data('a')), batchId(data('a')));
  t.not(batchId(data('a')), batchId(data('b')));
  t.not(batchId(data('a')), batchId(data('a', 5)));
  t.not(batchId(data('a')), batchId({ ...data('a'), adapter: { name: 'l', sha256: 'b'.repeat(64) } }));
  t.regex(batchId(data('a')), /^[0-9a-f]{64}$/);
});

test('result files are written atomically and checked against their batch', (t) => {
  const dir = tempDir('mfner-result-');
  const entry = batchEntry('id1', [{ line: 2, id: null, text: 'x' }, { line: 4, id: null, text: 'y' }]);
  writeResultAtomic(dir, 'id1', '{"line":2}\n{"line":4}\n');
  writeResultAtomic(dir, 'id1', '{"line":2}\n{"line":4}\n'); // a duplicate delivery rewrites it
  t.deepEqual(readdirSync(dir), ['id1.jsonl']); // no temporary files left
  t.true('content' in readResult(path.join(dir, 'id1.jsonl'), entry));
  writeResultAtomic(dir, 'id2', '{"line":2}\n');
  t.like(readResult(path.join(dir, 'id2.jsonl'), entry), { problem: '1 records, expected 2' });
  t.like(readResult(path.join(dir, 'nope.jsonl'), entry), { problem: 'missing' });
});

(stories.missing ? test.skip : test.serial)('extract --shard i/3 on three copies, merged by collect, equals one unsharded extract', (t) => {
  const dir = tempDir('mfner-shard-');
  const input = path.join(dir, 'docs.jsonl');
  writeDocs(input, 20);
  const task = ['--model', stories.path, '--format', 'multi_term', '--types', 'Chemical,Disease', '--max-tokens', '4', '--threads', '1', '--in', input];
  const shards = [0, 1, 2].map((i) => {
    const out = path.join(dir, `shard-${i}.jsonl`);
    const r = runCli(['extract', ...task, '--out', out, '--shard', `${i}/3`]);
    t.is(r.status, 0, r.stderr);
    return out;
  });
  const single = path.join(dir, 'single.jsonl');
  t.is(runCli(['extract', ...task, '--out', single]).status, 0);
  const merged = path.join(dir, 'merged.jsonl');
  const c = runCli(['collect', '--in', input, '--out', merged, shards[2], shards[0], shards[1]]);
  t.is(c.status, 0, c.stderr);
  t.is(readFileSync(merged, 'utf8'), readFileSync(single, 'utf8'));
  // A missing shard or a shard given twice is refused.
  const missing = runCli(['collect', '--in', input, '--out', merged, shards[0], shards[1]]);
  t.regex(missing.stderr, /has no output record.*\[ERR_INCOMPLETE\]/);
  const twice = runCli(['collect', '--out', merged, shards[0], shards[0]]);
  t.regex(twice.stderr, /more than one output record.*\[ERR_DUPLICATE\]/);
});

test('mfner/queue without bullmq installed fails with the install command', (t) => {
  const dir = tempDir('mfner-nobull-');
  const hook = path.join(dir, 'hook.mjs');
  writeFileSync(hook, `export async function resolve(s, c, next) { if (s === 'bullmq' || s === 'ioredis') { const e = new Error('Cannot find package ' + s); e.code = 'ERR_MODULE_NOT_FOUND'; throw e; } return next(s, c); }\n`);
  const reg = path.join(dir, 'register.mjs');
  writeFileSync(reg, `import { register } from 'node:module'; register(${JSON.stringify(new URL(`file://${hook}`).href)});\n`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', reg, '-e', "await import('./lib/queue/index.ts')"], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  t.not(r.status, 0);
  t.regex(r.stderr, /bullmq and ioredis, which are not installed; install them with `npm install bullmq ioredis`/);
  // The rest of the CLI works without them.
  const help = spawnSync(process.execPath, ['--import', 'tsx', '--import', reg, path.join(root, 'lib/cli/bin.ts'), 'submit', '--help'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  t.is(help.status, 0, help.stderr);
});
