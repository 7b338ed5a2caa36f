/**
 * One LoRA step on a model file, in its own process (base-types.test.ts runs it per ggml type and
 * checks how the process ended): prints { loss } or { code, message } as one JSON line.
 *   node --import tsx test/train/type-child.ts <model.gguf> <training|default|forward>
 * `training` loads with LORA_TRAINING_LOAD (what mfner train does); `default` with the inference
 * defaults (CPU_REPACK on), as a user's own Model.load would; `forward` as `default`, with a
 * forwardOnly trainer and a loss-only step (what mfner loss does). Each mode first generates three
 * tokens after a 100-token prompt (wide enough for patch 0014's prefill GEMM): `generated`.
 */
import { Model } from '../../lib/native/index.ts';
import { LORA_TRAINING_LOAD } from '../../lib/train/index.ts';
import { trainerConstructor } from '../../lib/train/native.ts';

const [file, load] = process.argv.slice(2);
try {
  const model = await Model.load(file, load === 'training' ? LORA_TRAINING_LOAD : {});
  const ctx = await model.createContext({ contextSize: 128, threads: 1 });
  const prompt = Int32Array.from({ length: 100 }, (_, i) => 5 + ((i * 17) % 200));
  const generated = (await ctx.generate([prompt], { maxTokens: 3, ignoreEos: true })).sequences[0].tokens.length;
  await ctx.dispose();
  const Trainer = trainerConstructor();
  const forwardOnly = load === 'forward';
  const trainer = new Trainer(model.native, { method: 'lora', contextSize: 32, threads: 1, rank: 2, alpha: 4, bInitStd: 0.02, modelPath: file, forwardOnly });
  const n = 24;
  const tokens = Int32Array.from({ length: n }, (_, i) => 5 + ((i * 31) % 200));
  const labels = Int32Array.from({ length: n }, (_, i) => (i + 1 < n ? tokens[i + 1] : -1));
  const r = await trainer.step({ tokens, positions: Int32Array.from({ length: n }, (_, i) => i), sequences: new Int32Array(n), labels, backward: !forwardOnly, apply: !forwardOnly });
  trainer.dispose();
  await model.dispose();
  process.stdout.write(`${JSON.stringify({ loss: r.loss, generated })}\n`);
} catch (err) {
  const e = err as { code?: string; message: string };
  process.stdout.write(`${JSON.stringify({ code: e.code ?? null, message: e.message })}\n`);
}
