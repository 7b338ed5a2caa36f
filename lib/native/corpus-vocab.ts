/**
 * A small SentencePiece-style vocabulary learned from the texts a model will see (corpus
 * sentences, the Listing-1 prompt, the formats' answers), written as a vocab-only GGUF that the
 * model maker copies `tokenizer.*` keys from and llama.cpp's SPM tokenizer reads.
 *
 * Why not a library: the npm `tokenizers` binding's `train(files)` takes no trainer options (no
 * vocabulary size) and ships 64 MB of binaries for every platform; byte-pair merges over word
 * counts are a few dozen lines. Why BPE scores on an SPM vocabulary: llama.cpp's SPM tokenizer
 * merges the adjacent pair whose concatenation has the highest score, so a merge's score is
 * minus its rank and the learned merges are replayed in order. Training and inference both go
 * through llama.cpp's tokenizer, so exact agreement with a BPE reference is not needed; that
 * every text round-trips is (test/native/corpus-vocab.test.ts).
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { MfnerError } from './errors.ts';

/** llama.cpp's token types (llama_token_type). */
export const TOKEN_TYPE = { normal: 1, unknown: 2, control: 3, byte: 6 } as const;

/** SentencePiece's visible space. */
const SPACE = '\u2581';

export interface Vocabulary {
  tokens: string[];
  scores: number[];
  types: number[];
  unk: number;
  bos: number;
  eos: number;
  /** Control tokens by text (the chat template's markers). */
  controls: Record<string, number>;
  /** Merges learned (tokens beyond the specials, bytes and single characters). */
  merges: number;
}

export interface TrainVocabularyOptions {
  /** Total tokens including specials, bytes and characters (default 4096). */
  size?: number;
  /** Control tokens beyond <unk>/<s>/</s> (default Qwen's chat markers, so its template works). */
  controls?: readonly string[];
  /** Characters seen fewer times than this are left to byte fallback (default 2). */
  minCharCount?: number;
  /**
   * Spaces, digits and punctuation as tokens apart from letters (default false: SentencePiece's
   * space-prefixed words). Then a word is the same tokens wherever it stands: "ataxia" in the
   * text and in `"text": "ataxia"` are one token id, where the default gives "▁ataxia" and
   * "ataxia" (two ids, a mapping a small model must learn per word before it can copy a
   * mention). Costs 2× the tokens per example (multi_term: 111 → 221, docs/training.md).
   */
  isolateWords?: boolean;
  /**
   * With isolateWords: a piece keeps the one space that follows it ("tumour▁", "-▁"), so the
   * next word is the next token in a sentence as with SentencePiece's usual pieces, and a
   * mention's words are the sentence's ids but for its last, which stands bare before the
   * closing quote.
   */
  trailingSpace?: boolean;
}

export const CHAT_CONTROLS = ['<|im_start|>', '<|im_end|>'] as const;

/**
 * Pieces as llama.cpp's SPM tokenizer segments them before merging: spaces become ▁ and start a
 * piece; a newline is a piece of its own (add_space_prefix is off, see writeVocabularyGguf).
 */
const SPACED_PIECE = /\u2581*[^\u2581\n]+|\u2581+|\n/gu;
// A run of letters (with their combining marks), one digit, a run of other symbols, one space.
const ISOLATED_PIECE = /[\p{L}\p{M}]+|\p{N}|[^\p{L}\p{M}\p{N}\u2581\n]+|\u2581|\n/gu;
// The same, each piece with the space that follows it.
const TRAILING_PIECE = /[\p{L}\p{M}]+\u2581?|\p{N}\u2581?|[^\p{L}\p{M}\p{N}\u2581\n]+\u2581?|\u2581|\n/gu;

function pieces(text: string, controls: readonly string[], out: Map<string, number>, pattern: RegExp) {
  let rest = text;
  for (const c of controls) rest = rest.split(c).join('\n');
  for (const m of rest.replaceAll(' ', SPACE).matchAll(pattern)) {
    out.set(m[0], (out.get(m[0]) ?? 0) + 1);
  }
}

