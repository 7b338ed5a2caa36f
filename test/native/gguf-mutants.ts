/**
 * Corrupt variants of a GGUF model, one change each: every key/value pair of the header gets
 * boundary values (0, 1, huge, negative, NaN, infinities), a wrong type, an array where a scalar
 * was (and the reverse), or is removed or doubled; the tokenizer arrays are cut, emptied, given
 * duplicates and bad element types; a few tensor infos get bad shapes, types and offsets.
 * `lean` keeps a deterministic subset that still touches every key (CI); the full list is a few
 * times longer; `randomMutants` adds seeded random ones.
 */
import { T, type GgufFile, type GgufKv, type GgufType, type GgufValue } from './gguf-edit.ts';

export interface Mutant {
  label: string;
  kvs?: GgufKv[];
  tensorInfos?: Buffer;
  /** Part of the lean (CI) subset. */
  lean: boolean;
}

type Item = number | bigint | boolean | string;
const INT_TYPES = new Set<GgufType>([T.u8, T.i8, T.u16, T.i16, T.u32, T.i32, T.u64, T.i64]);
const FLOAT_TYPES = new Set<GgufType>([T.f32, T.f64]);

function replaced(file: GgufFile, index: number, kv: GgufKv | null): GgufKv[] {
  const out = file.kvs.slice();
  if (kv) out[index] = kv;
  else out.splice(index, 1);
  return out;
}

function arrayValue(v: GgufValue): { elementType: GgufType; items: Item[] } | null {
  return typeof v === 'object' && v !== null ? v : null;
}

// Added keys in the lean subset: those that aborted the pinned llama.cpp before mfner checked them.
const LEAN_ADDED = new Set(['attention.key_length=0', 'expert_count=1', 'expert_used_count=2', 'expert_group_count=1', 'nextn_predict_layers=3']);

