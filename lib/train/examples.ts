/**
 * Training examples as token sequences with response-only labels: chat examples rendered with the
 * model's own template (every assistant turn marked as a target is scored, its end-of-turn token
 * included), and raw {prompt, completion} pairs (BOS + prompt, then the completion, scored).
 */
import type { Model } from '../native/model.ts';
import { MfnerError } from '../native/errors.ts';

export interface TrainChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
  /** Assistant turns only: scored when true; when no turn sets it, every assistant turn is. */
  target?: boolean;
}

export type TrainExample = ({ messages: readonly TrainChatMessage[] } | { prompt: string; completion: string }) & {
  /**
   * Examples of one group share their prompt up to the text (dataset, format, asked types): with
   * TrainOptions.groupSteps a step takes its examples from one group, so that prefix is computed once.
   */
  group?: string;
};

/** One tokenised example: `scored[i]` says whether token i is a target (predicted from i-1). */
export interface TokenizedExample {
  tokens: Int32Array;
  scored: Uint8Array;
  /** Number of scored tokens. */
  targets: number;
}

function trimEndWhitespace(s: string): string {
  return s.replace(/\s+$/u, '');
}

/**
 * Byte spans [start, end) of the scored assistant turns inside `full`, found by rendering growing
 * prefixes of the conversation (the prefix-difference method): the turn starts where the prompt
 * with a generation header ends and ends after its end-of-turn token (trailing whitespace is not
 * scored).
 */
export function assistantSpans(model: Model, messages: readonly TrainChatMessage[], template?: string): { full: string; spans: [number, number][] } {
  const plain = messages.map(({ role, content }) => ({ role, content }));
  const full = model.renderChat(plain, { addGenerationPrompt: false, template });
  const anyMarked = messages.some((m) => m.target !== undefined);
  const spans: [number, number][] = [];
  messages.forEach((m, k) => {
    if (m.role !== 'assistant' || (anyMarked && !m.target)) return;
    const before = model.renderChat(plain.slice(0, k), { addGenerationPrompt: true, template });
    // The last turn ends the full rendering: no third render (a third of tokenising's time).
    const through = trimEndWhitespace(k === plain.length - 1 ? full : model.renderChat(plain.slice(0, k + 1), { addGenerationPrompt: false, template }));
    if (!full.startsWith(before) || !full.startsWith(through) || through.length <= before.length) {
      throw new MfnerError('ERR_TEMPLATE_NOT_PREFIX', `the chat template does not render conversations prefix by prefix (assistant turn ${k}), so response tokens cannot be located`);
    }
    spans.push([Buffer.byteLength(before), Buffer.byteLength(through)]);
  });
  return { full, spans };
}

/**
 * Tokenises an example and marks the tokens the loss applies to. `chatTemplate` renders chat
 * examples for a model without a template of its own (it must be the template inference uses).
 */
export function tokenizeExample(model: Model, example: TrainExample, options: { addEos?: boolean; chatTemplate?: string } = {}): TokenizedExample {
  if ('messages' in example) {
    const { full, spans } = assistantSpans(model, example.messages, options.chatTemplate);
    const tokens = model.tokenize(full, { addSpecial: true, parseSpecial: true });
    const pieces = model.tokenPieces(tokens, { special: true });
    const lengths = pieces.map((p) => p.length);
    // a BOS the tokenizer added (not in the rendered text) takes no bytes
    const bosAdded = model.metadata.bosToken !== null && tokens[0] === model.metadata.bosToken && !full.startsWith(pieces[0].toString('latin1'));
    if (bosAdded) lengths[0] = 0;
    // SentencePiece's dummy prefix: the first word piece carries a space the text does not have
    let extra = lengths.reduce((a, b) => a + b, 0) - Buffer.byteLength(full);
    for (let i = 0; i < lengths.length && extra > 0; i++) {
      const cut = Math.min(extra, lengths[i]);
      lengths[i] -= cut;
      extra -= cut;
    }
    const scored = new Uint8Array(tokens.length);
    let offset = 0;
    let targets = 0;
    for (let i = 0; i < tokens.length; i++) {
      const start = offset;
      offset += lengths[i];
      if (lengths[i] > 0 && spans.some(([s, e]) => start >= s && start < e)) {
        scored[i] = 1;
        targets++;
      }
    }
    // A template without an end-of-turn token (the fallback one) gives the model no way to stop:
    // when the last message is a scored assistant turn with no end-of-generation token in it,
    // EOS follows its text (what trailed it, a newline, is dropped) and is scored.
    const eog = new Set([model.metadata.eosToken, model.metadata.eotToken].filter((t): t is number => t !== null));
    const last = spans[spans.length - 1];
    const lastIsTarget = last !== undefined && example.messages[example.messages.length - 1].role === 'assistant' && last[1] >= Buffer.byteLength(full.replace(/\s+$/u, ''));
    if (lastIsTarget && (options.addEos ?? true) && model.metadata.eosToken !== null) {
      let end = tokens.length;
      while (end > 0 && !scored[end - 1]) end--;
      let hasEog = false;
      for (let i = 0; i < end; i++) if (scored[i] && eog.has(tokens[i])) hasEog = true;
      if (!hasEog && end > 0) {
        const out = new Int32Array(end + 1);
        out.set(tokens.subarray(0, end));
        out[end] = model.metadata.eosToken;
        const sc = new Uint8Array(end + 1);
        sc.set(scored.subarray(0, end));
        sc[end] = 1;
        return { tokens: out, scored: sc, targets: targets + 1 };
      }
    }
    return { tokens, scored, targets };
  }
  const prompt = model.tokenize(example.prompt, { addSpecial: true, parseSpecial: false });
  const completion = completionTokens(model, example.prompt, prompt, example.completion);
  const eos = model.metadata.eosToken;
  const addEos = (options.addEos ?? true) && eos !== null;
  const n = prompt.length + completion.length + (addEos ? 1 : 0);
  const tokens = new Int32Array(n);
  tokens.set(prompt, 0);
  tokens.set(completion, prompt.length);
  if (addEos) tokens[n - 1] = eos!;
  const scored = new Uint8Array(n);
  scored.fill(1, prompt.length);
  return { tokens, scored, targets: n - prompt.length };
}

