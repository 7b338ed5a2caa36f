/**
 * A small GGUF (v2/v3) header reader and writer for tests: read a file's key/value pairs, change
 * them, and write a file with the same tensor infos and data. Used by the header fuzz test to make
 * corrupt models; it validates nothing (that is the point).
 */
import { readFileSync, writeFileSync } from 'node:fs';

export const T = { u8: 0, i8: 1, u16: 2, i16: 3, u32: 4, i32: 5, f32: 6, bool: 7, str: 8, arr: 9, u64: 10, i64: 11, f64: 12 } as const;
export type GgufType = (typeof T)[keyof typeof T];

/** A scalar value, or an array of them (with its element type). */
export type GgufValue = number | bigint | boolean | string | { elementType: GgufType; items: (number | bigint | boolean | string)[] };

export interface GgufKv {
  key: string;
  type: GgufType;
  value: GgufValue;
}

export interface GgufFile {
  version: number;
  kvs: GgufKv[];
  nTensors: bigint;
  /** The tensor infos, as they were (offsets are relative to the data section). */
  tensorInfos: Buffer;
  /** Where each tensor info starts in `tensorInfos`, and its name. */
  tensors: { name: string; at: number; nDims: number }[];
  /** The data section (starts at an alignment boundary). */
  data: Buffer;
  alignment: number;
}

const SIZE: Partial<Record<GgufType, number>> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };

class Reader {
  pos = 0;
  constructor(readonly b: Buffer) {}
  u32(): number {
    const v = this.b.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }
  u64(): bigint {
    const v = this.b.readBigUInt64LE(this.pos);
    this.pos += 8;
    return v;
  }
  str(): string {
    const n = Number(this.u64());
    const s = this.b.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
  scalar(type: GgufType): number | bigint | boolean | string {
    const b = this.b;
    const p = this.pos;
    if (type === T.str) return this.str();
    this.pos += SIZE[type]!;
    switch (type) {
      case T.u8: return b.readUInt8(p);
      case T.i8: return b.readInt8(p);
      case T.u16: return b.readUInt16LE(p);
      case T.i16: return b.readInt16LE(p);
      case T.u32: return b.readUInt32LE(p);
      case T.i32: return b.readInt32LE(p);
      case T.f32: return b.readFloatLE(p);
      case T.bool: return b.readUInt8(p) !== 0;
      case T.u64: return b.readBigUInt64LE(p);
      case T.i64: return b.readBigInt64LE(p);
      case T.f64: return b.readDoubleLE(p);
      default: throw new Error(`unknown GGUF type ${type}`);
    }
  }
}

export function readGguf(path: string): GgufFile {
  const b = readFileSync(path);
  const r = new Reader(b);
  if (b.toString('latin1', 0, 4) !== 'GGUF') throw new Error('not a GGUF file');
  r.pos = 4;
  const version = r.u32();
  const nTensors = r.u64();
  const nKv = Number(r.u64());
  const kvs: GgufKv[] = [];
  for (let i = 0; i < nKv; i++) {
    const key = r.str();
    const type = r.u32() as GgufType;
    if (type === T.arr) {
      const elementType = r.u32() as GgufType;
      const n = Number(r.u64());
      const items = [];
      for (let j = 0; j < n; j++) items.push(r.scalar(elementType));
      kvs.push({ key, type, value: { elementType, items } });
    } else {
      kvs.push({ key, type, value: r.scalar(type) });
    }
  }
  const alignKv = kvs.find((kv) => kv.key === 'general.alignment');
  const alignment = alignKv ? Number(alignKv.value) : 32;
  const infoStart = r.pos;
  const tensors = [];
  for (let i = 0n; i < nTensors; i++) {
    const at = r.pos - infoStart;
    const name = r.str();
    const nDims = r.u32();
    tensors.push({ name, at, nDims });
    r.pos += 8 * nDims + 4 + 8;
  }
  const tensorInfos = b.subarray(infoStart, r.pos);
  const dataStart = Math.ceil(r.pos / alignment) * alignment;
  return { version, kvs, nTensors, tensorInfos, tensors, data: b.subarray(dataStart), alignment };
}

function scalarBytes(type: GgufType, v: number | bigint | boolean | string): Buffer {
  if (type === T.str) {
    const s = Buffer.from(String(v), 'utf8');
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(s.length));
    return Buffer.concat([len, s]);
  }
  const out = Buffer.alloc(SIZE[type]!);
  const n: number | bigint = typeof v === 'bigint' ? v : typeof v === 'boolean' ? (v ? 1 : 0) : Number(v);
  switch (type) {
    // Integer writes wrap (a negative value in an unsigned type is its two's complement).
    case T.u8: out.writeUInt8(Number(BigInt.asUintN(8, BigInt(Math.trunc(Number(n)))))); break;
    case T.i8: out.writeInt8(Number(BigInt.asIntN(8, BigInt(Math.trunc(Number(n)))))); break;
    case T.u16: out.writeUInt16LE(Number(BigInt.asUintN(16, BigInt(Math.trunc(Number(n)))))); break;
    case T.i16: out.writeInt16LE(Number(BigInt.asIntN(16, BigInt(Math.trunc(Number(n)))))); break;
    case T.u32: out.writeUInt32LE(Number(BigInt.asUintN(32, toBig(n)))); break;
    case T.i32: out.writeInt32LE(Number(BigInt.asIntN(32, toBig(n)))); break;
    case T.f32: out.writeFloatLE(Number(n)); break;
    case T.bool: out.writeUInt8(Number(n) ? 1 : 0); break;
    case T.u64: out.writeBigUInt64LE(BigInt.asUintN(64, toBig(n))); break;
    case T.i64: out.writeBigInt64LE(BigInt.asIntN(64, toBig(n))); break;
    case T.f64: out.writeDoubleLE(Number(n)); break;
    default: throw new Error(`cannot write GGUF type ${type}`);
  }
  return out;
}

