import { existsSync } from 'node:fs';
import path from 'node:path';
import { loadBinding } from './binding.ts';
import { MfnerError, nativeCall } from './errors.ts';

/**
 * llama.cpp file types `quantizeModel` writes, by llama-quantize's names. The *_k_m mixes keep
 * some tensors (attention V, FFN down, the head) at a higher type, as llama.cpp decides; f32
 * dequantizes. The IQ1/IQ2 types are absent: llama.cpp needs an importance matrix for them.
 */
export const QUANTIZE_TYPES: readonly string[] = [
  'f32', 'f16', 'bf16', 'q8_0', 'q6_k', 'q5_k_m', 'q5_k_s', 'q5_0', 'q5_1', 'q4_k_m', 'q4_k_s', 'q4_0', 'q4_1',
  'iq4_nl', 'iq4_xs', 'q3_k_l', 'q3_k_m', 'q3_k_s', 'q2_k', 'tq2_0', 'tq1_0',
];

export interface QuantizeOptions {
  input: string;
  output: string;
  /** One of QUANTIZE_TYPES (case-insensitive). */
  type: string;
  threads?: number;
  /** Every matrix in `type`, no llama.cpp mix. */
  pure?: boolean;
}

/** Converts a GGUF model with llama.cpp's own quantizer; the output appears complete or not at all. */
export async function quantizeModel(o: QuantizeOptions): Promise<{ type: string; inputBytes: number; outputBytes: number }> {
  if (!QUANTIZE_TYPES.includes(o.type.toLowerCase())) throw new MfnerError('ERR_INVALID_ARG', `type must be one of ${QUANTIZE_TYPES.join(', ')}`);
  if (!existsSync(o.input)) throw new MfnerError('ERR_MODEL_NOT_FOUND', `model file not found: ${o.input}`);
  const output = path.resolve(o.output);
  if (!existsSync(path.dirname(output))) throw new MfnerError('ERR_INVALID_ARG', `the output's directory does not exist: ${path.dirname(output)}`);
  return nativeCall(() => loadBinding().quantizeModel({ input: path.resolve(o.input), output, type: o.type, threads: o.threads ?? 1, pure: o.pure ?? false }));
}
