import test from 'ava';
import { spawnSync } from 'node:child_process';
import { FORMAT_NAMES } from '../../lib/formats/index.ts';
import { TEXT, TYPES } from './genia-example.ts';

function mfner(args: string[], stdin = ''): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, ['--import=tsx', 'lib/cli/bin.ts', 'formats', ...args], {
    input: stdin,
    encoding: 'utf8',
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('formats list prints every format with its capabilities', (t) => {
  const r = mfner(['list']);
  t.is(r.code, 0, r.err);
  const list = JSON.parse(r.out) as Array<{ name: string; discontinuous: boolean }>;
  t.deepEqual(list.map((f) => f.name), [...FORMAT_NAMES]);
  t.false(list.find((f) => f.name === 'multi_bio')!.discontinuous);
  t.true(list.find((f) => f.name === 'multi_brat')!.discontinuous);
});

test('render and parse speak code points on the process boundary', (t) => {
  // 𝛼 is two JS units, so JS indices would be one more than these code-point offsets.
  const text = '𝛼-actin binds IL-2';
  const doc = { text, entities: [{ type: 'protein', spans: [[14, 18]] }, { type: 'protein', spans: [[0, 7]] }] };
  const rendered = mfner(['render', '--format', 'multi_brat', '--types', 'protein,DNA'], JSON.stringify(doc));
  t.is(rendered.code, 0, rendered.err);
  const { answer } = JSON.parse(rendered.out) as { answer: string };
  t.is(answer, 'Answer:\nT1 protein 0 7 𝛼-actin\nT2 protein 14 18 IL-2');

  const parsed = mfner(['parse', '--format', 'multi_brat', '--types', 'protein,DNA', '--text', text], answer);
  t.is(parsed.code, 0, parsed.err);
  t.deepEqual(JSON.parse(parsed.out), {
    entities: [
      { type: 'protein', spans: [[0, 7]], text: '𝛼-actin' },
      { type: 'protein', spans: [[14, 18]], text: 'IL-2' },
    ],
    problems: [],
  });
});

test('conv_term parse reads a JSON list of answers', (t) => {
  const answers = ['Answer: []', 'Answer: ["BCL6"]'];
  const r = mfner(['parse', '--format', 'conv_term', '--types', TYPES.join(','), '--text', TEXT], JSON.stringify(answers));
  t.is(r.code, 0, r.err);
  const out = JSON.parse(r.out) as { entities: unknown[]; problems: Array<{ kind: string }> };
  t.deepEqual(out.entities, [{ type: 'protein', spans: [[27, 31]], text: 'BCL6' }]);
  t.deepEqual(out.problems.map((p) => p.kind), ['turn-count']);
});

test('render refuses what the format cannot express, without echoing the text', (t) => {
  const doc = { text: 'left and right ventricle', entities: [{ type: 'Anatomy', spans: [[0, 4], [15, 24]] }] };
  const r = mfner(['render', '--format', 'multi_span', '--types', 'Anatomy'], JSON.stringify(doc));
  t.is(r.code, 1);
  t.regex(r.err, /discontinuous/);
  t.false(r.err.includes('ventricle'));
  const bad = mfner(['render', '--format', 'multi_term', '--types', 'Anatomy'], JSON.stringify({ ...doc, entities: [{ type: 'Anatomy', spans: [[0, 99]] }] }));
  t.is(bad.code, 1);
  t.false(bad.err.includes('ventricle'));
  const unknown = mfner(['list', '--nope']);
  t.not(unknown.code, 0);
  const wrong = mfner(['render', '--format', 'json', '--types', 'a'], '{}');
  t.is(wrong.code, 2, 'an unknown format is a usage error');
  t.regex(wrong.err, /--format.*Allowed choices are conv_term/);
});
