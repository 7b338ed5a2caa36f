/**
 * Every bad or missing argument exits 2 with one line on stderr naming the option, for every
 * command, before anything is loaded (the model and input paths below do not exist: a command
 * that got as far as loading them would fail with exit 1 instead). In-process through main().
 * A command added to the CLI without a case here fails the first test.
 */
import test from 'ava';
import { buildProgram, leafCommands, main } from '../../lib/cli/main.ts';

const M = '/nonexistent/model.gguf';
const IN = '/nonexistent/in.jsonl';
const OUT = '/nonexistent/out.jsonl';
const Q = 'redis://127.0.0.1:9';

/** [arguments, what the message must name] per leaf command. */
const CASES: Record<string, Array<[string[], string]>> = {
  'corpus stats': [
    [['--genia-coordination', 'both'], '--genia-coordination'],
    [['--dataset', 'NoSuchCorpus'], '--dataset'],
  ],
  'corpus sample': [
    [['--dataset', 'GENIA', '--config', 'all', '--split', 'test', '--draw', '0'], '--draw'],
    [['--dataset', 'GENIA', '--config', 'all', '--split', 'test', '--cap', '-1'], '--cap'],
    [['--dataset', 'GENIA', '--config', 'all', '--split', 'holdout'], '--split'],
    [['--dataset', 'GENIA', '--config', 'best9', '--split', 'test'], '--config'],
    [['--dataset', 'NoSuchCorpus', '--config', 'all', '--split', 'test'], '--dataset'],
  ],
  'formats list': [[['--nope'], '--nope']],
  'formats render': [[['--format', 'json', '--types', 'a'], '--format']],
  'formats parse': [
    [['--format', 'json', '--types', 'a', '--text', 'x'], '--format'],
    [['--format', 'multi_term', '--types', 'a'], '--text'],
  ],
  score: [[['--gold', IN, '--pred', IN, '--mode', 'fuzzy'], '--mode']],
  report: [
    [['/nonexistent/results', '--bootstrap-iterations', '0'], '--bootstrap-iterations'],
    [['/nonexistent/results', '--seed', '-1'], '--seed'],
  ],
  'model info': [
    [[], 'gguf'],
    [[M, '--bogus'], '--bogus'],
  ],
  generate: [
    [['--model', M, '--max-tokens', '0'], '--max-tokens'],
    [['--model', M, '--max-tokens', '-5'], '--max-tokens'],
    [['--model', M, '--max-tokens', '2.5'], '--max-tokens'],
    [['--model', M, '--max-tokens', 'many'], '--max-tokens'],
    [['--model', M, '--temperature', '-1'], '--temperature'],
    [['--model', M, '--temperature', 'hot'], '--temperature'],
    [['--model', M, '--seed', '-1'], '--seed'],
    [['--model', M, '--seed', '1.5'], '--seed'],
    [['--model', M, '--threads', '0'], '--threads'],
    [['--model', M, '--threads', '-2'], '--threads'],
    [['--model', M, '--threads', ''], '--threads'],
    [['--prompt', 'x'], '--model'],
  ],
  tokenize: [[['--model', M], '--text']],
  quantize: [
    [['--model', M, '--out', OUT, '--type', 'q9_9'], '--type'],
    [['--model', M, '--out', OUT, '--threads', '0'], '--threads'],
  ],
  'make-model': [
    [['--out', OUT, '--seed', '0'], '--seed'],
    [['--out', OUT, '--arch', 'gpt2'], '--arch'],
    [['--out', OUT, '--shape', 'huge'], '--shape'],
    [['--out', OUT, '--weight-type', 'q8'], '--weight-type'],
    [['--out', OUT, '--corpus', 'NoSuchCorpus'], '--corpus'],
    [['--out', OUT, '--corpus', 'NCBI-disease', '--vocab-size', '0'], '--vocab-size'],
  ],
  extract: [
    ...(
      [
        [['--batch', '0'], '--batch'],
        [['--max-tokens', '-5'], '--max-tokens'],
        [['--context', '0'], '--context'],
        [['--threads', '0'], '--threads'],
        [['--shard', '5/2'], '--shard'],
        [['--shard', 'half'], '--shard'],
        [['--constraint', 'strict'], '--constraint'],
        [['--dataset', 'NoSuchCorpus'], '--dataset'],
        [['--types', 'a,a'], '--types'],
      ] as Array<[string[], string]>
    ).map(([a, o]): [string[], string] => [['--model', M, '--format', 'multi_term', '--types', 'a', '--in', IN, '--out', OUT, ...a], o]),
    [['--model', M, '--format', 'multi_term', '--in', IN, '--out', OUT], '--types'],
    [['--model', M, '--format', 'bogus', '--types', 'a', '--in', IN, '--out', OUT], '--format'],
  ],
  eval: [
    [['--model', M, '--datasets', 'GENIA', '--out', OUT, '--draws', '0'], '--draws'],
    [['--model', M, '--datasets', 'GENIA', '--out', OUT, '--test-cap', '0'], '--test-cap'],
    [['--model', M, '--datasets', 'GENIA', '--out', OUT, '--threads', '0'], '--threads'],
    [['--model', M, '--datasets', 'GENIA', '--out', OUT, '--config', 'best9'], '--config'],
    [['--model', M, '--datasets', 'NoSuchCorpus', '--out', OUT], '--datasets'],
  ],
  reproduce: [
    [['--out', OUT, '--threads', '0'], '--threads'],
    [['--out', OUT, '--scale', 'huge'], '--scale'],
    [['--out', OUT, '--datasets', 'NoSuchCorpus'], '--datasets'],
    [['--out', OUT, '--configurations', 'only:multi_nothing'], '--configurations'],
  ],
  bench: [
    [['--model', M, '--batch', '0'], '--batch'],
    [['--model', M, '--max-tokens', '-1'], '--max-tokens'],
    [['--model', M, '--include', 'everything'], '--include'],
    [['--model', M, '--formats', 'bogus'], '--formats'],
  ],
  'bench formats': [
    [['--tokens', '0'], '--tokens'],
    [['--reps', '0'], '--reps'],
    [['--temperature', '-1'], '--temperature'],
    [['--gbnf-steps', '0'], '--gbnf-steps'],
    [['--threads', '0'], '--threads'],
    [['--shape', 'huge'], '--shape'],
    [['--formats', 'bogus'], '--formats'],
  ],
  train: [
    ...(
      [
        [['--epochs', '0'], '--epochs'],
        [['--lr', '0'], '--lr'],
        [['--warmup', '1'], '--warmup'],
        [['--weight-decay', '-1'], '--weight-decay'],
        [['--seed', '-1'], '--seed'],
        [['--threads', '0'], '--threads'],
        [['--draw', '0'], '--draw'],
        [['--config', 'best9'], '--config'],
        [['--data', IN], '--datasets'],
      ] as Array<[string[], string]>
    ).map(([a, o]): [string[], string] => [['--model', M, '--datasets', 'NCBI-disease', '--out', OUT, ...a], o]),
    [['--model', M, '--datasets', 'NoSuchCorpus', '--out', OUT], '--datasets'],
  ],
  loss: [
    [['--model', M, '--in', IN, '--context', '0'], '--context'],
    [['--model', M, '--in', IN, '--threads', '0'], '--threads'],
  ],
  submit: [
    [['--queue', Q, '--in', IN, '--model', M, '--format', 'multi_term', '--types', 'a', '--max-tokens', '0'], '--max-tokens'],
    [['--queue', Q, '--in', IN, '--model', M, '--format', 'multi_term', '--types', 'a', '--batch-records', '0'], '--batch-records'],
    [['--queue', Q, '--in', IN, '--model', M, '--format', 'multi_term', '--types', 'a', '--constraint', 'strict'], '--constraint'],
    [['--queue', Q, '--in', IN, '--model', M, '--format', 'multi_term'], '--types'],
  ],
  worker: [
    [['--queue', Q, '--model', M, '--results', OUT, '--concurrency', '0'], '--concurrency'],
    [['--queue', Q, '--model', M, '--results', OUT, '--threads', '0'], '--threads'],
    [['--queue', Q, '--model', M, '--results', OUT, '--lock-ms', '-1'], '--lock-ms'],
  ],
  collect: [
    [[IN, '--queue', Q, '--out', OUT], '--queue'],
    [['--out', OUT], '--queue'],
  ],
  'queue status': [[[], '--queue']],
  'queue retry': [[[], '--queue']],
  'queue clean': [[['--all'], '--queue']],
};