/**
 * The completion's tokens as they follow the prompt's. Tokenising the completion on its own is
 * wrong for SentencePiece vocabularies: the tokenizer prefixes raw text with a dummy space, so
 * " cat." became "▁" + "▁cat" + "." (a doubled space the model then learns to generate) where
 * the joint text gives "▁cat" + ".". So the joint text is tokenised and, when it begins with the
 * prompt's own tokens (what inference feeds), the rest is the completion. Otherwise (a token
 * straddles the boundary) the completion is tokenised alone, minus a leading token that is
 * nothing but the dummy-prefix space.
 */
function completionTokens(model: Model, promptText: string, prompt: Int32Array, completionText: string): Int32Array {
  if (completionText === '') return new Int32Array(0);
  const joint = model.tokenize(promptText + completionText, { addSpecial: true, parseSpecial: false });
  if (joint.length > prompt.length && prompt.every((t, i) => joint[i] === t)) return joint.slice(prompt.length);
  const alone = model.tokenize(completionText, { addSpecial: false, parseSpecial: false });
  if (alone.length > 1) {
    const pieces = model.tokenPieces(alone, { special: false });
    const extra = pieces.reduce((a, p) => a + p.length, 0) - Buffer.byteLength(completionText);
    if (extra > 0 && pieces[0].length === extra && /^ +$/u.test(pieces[0].toString('utf8'))) return alone.slice(1);
  }
  return alone;
}

/** A micro-batch: packed sequences (each with its own id, positions from 0) within one context. */
export interface MicroBatch {
  tokens: Int32Array;
  positions: Int32Array;
  /** The sequence of each row (with shared rows, the lowest of its sequences). */
  sequences: Int32Array;
  /**
   * Rows shared by several sequences (`sharePrefixes`): row i belongs to the sequences
   * `sequenceIds[sequenceOffsets[i] .. sequenceOffsets[i + 1])`. Absent when no row is shared.
   */
  sequenceOffsets?: Int32Array;
  sequenceIds?: Int32Array;
  /** Row i predicts labels[i] (the next token of its sequence), -1 where nothing is scored. */
  labels: Int32Array;
  /** Rows with a label. */
  targets: number;
  /** Indices of the examples packed here, in order (example k is sequence k). */
  examples: number[];
  /** The examples' own tokens, shared rows counted once per example (tokens.length without sharing). */
  exampleTokens: number;
}

export interface PackOptions {
  /** Sequences per micro-batch at most (default 256, llama.cpp's limit). */
  maxSequences?: number;
  /**
   * Compute a token prefix that several examples of a micro-batch begin with once (a prefix
   * tree: the system turn and instruction every prompt of a format repeats). Exact: each row's
   * attention sees the same tokens at the same positions as unshared, and no scored row is ever
   * shared, so losses and gradients are those of the unshared batch (docs/training.md).
   */
  sharePrefixes?: boolean;
}

/** The rows of an example that may be shared: those before the row that predicts its first scored token. */
function shareableLength(e: TokenizedExample): number {
  const first = e.scored.indexOf(1);
  return Math.max(0, (first < 0 ? e.tokens.length : first) - 1);
}

