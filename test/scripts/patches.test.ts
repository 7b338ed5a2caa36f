import test from 'ava';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
// @ts-expect-error plain ESM script without types
import { applySeries, readSeries, seriesHash } from '../../scripts/lib/patches.mjs';
import { tempDir } from '../native/helpers.ts';

function fixture() {
  const dir = tempDir('mfner-patch-');
  const tree = path.join(dir, 'tree');
  const patches = path.join(dir, 'patches');
  mkdirSync(path.join(tree, 'src'), { recursive: true });
  mkdirSync(patches);
  writeFileSync(path.join(tree, 'src', 'a.c'), 'int a(void) {\n    return 1;\n}\n');
  writeFileSync(
    path.join(patches, '0001-return-two.diff'),
    ['--- a/src/a.c', '+++ b/src/a.c', '@@ -1,3 +1,3 @@', ' int a(void) {', '-    return 1;', '+    return 2;', ' }', ''].join('\n'),
  );
  return { dir, tree, patches };
}

test('the series applies in order, ignoring comments, even inside another git repository', (t) => {
  const { tree, patches } = fixture();
  writeFileSync(path.join(patches, 'series'), '# comment\n\n0001-return-two.diff  # why\n');
  t.deepEqual(readSeries(patches), ['0001-return-two.diff']);
  t.deepEqual(applySeries(patches, tree), ['0001-return-two.diff']);
  t.is(readFileSync(path.join(tree, 'src', 'a.c'), 'utf8'), 'int a(void) {\n    return 2;\n}\n');
});

test('a patch that does not apply is an error naming it, and leaves the file alone', (t) => {
  const { tree, patches } = fixture();
  writeFileSync(path.join(patches, 'series'), '0001-return-two.diff\n');
  writeFileSync(path.join(tree, 'src', 'a.c'), 'int a(void) {\n    return 3;\n}\n');
  const err = t.throws(() => applySeries(patches, tree));
  t.regex(err!.message, /patch 0001-return-two\.diff does not apply/);
  t.is(readFileSync(path.join(tree, 'src', 'a.c'), 'utf8'), 'int a(void) {\n    return 3;\n}\n');
});

test('a listed patch that is missing is an error; an empty series is fine', (t) => {
  const { tree, patches } = fixture();
  writeFileSync(path.join(patches, 'series'), 'missing.diff\n');
  t.throws(() => applySeries(patches, tree), { message: /missing\.diff is listed in the series/ });
  writeFileSync(path.join(patches, 'series'), '# nothing yet\n');
  t.deepEqual(applySeries(patches, tree), []);
});

test('the series hash changes with a patch\'s bytes (the build cache key)', (t) => {
  const { patches } = fixture();
  writeFileSync(path.join(patches, 'series'), '0001-return-two.diff\n');
  const before = seriesHash(patches);
  t.is(seriesHash(patches), before);
  writeFileSync(path.join(patches, '0001-return-two.diff'), readFileSync(path.join(patches, '0001-return-two.diff'), 'utf8').replace('2;', '4;'));
  t.not(seriesHash(patches), before);
});

test('the project\'s own series applies to the pinned llama.cpp (the stamp says so)', (t) => {
  const root = path.resolve(import.meta.dirname, '../..');
  const stampFile = path.join(root, 'deps', 'llama.cpp', '.mfner-source.json');
  let stamp: { commit: string; patchHash: string; patches: string[] };
  try {
    stamp = JSON.parse(readFileSync(stampFile, 'utf8'));
  } catch {
    t.fail(`no source stamp at ${stampFile}: npm install did not extract llama.cpp`);
    return;
  }
  t.is(stamp.commit, JSON.parse(readFileSync(path.join(root, 'native', 'llama-pin.json'), 'utf8')).commit);
  t.is(stamp.patchHash, seriesHash(path.join(root, 'native', 'patches')));
  t.deepEqual(stamp.patches, readSeries(path.join(root, 'native', 'patches')));
});
