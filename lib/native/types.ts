/**
 * The whole native surface of build/Release/mfner.node, typed in one place.
 * Everything else in lib/native wraps these with friendlier, safer TypeScript classes.
 */

export interface NativeModelOptions {
  gpuLayers?: number;
  vocabOnly?: boolean;
  useMmap?: boolean;
  /**
   * Load a tied output head as the token-embedding tensor itself, even when the output layer is
   * offloaded and the embedding is not (llama.cpp would load a second copy on the GPU). Full
   * fine-tuning needs it: one tensor, one gradient. Costs the head's GPU copy (patch 0010).
   */
  shareTiedOutput?: boolean;
  /**
   * Let llama.cpp repack weights into its CPU_REPACK buffers (interleaved Q4_0, Q4_K, IQ4_NL...
   * for faster forward matmuls; default true). Those buffers serve only the forward matmul and
   * cannot be read back, so loads for training turn it off (`LORA_TRAINING_LOAD`).
   */
  repack?: boolean;
  /**
   * Load F16 and BF16 weights as F32 (patch 0013): full fine-tuning keeps F32 master weights.
   * Costs 4 bytes per parameter of RAM instead of 2 (a 0.5B model: ~2 GB instead of ~1 GB), on
   * top of full fine-tuning's F32 gradients and AdamW moments. Needs `useMmap: false`.
   */
  upcastF32?: boolean;
}

/** One weight tensor as loaded; `buffer` names where it lives (CPU, CUDA0, CUDA_Host, CPU_REPACK). */
export interface NativeWeightInfo {
  name: string;
  type: string;
  buffer: string | null;
}

export interface NativeModelMetadata {
  architecture: string | null;
  name: string | null;
  description: string;
  parameterCount: number;
  sizeBytes: number;
  vocabularySize: number;
  contextLength: number;
  embeddingLength: number;
  layerCount: number;
  chatTemplate: string | null;
  bosToken: number | null;
  eosToken: number | null;
  eotToken: number | null;
  addBos: boolean;
}

export interface NativeChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface NativeModel {
  load(): Promise<NativeModel>;
  metadata(): NativeModelMetadata;
  weights(): NativeWeightInfo[];
  tokenize(text: string, options?: { addSpecial?: boolean; parseSpecial?: boolean }): Int32Array;
  detokenize(tokens: Int32Array | readonly number[], options?: { special?: boolean }): string;
  tokenPieces(tokens: Int32Array | readonly number[], options?: { special?: boolean }): Buffer[];
  renderChat(messages: readonly NativeChatMessage[], options?: { addGenerationPrompt?: boolean; template?: string; date?: string }): string;
  loadAdapter(path: string): number;
  unloadAdapter(id: number): void;
  dispose(): void;
}

export interface NativeContextOptions {
  contextSize?: number;
  batchSize?: number;
  microBatchSize?: number;
  sequences?: number;
  /** CPU threads (default: defaultThreads()); more than the CPUs here are capped at their count (resolveThreads). */
  threads?: number;
}

export interface NativeGenerateOptions {
  maxTokens?: number;
  temperature?: number;
  topK?: number;
  topP?: number;
  seed?: number;
  ignoreEos?: boolean;
  logprobs?: boolean;
  jumpForward?: JumpForward;
  /** Greedy constrained rows: the k best logits are judged first (0: every token); see GenerateOptions.constraintCandidates. */
  candidates?: number;
}

/**
 * Jump-forward over text a format constraint forces (docs/decoding.md): `true`/`'force'` feeds
 * its tokens without sampling (logprob 0), `'verify'` feeds them as a draft and keeps only those
 * the sampler picks anyway (the same tokens as `false`), `false` samples every token.
 */
export type JumpForward = boolean | 'force' | 'verify';

export type FinishReason = 'eog' | 'length' | 'aborted';

export interface NativeGenerateResult {
  sequences: { tokens: Int32Array; logprobs?: Float32Array; finishReason: FinishReason }[];
  timings: {
    promptTokens: number;
    promptMs: number;
    generatedTokens: number;
    generateMs: number;
    decodeCalls: number;
    /** Tokens of the answers that got no sampling step of their own (jump-forward). */
    forcedTokens: number;
    /** Constrained tokens for which the constraint judged the whole vocabulary (see constraintCandidates). */
    fullMasks: number;
    /** Verify: draft tokens fed but not kept (the sampler picked another token). */
    draftRejected: number;
  };
  aborted: boolean;
}

export interface NativeContext {
  generate(prompts: Int32Array[], options: NativeGenerateOptions, constraints?: (NativeConstraint | null)[]): Promise<NativeGenerateResult>;
  abort(): void;
  setAdapters(adapters: { id: number; scale: number }[]): void;
  dispose(): void;
  info(): Required<NativeContextOptions> & { disposed: boolean };
}