/** Every mutant of `file`, in a fixed order. */
export function ggufMutants(file: GgufFile): Mutant[] {
  const out: Mutant[] = [];
  const arch = String(file.kvs.find((kv) => kv.key === 'general.architecture')?.value ?? 'llama');
  const nLayer = Number(file.kvs.find((kv) => kv.key.endsWith('.block_count'))?.value ?? 2);
  for (const [i, kv] of file.kvs.entries()) {
    let leanLeft = 0;
    const add = (label: string, next: GgufKv | null, lean = leanLeft-- > 0) => out.push({ label: `${kv.key}: ${label}`, kvs: replaced(file, i, next), lean });
    const set = (label: string, type: GgufType, value: GgufValue, lean?: boolean) => add(label, { key: kv.key, type, value }, lean);
    const arr = arrayValue(kv.value);
    if (INT_TYPES.has(kv.type)) {
      const v = Number(kv.value);
      // The lean subset: the values that found aborts (0, huge, past LLAMA_MAX_LAYERS).
      leanLeft = 3;
      for (const x of [0, 0xffffffff, 513, v + 1, 1, -1]) set(`${x}`, kv.type, x);
      leanLeft = 0;
      for (const x of [2, 3, 7, v - 1, v * 2, v * 3, 512, 4096, 65536, 0x7fffffff, 0x80000000]) set(`${x}`, kv.type, x);
      set('u64 max', T.u64, 0xffffffffffffffffn);
      set('i64 -1', T.i64, -1n);
      set('as i32', T.i32, v);
      set('as u64', T.u64, BigInt(v));
      set('as f32', T.f32, v, true);
      set('as f32 NaN', T.f32, NaN);
      set('as string', T.str, String(v));
      set('as bool', T.bool, true);
      set('as u32[1]', T.arr, { elementType: T.u32, items: [v] });
      set(`as u32[${nLayer}]`, T.arr, { elementType: T.u32, items: Array.from({ length: nLayer }, () => v) });
      set(`as u32[${nLayer}] with a 0`, T.arr, { elementType: T.u32, items: Array.from({ length: nLayer }, (_, j) => (j === nLayer - 1 ? 0 : v)) }, true);
      set(`as u32[${nLayer}] with a huge one`, T.arr, { elementType: T.u32, items: Array.from({ length: nLayer }, (_, j) => (j === 0 ? 0xffffffff : v)) });
      set(`as i32[${nLayer}] with -1`, T.arr, { elementType: T.i32, items: Array.from({ length: nLayer }, (_, j) => (j === 0 ? -1 : v)) });
      set('as u32[0]', T.arr, { elementType: T.u32, items: [] });
      set('as f32[1]', T.arr, { elementType: T.f32, items: [v] });
      set('as string[1]', T.arr, { elementType: T.str, items: [String(v)] });
    } else if (FLOAT_TYPES.has(kv.type)) {
      const v = Number(kv.value);
      leanLeft = 3;
      for (const x of [NaN, -1, -Infinity, 0, Infinity, 1e30, -v, 1e-30]) set(`${x}`, kv.type, x);
      leanLeft = 0;
      for (const x of [-0, 1, 1e-45, 3.4e38, v * 1e6, v / 1e6]) set(`${x}`, kv.type, x);
      set('as f64', T.f64, v);
      set('as f64 NaN', T.f64, NaN);
      set('as u32', T.u32, 1, true);
      set('as string', T.str, String(v));
      set('as f32[1]', T.arr, { elementType: T.f32, items: [v] });
      set(`as f32[${nLayer}] with NaN`, T.arr, { elementType: T.f32, items: Array.from({ length: nLayer }, (_, j) => (j === 0 ? NaN : v)) }, true);
      set(`as f32[${nLayer}] with -1`, T.arr, { elementType: T.f32, items: Array.from({ length: nLayer }, (_, j) => (j === 0 ? -1 : v)) });
    } else if (kv.type === T.str) {
      const v = String(kv.value);
      set('empty', T.str, '', true);
      set('unknown', T.str, 'mfner-unknown');
      set('1 MB', T.str, 'x'.repeat(1 << 20));
      set('with a NUL', T.str, `${v.slice(0, 3)}\0${v.slice(3)}`);
      set('as u32', T.u32, 0, true);
      set('as string[1]', T.arr, { elementType: T.str, items: [v] });
    } else if (kv.type === T.bool) {
      set('flipped', T.bool, !kv.value, true);
      set('as u8 2', T.u8, 2, true);
      set('as string', T.str, 'true');
    } else if (arr) {
      const n = arr.items.length;
      const et = arr.elementType;
      const items = (f: (a: Item[]) => Item[]) => ({ elementType: et, items: f(arr.items.slice()) });
      set(`cut to ${n - 1}`, T.arr, items((a) => a.slice(0, n - 1)), true);
      set('cut to half', T.arr, items((a) => a.slice(0, n >> 1)));
      set('cut to 1', T.arr, items((a) => a.slice(0, 1)));
      set('empty', T.arr, { elementType: et, items: [] });
      set(`one more (${n + 1})`, T.arr, items((a) => [...a, a[a.length - 1] ?? 0]));
      set('as a scalar', et === T.str ? T.str : T.u32, et === T.str ? String(arr.items[0] ?? '') : 0, true);
      if (et === T.str) {
        set('item 1 duplicates item 0', T.arr, items((a) => ((a[1] = a[0]), a)), true);
        set('last item duplicates item 0', T.arr, items((a) => ((a[n - 1] = a[0]), a)));
        set('item 0 empty', T.arr, items((a) => ((a[0] = ''), a)));
        set('item 0 empty and item 1 its placeholder', T.arr, items((a) => ((a[0] = ''), (a[1] = '[EMPTY_0]'), a)));
        set('item 0 of 64 KiB', T.arr, items((a) => ((a[0] = 'a'.repeat(65536)), a)));
        set('items without a space (bad merges)', T.arr, items((a) => a.map((x, j) => (j < 16 ? String(x).replace(' ', '') : x))));
        set('as i32 array', T.arr, { elementType: T.i32, items: arr.items.map(() => 0) });
      } else {
        set('item 0 = 99', T.arr, items((a) => ((a[0] = 99), a)));
        set('item 0 = -1', T.arr, items((a) => ((a[0] = -1), a)), true);
        set('all 3 (control)', T.arr, items((a) => a.map(() => 3)));
        set('all 6 (byte)', T.arr, items((a) => a.map(() => 6)));
        set('all 0 (undefined)', T.arr, items((a) => a.map(() => 0)));
        set('as f32 array', T.arr, { elementType: T.f32, items: arr.items.map((x) => Number(x)) });
        set('as string array', T.arr, { elementType: T.str, items: arr.items.map((x) => String(x)) });
      }
    }
    add('removed', null, kv.key.startsWith(`${arch}.`));
    out.push({ label: `${kv.key}: doubled`, kvs: [...file.kvs, kv], lean: i === 0 });
  }
  // Keys the file does not have but llama.cpp reads for these architectures.
  const extra = (key: string, type: GgufType, value: GgufValue, lean = false) => out.push({ label: `added ${key} = ${String(typeof value === 'object' ? '[…]' : value)}`, kvs: [...file.kvs, { key, type, value }], lean });
  for (const [suffix, values] of [
    ['attention.key_length', [0, 1, 7, 4096, 0xffffffff]],
    ['attention.value_length', [0, 1, 7, 4096, 0xffffffff]],
    ['expert_count', [0, 1, 2, 513]],
    ['expert_used_count', [1, 2, 0xffffffff]],
    ['expert_group_count', [1, 2]],
    ['expert_group_used_count', [1]],
    ['nextn_predict_layers', [1, 3, 0xffffffff]],
    ['rope.scaling.original_context_length', [0, 0xffffffff]],
    ['attention.sliding_window', [0, 1, 0xffffffff]],
    ['embedding_length_out', [0, 1, 0xffffffff]],
    ['pooling_type', [1, 99, 0xffffffff]],
    ['vocab_size', [0, 1, 0xffffffff]],
  ] as const) {
    for (const v of values) extra(`${arch}.${suffix}`, T.u32, v, LEAN_ADDED.has(`${suffix}=${v}`));
  }
  for (const [suffix, values] of [
    ['rope.scaling.factor', [NaN, -1, 0, 1e30]],
    ['rope.scaling.attn_factor', [NaN, -1, 0]],
    ['rope.scaling.yarn_log_multiplier', [NaN, -1]],
    ['attention.layer_norm_epsilon', [NaN, -1]],
    ['logit_scale', [NaN, 0, Infinity]],
    ['attention.scale', [NaN, 0, -1]],
    ['final_logit_softcapping', [NaN, 0, -1]],
    ['attn_logit_softcapping', [NaN, 0, -1]],
  ] as const) {
    for (const v of values) extra(`${arch}.${suffix}`, T.f32, v);
  }
  extra(`${arch}.rope.scaling.type`, T.str, 'mfner-unknown', true);
  extra(`${arch}.rope.scaling.type`, T.str, 'yarn');
  extra(`${arch}.rope.scaling.type`, T.str, 'none', false);
  extra(`${arch}.attention.causal`, T.bool, false);
  extra(`${arch}.rope.dimension_sections`, T.arr, { elementType: T.i32, items: [-1, 0xffff, 0, 0] });
  extra('general.alignment', T.u32, 0);
  extra('general.alignment', T.u32, 3);
  extra('general.alignment', T.u32, 64, false);
  extra('tokenizer.ggml.scores', T.arr, { elementType: T.f32, items: [0, 1, 2] });
  extra('tokenizer.ggml.unknown_token_id', T.u32, 0xffffffff);
  extra('tokenizer.ggml.eot_token_id', T.u32, 1 << 30);
  extra('tokenizer.ggml.add_bos_token', T.bool, true);
  extra('tokenizer.ggml.add_eos_token', T.bool, true);
  extra('tokenizer.ggml.add_bos_token', T.u32, 7);
  extra('tokenizer.ggml.eos_token_ids', T.arr, { elementType: T.i32, items: [-1, 1 << 30] });
  extra('tokenizer.ggml.suppress_tokens', T.arr, { elementType: T.i32, items: [-1, 1 << 30] });
  extra('tokenizer.ggml.precompiled_charsmap', T.arr, { elementType: T.u8, items: [255, 255, 255, 255, 1] });
  extra('tokenizer.chat_template', T.str, '{% for m in messages %}{{ m.content }}', false);
  // Tensor infos: the first one (token_embd) and a layer's, with bad dims, type and offset.
  for (const t of file.tensors.filter((x) => x.name === 'token_embd.weight' || x.name === 'blk.0.attn_q.weight')) {
    const base = t.at + 8 + Buffer.byteLength(t.name) + 4;
    const patch = (label: string, f: (b: Buffer) => void, lean = true) => {
      const b = Buffer.from(file.tensorInfos);
      f(b);
      out.push({ label: `tensor ${t.name}: ${label}`, tensorInfos: b, lean });
    };
    patch('ne[0] = 0', (b) => b.writeBigInt64LE(0n, base), false);
    patch('ne[0] - 1', (b) => b.writeBigInt64LE(b.readBigInt64LE(base) - 1n, base));
    patch('ne[0] = -1', (b) => b.writeBigInt64LE(-1n, base), false);
    patch('ne[1] = 2^62', (b) => b.writeBigInt64LE(1n << 62n, base + 8), false);
    patch('ne[1] + 1', (b) => b.writeBigInt64LE(b.readBigInt64LE(base + 8) + 1n, base + 8), false);
    patch('n_dims = 0', (b) => b.writeUInt32LE(0, t.at + 8 + Buffer.byteLength(t.name)), false);
    patch('type 99', (b) => b.writeUInt32LE(99, base + 8 * t.nDims), false);
    patch('type f32', (b) => b.writeUInt32LE(0, base + 8 * t.nDims), false);
    patch('type q4_0', (b) => b.writeUInt32LE(2, base + 8 * t.nDims));
    patch('offset + 1', (b) => b.writeBigUInt64LE(b.readBigUInt64LE(base + 8 * t.nDims + 4) + 1n, base + 8 * t.nDims + 4));
    patch('offset past the end', (b) => b.writeBigUInt64LE(1n << 40n, base + 8 * t.nDims + 4), false);
  }
  return out;
}