function toBig(n: number | bigint): bigint {
  if (typeof n === 'bigint') return n;
  return Number.isFinite(n) ? BigInt(Math.trunc(n)) : 0n;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

function u64(n: number | bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
}

// Serialised pairs, cached per object: a mutant shares all but one pair with the original, and
// the tokenizer arrays hold hundreds of thousands of strings.
const kvCache = new WeakMap<GgufKv, Buffer>();

function kvBytes(kv: GgufKv): Buffer {
  const cached = kvCache.get(kv);
  if (cached) return cached;
  const parts = [scalarBytes(T.str, kv.key), u32(kv.type)];
  if (kv.type === T.arr) {
    const a = kv.value as { elementType: GgufType; items: (number | bigint | boolean | string)[] };
    parts.push(u32(a.elementType), u64(a.items.length));
    if (a.elementType === T.str) {
      for (const item of a.items) parts.push(scalarBytes(T.str, item));
    } else {
      const size = SIZE[a.elementType] ?? 0;
      const block = Buffer.alloc(size * a.items.length);
      for (const [j, item] of a.items.entries()) scalarBytes(a.elementType, item).copy(block, j * size);
      parts.push(block);
    }
  } else {
    parts.push(scalarBytes(kv.type, kv.value as number | bigint | boolean | string));
  }
  const out = Buffer.concat(parts);
  kvCache.set(kv, out);
  return out;
}

/** The file as bytes: header, the given key/value pairs, the original tensor infos and data. */
export function ggufBytes(file: GgufFile, kvs: readonly GgufKv[] = file.kvs): Buffer {
  const parts: Buffer[] = [Buffer.from('GGUF', 'latin1'), u32(file.version), u64(file.nTensors), u64(kvs.length)];
  for (const kv of kvs) parts.push(kvBytes(kv));
  parts.push(file.tensorInfos);
  const headerLength = parts.reduce((n, p) => n + p.length, 0);
  // Padding to the alignment the file was written with (a mutated general.alignment is a lie).
  parts.push(Buffer.alloc(Math.ceil(headerLength / file.alignment) * file.alignment - headerLength), file.data);
  return Buffer.concat(parts);
}

export function writeGguf(path: string, file: GgufFile, kvs: readonly GgufKv[] = file.kvs, tensorInfos = file.tensorInfos): void {
  writeFileSync(path, ggufBytes({ ...file, tensorInfos }, kvs));
}