/** Any native object that carries a per-sequence constraint (GBNF grammar, format constraint). */
export interface NativeConstraint {
  readonly __mfnerConstraint: unknown;
}

export interface NativeGrammar extends NativeConstraint {
  readonly source: string;
}

/** A model's vocabulary as a byte trie (lib/decode builds one per model and caches it). */
export interface NativeTokenTrie {
  info(): { nodes: number; tokens: number; eog: number[]; maxDepth: number; buildMs: number };
}

/** The native spec of a format constraint; lib/decode/spec.ts builds it per format and input. */
export type NativeConstraintSpec = Record<string, unknown> & { kind: 'list' | 'bio' | 'tag' };

export interface NativeFormatConstraint extends NativeConstraint {
  /** Tokens allowed after `tokens` (EOG included where the answer may end); null if `tokens` do not fit. */
  allowed(tokens: Int32Array): Int32Array | null;
  /**
   * After `tokens` (null if they do not fit): the bytes every valid continuation starts with, the
   * tokens jump-forward feeds for them, and whether only end-of-generation may follow.
   */
  forced(tokens: Int32Array): { bytes: Buffer; tokens: Int32Array; end: boolean } | null;
  info(): { buildMs: number };
}

export interface NativeMakeModelSpec {
  architecture: 'qwen2' | 'llama';
  name?: string;
  vocabPath: string;
  chatTemplate?: string;
  out: string;
  nEmbd: number;
  nLayer: number;
  nHead: number;
  nHeadKv: number;
  nFf: number;
  nCtx: number;
  ropeTheta?: number;
  rmsEps?: number;
  qkvBias?: boolean;
  tiedEmbeddings?: boolean;
  /** A ggml tensor type by name (f32, f16, bf16, q8_0, q4_0, q4_K, q6_K, iq4_nl...) for the matrices. */
  weightType?: string;
  seed?: number;
}

export interface NativeBinding {
  Model: new (path: string, options?: NativeModelOptions) => NativeModel;
  Context: new (model: NativeModel, options?: NativeContextOptions) => NativeContext;
  Grammar: new (model: NativeModel, gbnf: string, options?: { root?: string }) => NativeGrammar;
  TokenTrie: new (model: NativeModel) => NativeTokenTrie;
  FormatConstraint: new (trie: NativeTokenTrie, spec: NativeConstraintSpec) => NativeFormatConstraint;
  /** The tokens a constraint's sampler leaves after accepting `tokens` (null: llama.cpp's grammar rejected one). */
  constraintMask(model: NativeModel, constraint: NativeConstraint, tokens: Int32Array): Int32Array | null;
  /** Microseconds of one full-vocabulary apply before each token of `tokens`. */
  constraintBench(model: NativeModel, constraint: NativeConstraint, tokens: Int32Array): Float64Array;
  /** llama.cpp's quantizer: `type` is a file type by llama-quantize's name (q8_0, q4_k_m, f16, f32...). */
  quantizeModel(spec: { input: string; output: string; type: string; threads?: number; pure?: boolean }): Promise<{ type: string; inputBytes: number; outputBytes: number }>;
  makeModel(spec: NativeMakeModelSpec): Promise<{ path: string; parameterCount: number; tensorCount: number; dataBytes: number }>;
  /** Test hook: ggml_out_prod(a, b) on the CPU backend (b transposed first with transposeB); shapes are ggml's [ne0, ne1, ne2, ne3]. */
  outProduct(a: Float32Array, aShape: number[], b: Float32Array, bShape: number[], options?: { transposeB?: boolean; threads?: number; repeat?: number; aType?: string }): Float32Array;
  /** Test hook: `values` stored as ggml `type` in rows of `rowLength` and read back as F32. */
  roundTrip(values: Float32Array, type: string, rowLength: number): Float32Array;
  /** Every ggml type a model tensor can hold, with its block size (values per block). */
  tensorTypes(): { name: string; blockSize: number }[];
  /** Test hook: ggml_mul_mat(a, b) on the CPU backend ([k,n] x [k,m] -> [n,m]); `repeat` reruns the op for timing. */
  mulMat(a: Float32Array, aShape: number[], b: Float32Array, bShape: number[], options?: { threads?: number; repeat?: number; aType?: string; aWeight?: boolean }): Float32Array;
  /** Test hook: ggml_cross_entropy_loss on the CPU backend, -sum(labels * log_softmax(logits)) / rows (rows of shape[0] classes). */
  crossEntropy(logits: Float32Array, labels: Float32Array, shape: number[], options?: { threads?: number }): number;
  systemInfo(): { cuda: boolean; gpuOffload: boolean; mmap: boolean; system: string };
  setLogLevel(level: 'debug' | 'info' | 'warn' | 'error' | 'none'): void;
}