/** `count` seeded random mutants: a random pair gets a random value of a random type. */
export function randomMutants(file: GgufFile, count: number, seed: number): Mutant[] {
  let s = seed >>> 0 || 1;
  const rand = () => ((s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 0x100000000);
  const pick = <X>(xs: readonly X[]): X => xs[Math.floor(rand() * xs.length)];
  const ints = [0, 1, 2, 3, 4, 7, 8, 16, 31, 32, 33, 63, 64, 127, 512, 513, 4096, 65535, 65536, 0x7fffffff, 0x80000000, 0xffffffff, -1, -2];
  const floats = [NaN, Infinity, -Infinity, 0, -0, -1, 1, 1e-45, 1e-30, 1e-6, 1e6, 1e30, 3.4e38, -1e30];
  const out: Mutant[] = [];
  const scalars = file.kvs.map((kv, i) => [kv, i] as const).filter(([kv]) => kv.type !== T.arr);
  for (let n = 0; n < count; n++) {
    const [kv, i] = pick(scalars);
    const r = rand();
    let next: GgufKv;
    if (r < 0.45) next = { key: kv.key, type: pick([T.u32, T.i32, T.u64, T.i64, T.u16, T.u8] as const), value: rand() < 0.7 ? pick(ints) : Math.floor(rand() * 2 ** 32) };
    else if (r < 0.75) next = { key: kv.key, type: pick([T.f32, T.f64] as const), value: rand() < 0.7 ? pick(floats) : (rand() - 0.5) * 10 ** Math.floor(rand() * 40 - 20) };
    else if (r < 0.9) next = { key: kv.key, type: T.arr, value: { elementType: pick([T.u32, T.i32, T.f32] as const), items: Array.from({ length: pick([0, 1, 2, 3, 513]) }, () => pick(ints)) } };
    else next = { key: kv.key, type: T.str, value: pick(['', 'llama', 'qwen2', 'gpt2', 'x'.repeat(300)]) };
    const kvs = file.kvs.slice();
    kvs[i] = next;
    const shown = typeof next.value === 'object' ? `array<${(next.value as { elementType: number }).elementType}>[${(next.value as { items: unknown[] }).items.length}]` : String(next.value);
    out.push({ label: `random ${n}: ${kv.key} = ${shown} (type ${next.type})`, kvs, lean: false });
  }
  return out;
}

/** The mutants a fuzz run tries: `lean` (CI), `full`, or a number (full plus that many random ones). */
export function fuzzMutants(file: GgufFile, mode: string, seed: number): Mutant[] {
  const all = ggufMutants(file);
  if (mode === 'lean') return all.filter((m) => m.lean);
  const extra = Number(mode);
  return Number.isInteger(extra) && extra > 0 ? [...all, ...randomMutants(file, extra, seed)] : all;
}