/** A max-heap of [count, pairKey], with stale entries skipped on pop. */
class PairHeap {
  private items: [number, string][] = [];
  push(count: number, key: string) {
    const a = this.items;
    a.push([count, key]);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.above(a[i], a[p])) break;
      [a[i], a[p]] = [a[p], a[i]];
      i = p;
    }
  }
  pop(): [number, string] | undefined {
    const a = this.items;
    if (a.length === 0) return undefined;
    const top = a[0];
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < a.length && this.above(a[l], a[m])) m = l;
        if (r < a.length && this.above(a[r], a[m])) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m], a[i]];
        i = m;
      }
    }
    return top;
  }
  // Ties broken by key so the vocabulary is the same on every run and machine.
  private above(x: [number, string], y: [number, string]) {
    return x[0] > y[0] || (x[0] === y[0] && x[1] < y[1]);
  }
}

const SEP = '\u0000';

/** Learns byte-pair merges over the pieces of `texts` (an iterable, read once). */
export function trainVocabulary(texts: Iterable<string>, options: TrainVocabularyOptions = {}): Vocabulary {
  const size = options.size ?? 4096;
  const controls = [...(options.controls ?? CHAT_CONTROLS)];
  const minCharCount = options.minCharCount ?? 2;
  const base = 3 + controls.length + 256;
  if (!Number.isInteger(size) || size < base + 1 || size > 1_000_000) {
    throw new MfnerError('ERR_INVALID_ARG', `vocabulary size must be an integer from ${base + 1} to 1000000`);
  }
  const counts = new Map<string, number>();
  const pattern = options.isolateWords ? (options.trailingSpace ? TRAILING_PIECE : ISOLATED_PIECE) : SPACED_PIECE;
  for (const t of texts) pieces(t, controls, counts, pattern);

  const tokens: string[] = ['<unk>', '<s>', '</s>', ...controls];
  const types: number[] = [TOKEN_TYPE.unknown, TOKEN_TYPE.control, TOKEN_TYPE.control, ...controls.map(() => TOKEN_TYPE.control)];
  const scores: number[] = tokens.map(() => 0);
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
    types.push(TOKEN_TYPE.byte);
    scores.push(0);
  }
  // Characters, most frequent first, as far as the size allows.
  const charCounts = new Map<string, number>();
  for (const [p, n] of counts) for (const ch of p) charCounts.set(ch, (charCounts.get(ch) ?? 0) + n);
  const chars = [...charCounts].filter(([, n]) => n >= minCharCount).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const known = new Set<string>();
  for (const [ch] of chars.slice(0, size - tokens.length)) {
    known.add(ch);
    tokens.push(ch);
    types.push(TOKEN_TYPE.normal);
    scores.push(0);
  }

  // Words as symbol arrays; unknown characters split words (they become bytes and never merge).
  const words: string[][] = [];
  const freq: number[] = [];
  for (const [p, n] of counts) {
    let cur: string[] = [];
    for (const ch of p) {
      if (known.has(ch)) cur.push(ch);
      else if (cur.length) { words.push(cur); freq.push(n); cur = []; }
    }
    if (cur.length) { words.push(cur); freq.push(n); }
  }
  const pairCount = new Map<string, number>();
  const pairWords = new Map<string, Set<number>>();
  const addPairs = (w: number, sign: 1 | -1) => {
    const s = words[w];
    for (let i = 0; i + 1 < s.length; i++) {
      const k = s[i] + SEP + s[i + 1];
      pairCount.set(k, (pairCount.get(k) ?? 0) + sign * freq[w]);
      if (sign > 0) {
        let set = pairWords.get(k);
        if (!set) pairWords.set(k, (set = new Set()));
        set.add(w);
      }
    }
  };
  for (let w = 0; w < words.length; w++) addPairs(w, 1);
  const heap = new PairHeap();
  for (const [k, n] of pairCount) heap.push(n, k);

  const inVocab = new Set(tokens);
  let merges = 0;
  while (tokens.length < size) {
    const top = heap.pop();
    if (!top) break;
    const [n, k] = top;
    if (pairCount.get(k) !== n || n < 2) {
      if (pairCount.get(k) === n) break; // the best pair occurs once: nothing worth merging
      continue;
    }
    const [a, b] = k.split(SEP);
    const merged = a + b;
    const touched = new Map<string, number>();
    for (const w of pairWords.get(k) ?? []) {
      const s = words[w];
      let hit = false;
      for (let i = 0; i + 1 < s.length; i++) if (s[i] === a && s[i + 1] === b) { hit = true; break; }
      if (!hit) continue;
      const before = new Map<string, number>();
      for (let i = 0; i + 1 < s.length; i++) before.set(s[i] + SEP + s[i + 1], 0);
      addPairs(w, -1);
      const next: string[] = [];
      for (let i = 0; i < s.length; i++) {
        if (i + 1 < s.length && s[i] === a && s[i + 1] === b) { next.push(merged); i++; }
        else next.push(s[i]);
      }
      words[w] = next;
      addPairs(w, 1);
      for (const pk of before.keys()) touched.set(pk, 0);
      for (let i = 0; i + 1 < next.length; i++) touched.set(next[i] + SEP + next[i + 1], 0);
    }
    for (const pk of touched.keys()) {
      const c = pairCount.get(pk) ?? 0;
      if (c > 0) heap.push(c, pk);
    }
    pairCount.delete(k);
    pairWords.delete(k);
    if (inVocab.has(merged)) continue;
    inVocab.add(merged);
    merges++;
    tokens.push(merged);
    types.push(TOKEN_TYPE.normal);
    scores.push(-merges);
  }
  const controlIds: Record<string, number> = {};
  controls.forEach((c, i) => { controlIds[c] = 3 + i; });
  return { tokens, scores, types, unk: 0, bos: 1, eos: 2, controls: controlIds, merges };
}