/** main() in this process, stdout and stderr captured. */
async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = process.stdout.write;
  const err = process.stderr.write;
  process.stdout.write = ((chunk: string | Uint8Array) => ((stdout += String(chunk)), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => ((stderr += String(chunk)), true)) as typeof process.stderr.write;
  try {
    const code = await main(['node', 'mfner', ...args]);
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

test('every command has exit-code cases', (t) => {
  t.deepEqual(Object.keys(CASES).sort(), leafCommands(buildProgram()).sort());
});

for (const [command, cases] of Object.entries(CASES)) {
  test.serial(`${command}: bad arguments exit 2 with one line naming the option`, async (t) => {
    for (const [args, option] of cases) {
      const argv = [...command.split(' '), ...args];
      const started = Date.now();
      const r = await run(argv);
      const what = `mfner ${argv.join(' ')}: ${JSON.stringify(r.stderr)}`;
      t.is(r.code, 2, what);
      const lines = r.stderr.trimEnd().split('\n');
      t.is(lines.length, 1, what);
      t.true(lines[0].startsWith('mfner: '), what);
      t.true(lines[0].includes(option), `does not name ${option}: ${what}`);
      t.is(r.stdout, '', what);
      t.true(Date.now() - started < 5000, `slow (did it load something?): ${what}`);
    }
  });
}

test.serial('help and version exit 0; a command group without its subcommand exits 2', async (t) => {
  t.is((await run(['--version'])).code, 0);
  t.is((await run(['extract', '--help'])).code, 0);
  t.is((await run(['help', 'extract'])).code, 0);
  t.is((await run(['corpus'])).code, 2);
  t.is((await run([])).code, 2);
  const unknown = await run(['extrct']);
  t.is(unknown.code, 2);
  t.regex(unknown.stderr, /^mfner: unknown command 'extrct'/);
});
