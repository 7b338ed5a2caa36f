/**
 * The CPU kernels the patches replace, each against a float64 reference through the addon's op
 * hooks (native/OpCheck.cpp):
 * - 0007/0008: ggml_out_prod and F32 ggml_mul_mat as blocked GEMMs, over shapes that hit every
 *   edge of the tiling (rows and columns not multiples of the register tile or the cache tile, k
 *   across several slices), the layouts training uses (plain and transposed src1 for out_prod),
 *   head broadcasting (grouped-query attention) and several threads;
 * - 0014: mul_mat over an F16 or quantized weight through a dequantized panel (training's
 *   forward and prompt batches);
 * - 0012: out_prod with an F16, BF16 or quantized src0 (LoRA's backward through a frozen base),
 *   against the reference on the values the type stores, over the column panel's edges;
 * - 0009: the vectorised log-softmax inside ggml_cross_entropy_loss, over row lengths around the
 *   vector width and logits far from zero.
 */
import test from 'ava';
import fc from 'fast-check';
import { loadBinding } from '../../lib/native/binding.ts';

type Shape = [number, number, number, number];

/**
 * dst[i0,i1,i2,i3] = sum_k A(i0,k,i2,i3) * B(i1,k,i2,i3) in float64, dst laid out [n, m, b2, b3];
 * with the sum of |terms| per element for a rounding-aware tolerance.
 */
function referenceProduct(n: number, m: number, k: number, b2: number, b3: number, aAt: (i0: number, kk: number, i2: number, i3: number) => number, bAt: (i1: number, kk: number, i2: number, i3: number) => number) {
  const out = new Float64Array(n * m * b2 * b3);
  const scale = new Float64Array(out.length);
  for (let i3 = 0; i3 < b3; i3++)
    for (let i2 = 0; i2 < b2; i2++)
      for (let i1 = 0; i1 < m; i1++)
        for (let i0 = 0; i0 < n; i0++) {
          let s = 0;
          let t = 0;
          for (let kk = 0; kk < k; kk++) {
            const p = aAt(i0, kk, i2, i3) * bAt(i1, kk, i2, i3);
            s += p;
            t += Math.abs(p);
          }
          const o = ((i3 * b2 + i2) * m + i1) * n + i0;
          out[o] = s;
          scale[o] = t;
        }
  return { out, scale };
}

/** out_prod: a [n, k, a2, a3] broadcast over b's heads, b [m, k, b2, b3] (stored transposed as [k, m] with transposeB). */
function reference(a: Float32Array, sa: Shape, b: Float32Array, sb: Shape, transposeB: boolean) {
  const [n, k, a2, a3] = sa;
  const [m, , b2, b3] = sb;
  return referenceProduct(
    n, m, k, b2, b3,
    (i0, kk, i2, i3) => a[((Math.floor(i3 / (b3 / a3)) * a2 + Math.floor(i2 / (b2 / a2))) * k + kk) * n + i0],
    (i1, kk, i2, i3) => b[(i3 * b2 + i2) * m * k + (transposeB ? i1 * k + kk : kk * m + i1)],
  );
}

function filled(n: number, seed: number) {
  let x = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 31 - 1;
  });
}

/** null when every element is within float32 accumulation error of the reference (about k * eps * sum|terms|), else the first miss. */
function compare(got: Float32Array, want: { out: Float64Array; scale: Float64Array }, k: number): string | null {
  if (got.length !== want.out.length) return `length ${got.length} vs ${want.out.length}`;
  for (let i = 0; i < want.out.length; i++) {
    if (Math.abs(got[i] - want.out[i]) > 4e-7 * k * want.scale[i] + 1e-6) return `element ${i}: ${got[i]} vs ${want.out[i]}`;
  }
  return null;
}

function check(sa: Shape, sb: Shape, transposeB: boolean, threads: number, seed: number) {
  const a = filled(sa.reduce((p, v) => p * v, 1), seed);
  const b = filled(sb.reduce((p, v) => p * v, 1), seed + 1);
  return compare(loadBinding().outProduct(a, sa, b, sb, { transposeB, threads }), reference(a, sa, b, sb, transposeB), sa[1]);
}

