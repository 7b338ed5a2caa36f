import { loadBinding } from './binding.ts';
import { MfnerError, nativeCall, nativeCallSync } from './errors.ts';
import type { Model } from './model.ts';
import { resolveThreads } from './threads.ts';
import type { FinishReason, JumpForward, NativeConstraint, NativeContext, NativeContextOptions, NativeGenerateResult } from './types.ts';

export interface ContextOptions extends NativeContextOptions {}

export type Prompt = string | Int32Array | readonly number[];

export interface GenerateOptions {
  maxTokens?: number;
  /** 0 (the default) is greedy; above 0 samples with `seed`. */
  temperature?: number;
  topK?: number;
  topP?: number;
  seed?: number;
  /** Keep generating past end-of-generation tokens (benchmarks). */
  ignoreEos?: boolean;
  /**
   * Also return each sampled token's log-probability, renormalised over the tokens the
   * constraint allows (before temperature): the basis for entity confidence.
   */
  logprobs?: boolean;
  /**
   * Text a format constraint forces (`Answer: `, JSON punctuation, copied input): `'verify'`
   * (default: fed as a draft, only tokens the sampler picks anyway are kept, so answers are
   * exactly those of `false`, in fewer decode calls), `true` / `'force'` (fed without sampling:
   * fewest calls, but the model is conditioned on our tokenization of forced text, which changes
   * the answers of a model fine-tuned on another one: a stories260K fine-tuned in the train CLI
   * test scored dev F1 0 under 'force' and 100 under 'verify'), `false`. GBNF grammars force
   * nothing.
   */
  jumpForward?: JumpForward;
  /**
   * Greedy decoding under a constraint: the constraint first judges only this many best logits
   * and takes the best allowed one, masking the whole vocabulary only when none of them is
   * allowed (default 16; 0: mask every step). The answers are the same either way (tested).
   */
  constraintCandidates?: number;
  /** For string prompts: add BOS as the model asks (default true). */
  addSpecial?: boolean;
  /** One constraint for every prompt, or one (or null) per prompt. */
  constraint?: NativeConstraint | null | readonly (NativeConstraint | null)[];
  signal?: AbortSignal;
}

export interface GeneratedSequence {
  tokens: Int32Array;
  /** Present when asked for: one per token. */
  logprobs?: Float32Array;
  text: string;
  finishReason: FinishReason;
}

export interface GenerateResult {
  sequences: GeneratedSequence[];
  timings: NativeGenerateResult['timings'];
}

/**
 * An inference context. Calls to `generate` run one at a time, in order; each decodes all of
 * its prompts together in one llama.cpp batch loop on a worker thread.
 */
export class Context {
  private tail: Promise<unknown> = Promise.resolve();
  private disposed = false;
  private disposing: Promise<void> | undefined;
  private adapterPaths: readonly string[] = [];

  private constructor(
    readonly model: Model,
    private readonly native: NativeContext,
    private readonly onDispose: () => void,
  ) {}

  /** @internal use Model.createContext */
  static create(model: Model, options: ContextOptions, onDispose: () => void): Context {
    const binding = loadBinding();
    const native = nativeCallSync(() => new binding.Context(model.native, { ...options, threads: resolveThreads(options.threads) }));
    return new Context(model, native, onDispose);
  }

  get info(): ReturnType<NativeContext['info']> {
    return this.native.info();
  }

