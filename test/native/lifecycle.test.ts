/**
 * Issue 15, items 6 and 8: generation options are checked (ERR_INVALID_ARG naming the option),
 * dispose() works as classic-level's close (what was called before it finishes, what comes after
 * is refused, then the model is freed), and a path that is not a regular file is refused before
 * it is opened (a FIFO would block forever).
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Model, MfnerError, madeModelPath, type GenerateOptions } from '../../lib/native/index.ts';
import { THREADS, tempDir } from './helpers.ts';

const load = async () => Model.load(await madeModelPath('qwen2', 'tiny'));

test('bad generation options reject with ERR_INVALID_ARG naming the option', async (t) => {
  const model = await load();
  const ctx = await model.createContext({ contextSize: 128, threads: THREADS });
  const bad: [keyof GenerateOptions, unknown][] = [
    ['temperature', -1],
    ['temperature', NaN],
    ['temperature', Infinity],
    ['temperature', '0.5'],
    ['topP', 5],
    ['topP', 0],
    ['topP', -0.5],
    ['topP', NaN],
    ['topK', -3],
    ['topK', 2.5],
    ['topK', NaN],
    ['maxTokens', 0],
    ['maxTokens', -5],
    ['maxTokens', 1.5],
    ['maxTokens', NaN],
    ['seed', -1],
    ['seed', 2 ** 32],
    ['seed', 0.5],
    ['ignoreEos', 'yes'],
    ['logprobs', 1],
    ['addSpecial', 'no'],
    ['jumpForward', 'sometimes'],
    ['signal', {}],
  ];
  for (const [option, value] of bad) {
    const err = (await t.throwsAsync(ctx.generate(['Hi'], { [option]: value } as GenerateOptions), { instanceOf: MfnerError })) as MfnerError;
    t.is(err.code, 'ERR_INVALID_ARG', `${option} = ${String(value)}`);
    t.true(err.message.includes(option), err.message);
  }
  // The native layer refuses the sampling values on its own too (it is reachable without the TS checks).
  const native = (ctx as unknown as { native: { generate: (p: Int32Array[], o: object) => Promise<unknown> } }).native;
  for (const o of [{ temperature: NaN }, { temperature: -1 }, { topP: 5 }, { topP: 0 }, { topK: -3 }]) {
    t.throws(() => native.generate([new Int32Array([1])], { maxTokens: 1, ...o }), { code: 'ERR_INVALID_ARG' } as never, JSON.stringify(o));
  }
  // The bounds themselves are fine, and the context still works.
  const r = await ctx.generate(['Hi'], { maxTokens: 2, temperature: 0.7, topP: 1, topK: 0, seed: 2 ** 32 - 1, ignoreEos: true });
  t.is(r.sequences[0].tokens.length, 2);
  const tiny = await ctx.generate(['Hi'], { maxTokens: 2, temperature: 1e-3, topP: 1e-9, topK: 1, ignoreEos: true });
  t.is(tiny.sequences[0].tokens.length, 2);
  await model.dispose();
});

test('model.dispose() during a generation lets it finish, then refuses new calls and frees', async (t) => {
  const model = await load();
  const ctx = await model.createContext({ contextSize: 1024, sequences: 2, threads: THREADS });
  const t0 = Date.now();
  const expected = (await ctx.generate(['Hi', 'Once'], { maxTokens: 300, ignoreEos: true })).sequences.map((s) => [...s.tokens]);
  const alone = Date.now() - t0;
  const running = ctx.generate(['Hi', 'Once'], { maxTokens: 300, ignoreEos: true });
  let finishedAt = 0;
  void running.then(() => (finishedAt = Date.now()), () => undefined);
  const queued = ctx.generate(['Once'], { maxTokens: 8, ignoreEos: true });
  await new Promise((resolve) => setTimeout(resolve, Math.min(30, alone / 4)));  // the first call is on a worker thread now
  const disposeCalledAt = Date.now();
  const disposed = model.dispose();
  t.is(model.dispose(), disposed, 'a second dispose is the same promise');
  t.true(model.isDisposed);
  // New calls are refused at once, on the model and on its context.
  await t.throwsAsync(ctx.generate(['Hi'], { maxTokens: 2 }), { code: 'ERR_DISPOSED' } as never);
  await t.throwsAsync(ctx.setAdapters([]), { code: 'ERR_DISPOSED' } as never);
  await t.throwsAsync(model.createContext({ threads: THREADS }), { code: 'ERR_DISPOSED' } as never);
  t.throws(() => model.tokenize('Hi'), { code: 'ERR_DISPOSED' } as never);
  t.throws(() => model.renderChat([{ role: 'user', content: 'Hi' }]), { code: 'ERR_DISPOSED' } as never);
  // What was called before dispose finishes, with the same result as before.
  const r = await running;
  t.deepEqual(r.sequences.map((s) => [...s.tokens]), expected);
  t.true(finishedAt >= disposeCalledAt, `the generation ran on after dispose() (alone it took ${alone} ms)`);
  t.is(typeof r.sequences[0].text, 'string');
  t.is((await queued).sequences[0].tokens.length, 8);
  await disposed;
  t.true(ctx.info.disposed);
  await t.throwsAsync(ctx.generate(['Hi'], { maxTokens: 2 }), { code: 'ERR_DISPOSED' } as never);
  await t.notThrowsAsync(model.dispose());
  await t.notThrowsAsync(ctx.dispose());
});

test('trying to crash dispose: twice at once, mid-generate on every context, generate after, abort during', async (t) => {
  for (let round = 0; round < 3; round++) {
    const model = await load();
    const contexts = await Promise.all([0, 1].map(() => model.createContext({ contextSize: 256, threads: THREADS })));
    const controller = new AbortController();
    const calls = contexts.flatMap((c) => [c.generate(['Hi'], { maxTokens: 32, ignoreEos: true }), c.generate([''], { maxTokens: 16, temperature: 1, seed: round, signal: controller.signal })]);
    if (round === 1) controller.abort();
    const disposals = [model.dispose(), contexts[0].dispose(), model.dispose(), contexts[1].dispose()];
    const late = contexts.map((c) => c.generate(['Hi'], { maxTokens: 2 }));
    const settled = await Promise.allSettled([...calls, ...late]);
    await Promise.all(disposals);
    // Calls made before dispose finish (or report the abort asked for); later ones are refused.
    for (const [i, s] of settled.entries()) {
      const isLate = i >= calls.length;
      if (isLate) t.like(s, { status: 'rejected', reason: { code: 'ERR_DISPOSED' } });
      else if (s.status === 'rejected') t.is((s.reason as MfnerError).code, 'ERR_ABORTED', `round ${round} call ${i}`);
      else t.true(s.value.sequences[0].tokens.length > 0);
    }
    t.true(contexts.every((c) => c.info.disposed));
    await t.throwsAsync(contexts[0].generate(['x']), { code: 'ERR_DISPOSED' } as never);
  }
});

async function refusedQuickly(t: import('ava').ExecutionContext, p: Promise<unknown>, code: string, what: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: still waiting after 10 s (blocked on open?)`)), 10_000);
  });
  try {
    const err = (await t.throwsAsync(Promise.race([p, timeout]), undefined, what)) as MfnerError;
    t.is(err.code, code, `${what}: ${err.message}`);
  } finally {
    clearTimeout(timer);
  }
}

test('a FIFO, a directory, a device or a socket given as a model is refused before it is opened', async (t) => {
  const dir = tempDir();
  const fifo = path.join(dir, 'model.gguf');
  const made = spawnSync('mkfifo', [fifo]);
  t.is(made.status, 0, 'mkfifo');
  await refusedQuickly(t, Model.load(fifo), 'ERR_MODEL_LOAD', 'FIFO');
  await refusedQuickly(t, Model.load(fifo, { vocabOnly: true }), 'ERR_MODEL_LOAD', 'FIFO, vocabOnly');
  const sub = path.join(dir, 'dir.gguf');
  mkdirSync(sub);
  await refusedQuickly(t, Model.load(sub), 'ERR_MODEL_LOAD', 'directory');
  await refusedQuickly(t, Model.load('/dev/zero'), 'ERR_MODEL_LOAD', '/dev/zero');
  const socketPath = path.join(dir, 'sock.gguf');
  const server = net.createServer().listen(socketPath);
  await new Promise((resolve) => server.once('listening', resolve));
  await refusedQuickly(t, Model.load(socketPath), 'ERR_MODEL_LOAD', 'socket');
  server.close();
  // An adapter path is read on the JS thread: a FIFO there would block the event loop.
  const model = await load();
  const ctx = await model.createContext({ contextSize: 64, threads: THREADS });
  await refusedQuickly(t, ctx.setAdapters([{ path: fifo }]), 'ERR_ADAPTER_LOAD', 'adapter FIFO');
  await refusedQuickly(t, ctx.setAdapters([{ path: sub }]), 'ERR_ADAPTER_LOAD', 'adapter directory');
  t.is((await ctx.generate(['Hi'], { maxTokens: 2, ignoreEos: true })).sequences[0].tokens.length, 2);
  await model.dispose();
});