test('out_prod equals a float64 reference at the tiling edges, both src1 layouts, 1 and 3 threads', (t) => {
  // n columns around the 16-float vector, the 64-float register tile and the 128-column cache
  // tile (narrower than a vector: the padded edge panel); m rows around the 6-row register tile
  // and the 128-row cache tile; k across the 256-wide slices
  const cases: [Shape, Shape][] = [
    [[1, 1, 1, 1], [1, 1, 1, 1]],
    [[5, 3, 1, 1], [7, 3, 1, 1]],
    [[8, 50, 1, 1], [13, 50, 1, 1]],
    [[130, 300, 1, 1], [131, 300, 1, 1]],
    [[64, 256, 1, 1], [32, 256, 1, 1]],
    [[65, 257, 1, 1], [33, 257, 1, 1]],
    [[300, 600, 1, 1], [37, 600, 1, 1]],
    [[17, 40, 2, 1], [6, 40, 4, 2]], // a broadcast over b's heads (2 per a-head) and b3
  ];
  for (const [sa, sb] of cases) {
    for (const transposeB of [false, true]) {
      for (const threads of [1, 3]) {
        const problem = check(sa, sb, transposeB, threads, sa[0] * 31 + sb[0]);
        t.is(problem, null, `a ${sa} b ${sb} transposeB ${transposeB} threads ${threads}`);
      }
    }
  }
});

test('out_prod property: random shapes and thread counts agree with the reference', (t) => {
  fc.assert(
    fc.property(
      fc.record({ n: fc.integer({ min: 1, max: 90 }), m: fc.integer({ min: 1, max: 70 }), k: fc.integer({ min: 1, max: 300 }), heads: fc.integer({ min: 1, max: 3 }), group: fc.integer({ min: 1, max: 2 }), transposeB: fc.boolean(), threads: fc.integer({ min: 1, max: 4 }), seed: fc.nat() }),
      ({ n, m, k, heads, group, transposeB, threads, seed }) => check([n, k, heads, 1], [m, k, heads * group, 1], transposeB, threads, seed) === null,
    ),
    { seed: 7, numRuns: 60 },
  );
  t.pass();
});

/**
 * Patch 0012: out_prod with src0 in another type (a frozen F16/BF16/quantized base) against the
 * float64 reference on the values the type stores (roundTrip: written in the type, read back).
 */
function checkTyped(type: string, sa: Shape, sb: Shape, transposeB: boolean, threads: number, seed: number) {
  const binding = loadBinding();
  const a = filled(sa.reduce((p, v) => p * v, 1), seed);
  const b = filled(sb.reduce((p, v) => p * v, 1), seed + 1);
  const stored = binding.roundTrip(a, type, sa[0]);
  return compare(binding.outProduct(a, sa, b, sb, { transposeB, threads, aType: type }), reference(stored, sa, b, sb, transposeB), sa[1]);
}

test('out_prod over F16, BF16 and quantized src0 (patch 0012) equals the reference on the stored values at the panel edges', (t) => {
  // columns: one vector, a 64/128-wide panel and its ragged edge, K-quant blocks of 256; rows
  // (dst) around the 128-row block; k across 256-wide slices; both src1 layouts
  const perBlock: Record<string, [Shape, Shape][]> = {
    1: [[[1, 3, 1, 1], [2, 3, 1, 1]], [[17, 9, 1, 1], [5, 9, 1, 1]], [[200, 300, 1, 1], [131, 300, 1, 1]], [[896, 40, 1, 1], [7, 40, 1, 1]]],
    32: [[[32, 5, 1, 1], [3, 5, 1, 1]], [[96, 257, 1, 1], [129, 257, 1, 1]], [[160, 40, 1, 1], [9, 40, 1, 1]], [[896, 33, 1, 1], [6, 33, 1, 1]]],
    // the last: one 256-wide column block, 300 rows: with 3 threads the rows split in groups too
    256: [[[256, 7, 1, 1], [3, 7, 1, 1]], [[768, 260, 1, 1], [130, 260, 1, 1]], [[256, 40, 1, 1], [300, 40, 1, 1]]],
  };
  const types: [string, number][] = [['f16', 1], ['bf16', 1], ['q8_0', 32], ['q4_0', 32], ['q5_1', 32], ['iq4_nl', 32], ['q4_K', 256], ['q6_K', 256], ['q2_K', 256], ['iq2_xxs', 256]];
  for (const [type, block] of types) {
    for (const [sa, sb] of perBlock[block]) {
      for (const transposeB of [false, true]) {
        for (const threads of [1, 3]) {
          t.is(checkTyped(type, sa, sb, transposeB, threads, sa[0] + sb[0] * 7), null, `${type} a ${sa} b ${sb} transposeB ${transposeB} threads ${threads}`);
        }
      }
    }
  }
});