  /** Applies LoRA adapters (GGUF files made for this model) to later generations. */
  setAdapters(adapters: readonly { path: string; scale?: number }[]): Promise<void> {
    // As generate: refused once dispose() started, run when queued before it.
    if (this.disposed) return Promise.reject(new MfnerError('ERR_DISPOSED', 'context is disposed'));
    const run = this.tail.then(() => {
      const list = adapters.map((a) => ({ id: this.model.adapterId(a.path), scale: a.scale ?? 1 }));
      nativeCallSync(() => this.native.setAdapters(list));
      this.adapterPaths = adapters.map((a) => a.path);
    });
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** @internal whether this live context applies the adapter loaded from `path`. */
  appliesAdapter(path: string): boolean {
    return !this.disposed && this.adapterPaths.includes(path);
  }

  /**
   * Queues a generation. Refused with `ERR_DISPOSED` once `dispose()` (of this context or its
   * model) has started; a call queued before it runs to the end. Bad options reject at once with
   * `ERR_INVALID_ARG` naming the option.
   */
  generate(prompts: readonly Prompt[], options: GenerateOptions = {}): Promise<GenerateResult> {
    if (this.disposed) return Promise.reject(new MfnerError('ERR_DISPOSED', 'context is disposed'));
    try {
      checkGenerateOptions(options);
    } catch (err) {
      return Promise.reject(err);
    }
    const run = this.tail.then(() => this.run(prompts, options));
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async run(prompts: readonly Prompt[], options: GenerateOptions): Promise<GenerateResult> {
    const { signal } = options;
    // No disposed check here: dispose() waits for calls queued before it (and the model's
    // *Live methods do not check either: the native model is freed only after this settles).
    if (signal?.aborted) throw new MfnerError('ERR_ABORTED', 'generation aborted before it started');
    const tokenized = prompts.map((p) => this.toTokens(p, options.addSpecial ?? true));
    const constraints = expandConstraints(options.constraint, prompts.length);
    const nativeOptions = {
      maxTokens: options.maxTokens ?? 256,
      temperature: options.temperature ?? 0,
      topK: options.topK ?? 0,
      topP: options.topP ?? 1,
      seed: options.seed ?? 0,
      ignoreEos: options.ignoreEos ?? false,
      logprobs: options.logprobs ?? false,
      jumpForward: options.jumpForward ?? 'verify',
      candidates: options.constraintCandidates ?? 16,
    };
    const onAbort = () => this.native.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    let result: NativeGenerateResult;
    try {
      result = await nativeCall(() => this.native.generate(tokenized, nativeOptions, constraints));
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    const sequences = result.sequences.map((s, i) => ({
      tokens: s.tokens,
      ...(s.logprobs ? { logprobs: s.logprobs } : {}),
      finishReason: s.finishReason,
      text: this.continuation(tokenized[i], s.tokens),
    }));
    if (result.aborted) {
      const err = new MfnerError('ERR_ABORTED', 'generation aborted');
      (err as MfnerError & { partial?: GenerateResult }).partial = { sequences, timings: result.timings };
      throw err;
    }
    return { sequences, timings: result.timings };
  }

  /**
   * The text the generated tokens add to the prompt: their raw bytes, exactly as sampled.
   * (llama_detokenize would "clean" spaces, e.g. Llama-3 turns " ." into ".", which moves
   * offsets.) At the very start of a text, SentencePiece's word-start space is dropped, as
   * every SentencePiece decoder does.
   */
  private continuation(prompt: Int32Array, generated: Int32Array): string {
    const text = Buffer.concat(this.model.tokenPiecesLive(generated, { special: false })).toString('utf8');
    const bos = this.model.metadata.bosToken;
    const atStart = prompt.length === 0 || (prompt.length === 1 && prompt[0] === bos);
    return atStart && text.startsWith(' ') && this.model.addsSpacePrefix ? text.slice(1) : text;
  }

  private toTokens(prompt: Prompt, addSpecial: boolean): Int32Array {
    if (typeof prompt === 'string') {
      return prompt.length === 0 ? new Int32Array(0) : this.model.tokenizeLive(prompt, { addSpecial, parseSpecial: true });
    }
    if (prompt instanceof Int32Array) return prompt;
    if (!Array.isArray(prompt)) throw new MfnerError('ERR_INVALID_ARG', 'a prompt must be a string, an Int32Array or an array of token ids');
    for (const [i, t] of prompt.entries()) {
      if (!Number.isInteger(t) || t < -0x80000000 || t > 0x7fffffff) throw new MfnerError('ERR_INVALID_TOKEN', `token at index ${i} is not a 32-bit integer`);
    }
    return Int32Array.from(prompt);
  }

  /** Waits for queued and in-flight generations to finish, then frees the native context. */
  dispose(): Promise<void> {
    if (this.disposing) return this.disposing;
    this.disposed = true;
    this.disposing = this.tail.then(() => {
      this.native.dispose();
      this.onDispose();
    });
    return this.disposing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}

function invalid(option: string, rule: string): never {
  throw new MfnerError('ERR_INVALID_ARG', `option ${option} must be ${rule}`);
}

/** The numeric and flag options of generate, checked as the CLI checks its flags. */
export function checkGenerateOptions(o: GenerateOptions): void {
  if (o === null || typeof o !== 'object') throw new MfnerError('ERR_INVALID_ARG', 'generate options must be an object');
  const num = (v: unknown) => typeof v === 'number';
  if (o.maxTokens !== undefined && !(Number.isInteger(o.maxTokens) && o.maxTokens >= 1)) invalid('maxTokens', 'an integer >= 1 (and at most the context size)');
  if (o.temperature !== undefined && !(num(o.temperature) && Number.isFinite(o.temperature) && o.temperature >= 0)) invalid('temperature', 'a finite number >= 0 (0: greedy)');
  if (o.topK !== undefined && !(Number.isInteger(o.topK) && o.topK >= 0 && o.topK <= 0x7fffffff)) invalid('topK', 'an integer >= 0 (0: no cut)');
  if (o.topP !== undefined && !(num(o.topP) && o.topP > 0 && o.topP <= 1)) invalid('topP', 'a number in (0, 1]');
  if (o.constraintCandidates !== undefined && !(Number.isInteger(o.constraintCandidates) && o.constraintCandidates >= 0 && o.constraintCandidates <= 1024)) invalid('constraintCandidates', 'an integer in 0..1024 (0: mask every token)');
  if (o.seed !== undefined && !(Number.isInteger(o.seed) && o.seed >= 0 && o.seed <= 0xffffffff)) invalid('seed', 'an integer in 0..2^32-1');
  for (const flag of ['ignoreEos', 'logprobs', 'addSpecial'] as const) {
    if (o[flag] !== undefined && typeof o[flag] !== 'boolean') invalid(flag, 'a boolean');
  }
  if (o.jumpForward !== undefined && ![true, false, 'force', 'verify'].includes(o.jumpForward as never)) invalid('jumpForward', "true, false, 'force' or 'verify'");
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) invalid('signal', 'an AbortSignal');
}

function expandConstraints(c: GenerateOptions['constraint'], n: number): (NativeConstraint | null)[] | undefined {
  if (c === undefined || c === null) return undefined;
  if (Array.isArray(c)) {
    if (c.length !== n) throw new MfnerError('ERR_INVALID_ARG', `constraint list has ${c.length} entries for ${n} prompts`);
    return c.map((x) => x ?? null);
  }
  return Array.from({ length: n }, () => c as NativeConstraint);
}