interface TrieNode {
  token: number;
  depth: number;
  children: Map<number, TrieNode>;
  /** Sequences whose shareable prefix runs through this node. */
  sequences: number[];
  /** Sequences whose shareable prefix ends here (their private rows follow). */
  ends: number[];
}

function newNode(token: number, depth: number): TrieNode {
  return { token, depth, children: new Map(), sequences: [], ends: [] };
}

/** How deep an example's shareable prefix runs into the tree (rows it need not add). */
function matchDepth(root: TrieNode, e: TokenizedExample): number {
  const n = shareableLength(e);
  let node = root;
  let d = 0;
  while (d < n) {
    const next = node.children.get(e.tokens[d]);
    if (!next) break;
    node = next;
    d++;
  }
  return d;
}

function insert(root: TrieNode, e: TokenizedExample, seq: number): void {
  const n = shareableLength(e);
  let node = root;
  for (let d = 0; d < n; d++) {
    let next = node.children.get(e.tokens[d]);
    if (!next) node.children.set(e.tokens[d], (next = newNode(e.tokens[d], d)));
    next.sequences.push(seq);
    node = next;
  }
  node.ends.push(seq);
}

function buildBatch(examples: readonly TokenizedExample[], current: number[], rows: number, root: TrieNode | null): MicroBatch {
  const tokens = new Int32Array(rows);
  const positions = new Int32Array(rows);
  const sequences = new Int32Array(rows);
  const labels = new Int32Array(rows).fill(-1);
  let exampleTokens = 0;
  let at = 0;
  let targets = 0;
  let shared = false;
  const offsets: number[] = [0];
  const ids: number[] = [];
  const privateRows = (s: number, from: number) => {
    const e = examples[current[s]];
    exampleTokens += e.tokens.length;
    for (let i = from; i < e.tokens.length; i++, at++) {
      tokens[at] = e.tokens[i];
      positions[at] = i;
      sequences[at] = s;
      if (i + 1 < e.tokens.length && e.scored[i + 1]) {
        labels[at] = e.tokens[i + 1];
        targets++;
      }
      ids.push(s);
      offsets.push(ids.length);
    }
  };
  if (!root) {
    current.forEach((_, s) => privateRows(s, 0));
  } else {
    // Depth first: a node, the private rows of the examples whose shared prefix ends there, then
    // its subtrees; so each sequence meets its rows in position order, as llama.cpp requires.
    const visit = (node: TrieNode) => {
      if (node.depth >= 0) {
        tokens[at] = node.token;
        positions[at] = node.depth;
        sequences[at] = node.sequences[0];
        if (node.sequences.length > 1) shared = true;
        ids.push(...node.sequences);
        offsets.push(ids.length);
        at++;
      }
      for (const s of node.ends) privateRows(s, node.depth + 1);
      for (const child of node.children.values()) visit(child);
    };
    visit(root);
  }
  if (at !== rows) throw new MfnerError('ERR_INTERNAL', `packing produced ${at} rows, expected ${rows}`);
  const batch: MicroBatch = { tokens, positions, sequences, labels, targets, examples: current, exampleTokens };
  if (shared) {
    batch.sequenceOffsets = Int32Array.from(offsets);
    batch.sequenceIds = Int32Array.from(ids);
  }
  return batch;
}

/**
 * Packs examples in order into micro-batches of at most `contextSize` rows (first fit in order,
 * so a batch's examples stay together). An example longer than the context is an error here:
 * callers drop or truncate beforehand and say so.
 */
export function packExamples(examples: readonly TokenizedExample[], indices: readonly number[], contextSize: number, options: PackOptions = {}): MicroBatch[] {
  const maxSequences = options.maxSequences ?? 256;
  const share = options.sharePrefixes ?? false;
  const batches: MicroBatch[] = [];
  let current: number[] = [];
  let used = 0;
  let root: TrieNode | null = share ? newNode(-1, -1) : null;
  const flush = () => {
    if (!current.length) return;
    batches.push(buildBatch(examples, current, used, root));
    current = [];
    used = 0;
    root = share ? newNode(-1, -1) : null;
  };
  for (const ex of indices) {
    const e = examples[ex];
    const len = e.tokens.length;
    if (len > contextSize) throw new MfnerError('ERR_EXAMPLE_TOO_LONG', `example ${ex} has ${len} tokens, more than the training context (${contextSize})`);
    let added = root ? len - matchDepth(root, e) : len;
    if (used + added > contextSize || current.length >= maxSequences) {
      flush();
      added = len;
    }
    if (root) insert(root, e, current.length);
    current.push(ex);
    used += added;
  }
  flush();
  return batches;
}
