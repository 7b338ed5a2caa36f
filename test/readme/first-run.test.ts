/**
 * The README's first run, executed as written: every fenced `sh` block preceded by a
 * `<!-- first-run -->` line is split into commands (backslash continuations joined), and each
 * command runs with bash in one temporary folder, in order, with `mfner` on PATH as a wrapper
 * around this checkout's lib/cli/bin.ts (tsx), threads pinned to 1 and the network blocked.
 * Each command must exit 0, and every `# → ` line after it is output it must print (stdout or
 * stderr; `…` matches anything, runs of whitespace compare equal). Beyond what the README
 * shows, the test checks that the fine-tune learned (held-out loss falls) and that nothing
 * tried to reach the network.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sharedFile, sharedPath, reportMissing } from '../helpers/shared.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');

interface Step {
  command: string;
  expect: string[];
}

/** The marked blocks' commands with the output lines the README shows after each. */
function firstRunSteps(markdown: string): Step[] {
  const steps: Step[] = [];
  const blocks = [...markdown.matchAll(/<!-- first-run -->\s*\n```(?:sh|bash|shell)\n([\s\S]*?)\n```/gu)].map((m) => m[1]);
  for (const block of blocks) {
    let pending = '';
    for (const raw of block.split('\n')) {
      const line = raw.trimEnd();
      if (pending) {
        pending += `\n${line}`;
        if (!line.endsWith('\\')) (steps.push({ command: pending, expect: [] }), (pending = ''));
        continue;
      }
      const shown = /^#\s*→\s?(.*)$/u.exec(line.trim());
      if (shown) {
        if (steps.length === 0) throw new Error(`output line before any command: ${line}`);
        steps[steps.length - 1].expect.push(shown[1]);
        continue;
      }
      if (line.trim() === '' || line.trim().startsWith('#')) continue;
      if (line.endsWith('\\')) pending = line;
      else steps.push({ command: line, expect: [] });
    }
    if (pending) throw new Error('a first-run block ends inside a continued command');
  }
  return steps;
}

const squash = (s: string) => s.replace(/\s+/gu, ' ').trim();

/** `…` matches anything; everything else literally; whitespace runs compare equal. */
function shownMatches(shown: string, output: string): boolean {
  const pattern = squash(shown)
    .split('…')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/gu, '\\$&').replace(/ /gu, '\\s+'))
    .join('.*');
  return output.split('\n').some((line) => new RegExp(pattern, 'u').test(squash(line)));
}

test('the first-run blocks parse: commands, continuations and shown output', (t) => {
  const steps = firstRunSteps(
    '<!-- first-run -->\n```sh\n# intro\nmfner a \\\n  --b c\n# → out 1\n# → x … y\n\nmfner d | tail -n 1\n```\n```sh\nmfner not-marked\n```\n',
  );
  t.deepEqual(steps, [
    { command: 'mfner a \\\n  --b c', expect: ['out 1', 'x … y'] },
    { command: 'mfner d | tail -n 1', expect: [] },
  ]);
  t.true(shownMatches('mean …	106 tokens', 'mean\t4.076737\t106 tokens'));
  t.true(shownMatches('done: 24/24 steps, …', 'mfner: done: 24/24 steps, 9.1 s'));
  t.false(shownMatches('done: 24/24 steps', 'done: 23/24 steps'));
  t.false(shownMatches('a.b', 'axb'));
});

const corpora = sharedFile('corpora', 'NCBI-disease');
const maybe = corpora.missing ? test.skip : test;
reportMissing(test, 'README first run', corpora.missing);

maybe('the README first run works as written', (t) => {
  const steps = firstRunSteps(readme);
  t.true(steps.length >= 6, 'the README has a marked first-run block');
  for (const sub of ['make-model', 'corpus sample', 'train', 'extract', 'score']) {
    t.true(steps.some((s) => s.command.includes(`mfner ${sub}`)), `the first run uses mfner ${sub}`);
  }

  const dir = mkdtempSync(path.join(tmpdir(), 'mfner-first-run-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const binDir = path.join(dir, '.bin');
  const work = path.join(dir, 'work');
  mkdirSync(binDir);
  mkdirSync(work);
  const tsx = path.join(root, 'node_modules/tsx/dist/loader.mjs');
  const noNetwork = path.join(root, 'test/pipeline/no-network.mjs');
  const wrapper = path.join(binDir, 'mfner');
  writeFileSync(
    wrapper,
    `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} --import=${JSON.stringify(`file://${tsx}`)} --import=${JSON.stringify(`file://${noNetwork}`)} ${JSON.stringify(path.join(root, 'lib/cli/bin.ts'))} "$@"\n`,
  );
  chmodSync(wrapper, 0o755);
  const marker = path.join(dir, 'network-attempts.txt');
  const env = {
    ...process.env,
    PATH: `${binDir}${path.delimiter}${process.env.PATH ?? ''}`,
    MFNER_THREADS: '1',
    MFNER_CORPORA: sharedPath('corpora'),
    MFNER_NET_MARKER: marker,
  };

  const outputs: string[] = [];
  for (const step of steps) {
    const started = Date.now();
    const r = spawnSync('bash', ['-o', 'pipefail', '-c', step.command], { cwd: work, env, encoding: 'utf8', timeout: 240_000 });
    const output = `${r.stdout ?? ''}${r.stderr ?? ''}`;
    outputs.push(output);
    t.log(`${((Date.now() - started) / 1000).toFixed(1)} s  ${step.command.split('\n')[0]}`);
    if (r.status !== 0) {
      t.fail(`exit ${r.status ?? r.signal}: ${step.command}\n${output.slice(-2000)}`);
      return;
    }
    for (const shown of step.expect) {
      t.true(shownMatches(shown, output), `\`${step.command.split('\n')[0]}\` should print: ${shown}\n--- it printed:\n${output.slice(-2000)}`);
    }
  }

  // The fine-tune learned: the held-out loss after training is well below the random model's.
  const losses = steps
    .map((s, i) => ({ s, out: outputs[i] }))
    .filter(({ s }) => /^mfner loss\b/u.test(s.command))
    .map(({ out }) => Number(/^mean\s+([0-9.]+)/mu.exec(out)?.[1]));
  t.is(losses.length, 2, 'the first run shows the loss before and after training');
  t.true(losses[0] > 11 && losses[1] < losses[0] - 3, `held-out loss ${losses[0]} → ${losses[1]}`);
  // One output record per input record, and nothing reached for the network.
  t.false(existsSync(marker), existsSync(marker) ? readFileSync(marker, 'utf8') : '');
});