test('out_prod over typed src0 property: random shapes, types and thread counts agree with the reference', (t) => {
  fc.assert(
    fc.property(
      fc.record({ type: fc.constantFrom('f16', 'bf16', 'q8_0', 'q4_0', 'q4_K'), blocks: fc.integer({ min: 1, max: 5 }), m: fc.integer({ min: 1, max: 140 }), k: fc.integer({ min: 1, max: 300 }), transposeB: fc.boolean(), threads: fc.integer({ min: 1, max: 4 }), seed: fc.nat() }),
      ({ type, blocks, m, k, transposeB, threads, seed }) => {
        const n = blocks * (type === 'q4_K' ? 256 : type.startsWith('q') ? 32 : 23);
        return checkTyped(type, [n, k, 1, 1], [m, k, 1, 1], transposeB, threads, seed) === null;
      },
    ),
    { seed: 13, numRuns: 40 },
  );
  t.pass();
});

test('the op hooks reject shapes ggml cannot multiply, with a clear error', (t) => {
  const binding = loadBinding();
  t.throws(() => binding.crossEntropy(new Float32Array(6), new Float32Array(5), [3, 2]), { code: 'ERR_INVALID_ARG' });
  t.throws(() => binding.mulMat(new Float32Array(6), [3, 2], new Float32Array(8), [4, 2]), { code: 'ERR_INVALID_ARG' });
  t.throws(() => binding.outProduct(new Float32Array(6), [2, 3], new Float32Array(8), [2, 4]), { code: 'ERR_INVALID_ARG' });
  t.throws(() => binding.outProduct(new Float32Array(5), [2, 3], new Float32Array(6), [2, 3]), { code: 'ERR_INVALID_ARG' });
  // a row that is not a whole number of the type's blocks, and a type ggml does not have
  t.throws(() => binding.outProduct(new Float32Array(40), [20, 2], new Float32Array(6), [3, 2], { aType: 'q8_0' }), { code: 'ERR_INVALID_ARG' });
  t.throws(() => binding.outProduct(new Float32Array(6), [3, 2], new Float32Array(6), [3, 2], { aType: 'q9_9' }), { code: 'ERR_INVALID_ARG' });
  t.throws(() => binding.roundTrip(new Float32Array(6), 'q4_K', 6), { code: 'ERR_INVALID_ARG' });
});

/** mul_mat: a [k, n, a2, a3] broadcast over b's heads, b [k, m, b2, b3]. */
function referenceMulMat(a: Float32Array, sa: Shape, b: Float32Array, sb: Shape) {
  const [k, n, a2, a3] = sa;
  const [, m, b2, b3] = sb;
  return referenceProduct(
    n, m, k, b2, b3,
    (i0, kk, i2, i3) => a[((Math.floor(i3 / (b3 / a3)) * a2 + Math.floor(i2 / (b2 / a2))) * n + i0) * k + kk],
    (i1, kk, i2, i3) => b[((i3 * b2 + i2) * m + i1) * k + kk],
  );
}

function checkMulMat(sa: Shape, sb: Shape, threads: number, seed: number) {
  const a = filled(sa.reduce((p, v) => p * v, 1), seed);
  const b = filled(sb.reduce((p, v) => p * v, 1), seed + 1);
  return compare(loadBinding().mulMat(a, sa, b, sb, { threads }), referenceMulMat(a, sa, b, sb), sa[0]);
}

test('F32 mul_mat equals a float64 reference at the tiling edges (batches below 8 columns take the old path), 1 and 3 threads', (t) => {
  const cases: [Shape, Shape][] = [
    [[3, 5, 1, 1], [3, 1, 1, 1]], // one column: vec_dot path
    [[40, 7, 1, 1], [40, 7, 1, 1]], // below the GEMM's minimum batch
    [[40, 7, 1, 1], [40, 8, 1, 1]],
    [[257, 130, 1, 1], [257, 17, 1, 1]], // k over two slices, rows over two 128-row blocks, n padded
    [[600, 13, 1, 1], [600, 64, 1, 1]],
    [[33, 9, 2, 1], [33, 12, 4, 3]], // heads broadcast (2 per a-head) and b3
  ];
  for (const [sa, sb] of cases) {
    for (const threads of [1, 3]) {
      t.is(checkMulMat(sa, sb, threads, sa[0] * 17 + sb[1]), null, `a ${sa} b ${sb} threads ${threads}`);
    }
  }
});

test('F32 mul_mat property: random shapes and thread counts agree with the reference', (t) => {
  fc.assert(
    fc.property(
      fc.record({ k: fc.integer({ min: 1, max: 300 }), n: fc.integer({ min: 1, max: 140 }), m: fc.integer({ min: 1, max: 40 }), heads: fc.integer({ min: 1, max: 3 }), group: fc.integer({ min: 1, max: 2 }), threads: fc.integer({ min: 1, max: 4 }), seed: fc.nat() }),
      ({ k, n, m, heads, group, threads, seed }) => checkMulMat([k, n, heads, 1], [k, m, heads * group, 1], threads, seed) === null,
    ),
    { seed: 11, numRuns: 60 },
  );
  t.pass();
});

