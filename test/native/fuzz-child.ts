/**
 * Child process of the GGUF header fuzz test (gguf-fuzz.test.ts): loads mutants of a model one
 * after another and generates two tokens from each (greedy, then sampled). Protocol on stdout, one
 * line each: `start <i>` before a mutant is written, `end <i> ok` or `end <i> <ERR_CODE>` after it.
 * A process that dies by a signal leaves a `start` without its `end`: the parent knows which
 * mutant killed it. Arguments: model path, temp dir, mode (lean|full|<random count>), seed, then
 * the indices to run.
 */
import { unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { Model, MfnerError } from '../../lib/native/index.ts';
import { readGguf, writeGguf } from './gguf-edit.ts';
import { fuzzMutants } from './gguf-mutants.ts';

const [modelPath, dir, mode, seed, ...indices] = process.argv.slice(2);
const file = readGguf(modelPath);
const mutants = fuzzMutants(file, mode, Number(seed));
const say = (line: string) => writeSync(1, `${line}\n`);

for (const i of indices.map(Number)) {
  const m = mutants[i];
  say(`start ${i}`);
  const p = path.join(dir, `mutant-${process.pid}.gguf`);
  writeGguf(p, file, m.kvs ?? file.kvs, m.tensorInfos ?? file.tensorInfos);
  let outcome = 'ok';
  let model: Model | undefined;
  try {
    model = await Model.load(p);
    const ctx = await model.createContext({ contextSize: 64, threads: 1 });
    await ctx.generate(['Hi'], { maxTokens: 2 });
    await ctx.generate([''], { maxTokens: 2, temperature: 0.8, topK: 40, topP: 0.9, seed: 1 });
    try {
      model.renderChat([{ role: 'user', content: 'Hi' }]);
    } catch (err) {
      if (!(err instanceof MfnerError)) throw err;  // no template, or a broken one: a coded error is fine
    }
  } catch (err) {
    outcome = err instanceof MfnerError ? err.code : `non-MfnerError:${(err as Error)?.name}`;
  } finally {
    await model?.dispose().catch(() => undefined);
    unlinkSync(p);
  }
  say(`end ${i} ${outcome}`);
}