// --- GGUF (metadata only: the model maker copies tokenizer.* keys from it) -----------------

const GGUF = { u32: 4, i32: 5, f32: 6, bool: 7, string: 8, array: 9 } as const;

class GgufWriter {
  private parts: Buffer[] = [];
  private n = 0;
  private u32(v: number) { const b = Buffer.alloc(4); b.writeUInt32LE(v); this.parts.push(b); }
  private u64(v: number) { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); this.parts.push(b); }
  private str(s: string) { const b = Buffer.from(s, 'utf8'); this.u64(b.length); this.parts.push(b); }
  private key(k: string, type: number) { this.n++; this.str(k); this.u32(type); }
  private array(k: string, type: number, length: number) { this.key(k, GGUF.array); this.u32(type); this.u64(length); }
  string(k: string, v: string) { this.key(k, GGUF.string); this.str(v); }
  uint32(k: string, v: number) { this.key(k, GGUF.u32); this.u32(v); }
  bool(k: string, v: boolean) { this.key(k, GGUF.bool); this.parts.push(Buffer.from([v ? 1 : 0])); }
  strings(k: string, v: readonly string[]) {
    this.array(k, GGUF.string, v.length);
    for (const s of v) this.str(s);
  }
  numbers(k: string, type: 'f32' | 'i32', v: readonly number[]) {
    this.array(k, GGUF[type], v.length);
    const b = Buffer.alloc(4 * v.length);
    v.forEach((x, i) => (type === 'f32' ? b.writeFloatLE(x, 4 * i) : b.writeInt32LE(x, 4 * i)));
    this.parts.push(b);
  }
  bytes(): Buffer {
    const head = Buffer.alloc(24);
    head.write('GGUF', 0, 'ascii');
    head.writeUInt32LE(3, 4);
    head.writeBigUInt64LE(0n, 8); // no tensors
    head.writeBigUInt64LE(BigInt(this.n), 16);
    return Buffer.concat([head, ...this.parts]);
  }
}

/**
 * Writes the vocabulary as a vocab-only GGUF (llama.cpp's SPM model). No space prefix (a
 * chat-rendered prompt needs none, and the trainer's dummy-prefix corrections stay idle), no
 * automatic BOS (the Qwen2.5 template the made models use has none); EOS is `<|im_end|>` when the
 * vocabulary has it, so a chat turn's end stops generation.
 */
export function writeVocabularyGguf(file: string, vocab: Vocabulary) {
  const w = new GgufWriter();
  w.string('tokenizer.ggml.model', 'llama');
  w.strings('tokenizer.ggml.tokens', vocab.tokens);
  w.numbers('tokenizer.ggml.scores', 'f32', vocab.scores);
  w.numbers('tokenizer.ggml.token_type', 'i32', vocab.types);
  w.uint32('tokenizer.ggml.unknown_token_id', vocab.unk);
  w.uint32('tokenizer.ggml.bos_token_id', vocab.bos);
  w.uint32('tokenizer.ggml.eos_token_id', vocab.controls['<|im_end|>'] ?? vocab.eos);
  w.uint32('tokenizer.ggml.padding_token_id', vocab.unk);
  w.bool('tokenizer.ggml.add_bos_token', false);
  w.bool('tokenizer.ggml.add_eos_token', false);
  w.bool('tokenizer.ggml.add_space_prefix', false);
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  writeFileSync(file, w.bytes());
}