test('mul_mat over an F16 or quantized weight (patch 0014) equals the reference on the stored values; below-8 batches keep llama.cpp\'s paths', (t) => {
  const binding = loadBinding();
  const cases: [string, Shape, Shape][] = [
    // batches of at least 96 columns (below that llama.cpp's paths are as fast)
    ['f16', [40, 7, 1, 1], [40, 96, 1, 1]],
    ['f16', [300, 130, 1, 1], [300, 97, 1, 1]],
    ['q8_0', [64, 13, 1, 1], [64, 100, 1, 1]],
    ['q8_0', [288, 130, 1, 1], [288, 129, 1, 1]],
    ['q4_0', [96, 7, 1, 1], [96, 120, 1, 1]],
    ['q4_0', [32, 9, 2, 1], [32, 96, 4, 3]],
    ['q4_K', [512, 19, 1, 1], [512, 110, 1, 1]],
    ['q6_K', [256, 6, 1, 1], [256, 128, 1, 1]],
  ];
  for (const [type, sa, sb] of cases) {
    const a = filled(sa.reduce((p, v) => p * v, 1), sa[0] + 3);
    const b = filled(sb.reduce((p, v) => p * v, 1), sb[1] + 5);
    const want = referenceMulMat(binding.roundTrip(a, type, sa[0]), sa, b, sb);
    for (const threads of [1, 3]) {
      t.is(compare(binding.mulMat(a, sa, b, sb, { threads, aType: type }), want, sa[0]), null, `${type} a ${sa} b ${sb} threads ${threads}`);
    }
  }
  // narrower batches keep llama.cpp's own paths, which round b to the weight's dot-product
  // partner first (Q8_0 blocks): close, not equal
  for (const n of [4, 40]) {
    const a = filled(256 * 9, 1);
    const b = filled(256 * n, 2);
    const want = referenceMulMat(binding.roundTrip(a, 'q8_0', 256), [256, 9, 1, 1], b, [256, n, 1, 1]);
    const got = binding.mulMat(a, [256, 9, 1, 1], b, [256, n, 1, 1], { threads: 1, aType: 'q8_0' });
    t.true(got.every((v, i) => Math.abs(v - want.out[i]) < 0.02 * want.scale[i] + 1e-4), `${n} columns`);
    t.not(compare(got, want, 256), null, `${n} columns: llama.cpp's path, not the exact GEMM`);
  }
});

test('F32 mul_mat gives the same bits for any thread count (each output is one in-order sum)', (t) => {
  const sa: Shape = [700, 150, 1, 1];
  const sb: Shape = [700, 40, 1, 1];
  const a = filled(700 * 150, 3);
  const b = filled(700 * 40, 4);
  const one = loadBinding().mulMat(a, sa, b, sb, { threads: 1 });
  for (const threads of [2, 3, 5]) t.deepEqual(loadBinding().mulMat(a, sa, b, sb, { threads }), one, `threads ${threads}`);
});

function referenceCrossEntropy(logits: Float32Array, labels: Float32Array, n: number) {
  const rows = logits.length / n;
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const x = logits.subarray(r * n, (r + 1) * n);
    const max = Math.max(...x);
    let sum = 0;
    for (const v of x) sum += Math.exp(v - max);
    const logSum = Math.log(sum);
    for (let i = 0; i < n; i++) total -= labels[r * n + i] * (x[i] - max - logSum);
  }
  return total / rows;
}

test('cross-entropy (vectorised log-softmax) equals a float64 reference for row lengths around the vector width', (t) => {
  for (const n of [1, 7, 8, 15, 16, 17, 33, 1000, 4099]) {
    for (const rows of [1, 5]) {
      for (const spread of [1, 30]) {
        const logits = filled(n * rows, n + rows).map((v) => v * spread + (spread > 1 ? 60 : 0));
        // one-hot rows, plus a weighted soft row (patch 0001 allows any non-negative labels)
        const labels = new Float32Array(n * rows);
        for (let r = 0; r < rows; r++) labels[r * n + ((r * 7919) % n)] = 1;
        if (rows > 1) for (let i = 0; i < n; i++) labels[n + i] = 0.5 / n;
        for (const threads of [1, 3]) {
          const got = loadBinding().crossEntropy(logits, labels, [n, rows], { threads });
          const want = referenceCrossEntropy(logits, labels, n);
          t.true(Math.abs(got - want) <= 2e-5 * Math.max(1, Math.abs(want)), `n ${n} rows ${rows} spread ${spread} threads ${threads}: ${got} vs ${want}`);
        }
      }
    }
  }
});
