import { loadBinding } from './binding.ts';
import { Context, type ContextOptions } from './context.ts';
import { MfnerError, nativeCall, nativeCallSync } from './errors.ts';
import type { NativeChatMessage, NativeModel, NativeModelMetadata, NativeModelOptions, NativeWeightInfo } from './types.ts';

export type ChatMessage = NativeChatMessage;
export type ModelMetadata = NativeModelMetadata;
export type WeightInfo = NativeWeightInfo;

export interface LoadModelOptions extends NativeModelOptions {}

/**
 * A loaded GGUF model. Share one between many contexts. `dispose()` works as classic-level's
 * close: calls made before it (generations running or queued on its contexts) finish, calls
 * after it starts are refused with `ERR_DISPOSED`, then the model is freed.
 */
export class Model {
  readonly metadata: ModelMetadata;
  private readonly contexts = new Set<Context>();
  /** Set when dispose() starts: new calls are refused from then on. */
  private disposing: Promise<void> | undefined;
  private readonly adapterIds = new Map<string, number>();
  private spacePrefix: boolean | undefined;

  private constructor(
    /** @internal */ readonly native: NativeModel,
    readonly path: string,
  ) {
    this.metadata = native.metadata();
  }

  static async load(path: string, options: LoadModelOptions = {}): Promise<Model> {
    const binding = loadBinding();
    const native = nativeCallSync(() => new binding.Model(path, options));
    await nativeCall(() => native.load());
    return new Model(native, path);
  }

  tokenize(text: string, options: { addSpecial?: boolean; parseSpecial?: boolean } = {}): Int32Array {
    this.assertLive();
    return this.tokenizeLive(text, options);
  }

  /** @internal for contexts finishing work accepted before dispose() (the native model is still there). */
  tokenizeLive(text: string, options: { addSpecial?: boolean; parseSpecial?: boolean } = {}): Int32Array {
    const tokens = nativeCallSync(() => this.native.tokenize(text, options));
    // Chat templates often write BOS themselves; adding it again would double it.
    if (options.addSpecial && this.metadata.bosToken !== null && tokens.length > 1 && tokens[0] === this.metadata.bosToken && tokens[1] === this.metadata.bosToken) {
      return tokens.subarray(1);
    }
    return tokens;
  }

  /** Every weight tensor as loaded, with the buffer it lives in (a tied head loaded twice is listed twice). */
  weights(): WeightInfo[] {
    this.assertLive();
    return nativeCallSync(() => this.native.weights());
  }

  detokenize(tokens: Int32Array | readonly number[], options: { special?: boolean } = {}): string {
    this.assertLive();
    return nativeCallSync(() => this.native.detokenize(tokens, options));
  }

  /** Whether the tokenizer writes a word-start space before a text (SentencePiece does). */
  get addsSpacePrefix(): boolean {
    if (this.spacePrefix === undefined) {
      const ids = this.tokenizeLive('a');
      this.spacePrefix = ids.length > 0 && this.tokenPiecesLive(ids.subarray(0, 1), { special: false })[0].toString('utf8').startsWith(' ');
    }
    return this.spacePrefix;
  }

  /** Each token's raw bytes (a piece may hold part of a UTF-8 character). */
  tokenPieces(tokens: Int32Array | readonly number[], options: { special?: boolean } = {}): Buffer[] {
    this.assertLive();
    return this.tokenPiecesLive(tokens, options);
  }

  /** @internal see tokenizeLive */
  tokenPiecesLive(tokens: Int32Array | readonly number[], options: { special?: boolean } = {}): Buffer[] {
    return nativeCallSync(() => this.native.tokenPieces(tokens, options));
  }

  /** Renders a conversation with the model's own chat template (Jinja), or `options.template`. */
  /**
   * The text omits a leading BOS that the tokenizer adds itself: tokenize it with
   * `addSpecial: true, parseSpecial: true`. Templates that print a date get a fixed one
   * (`date`, default 26 Jul 2024) so prompts do not change from day to day.
   */
  renderChat(messages: readonly ChatMessage[], options: { addGenerationPrompt?: boolean; template?: string; date?: string } = {}): string {
    this.assertLive();
    return nativeCallSync(() => this.native.renderChat(messages, options));
  }

  /** @internal Loads a LoRA adapter once per path; contexts refer to it by id (also while disposing, for calls queued before). */
  adapterId(path: string): number {
    let id = this.adapterIds.get(path);
    if (id === undefined) {
      id = nativeCallSync(() => this.native.loadAdapter(path));
      this.adapterIds.set(path, id);
    }
    return id;
  }

  /**
   * Frees a LoRA adapter loaded for `path` once no live context applies it (dev evaluations load
   * a new adapter file each time; without this each would stay in memory until dispose).
   */
  releaseAdapter(path: string): void {
    this.assertLive();
    const id = this.adapterIds.get(path);
    if (id === undefined) return;
    for (const c of this.contexts) {
      if (c.appliesAdapter(path)) throw new MfnerError('ERR_BUSY', 'the adapter is applied by a live context; dispose it first');
    }
    nativeCallSync(() => this.native.unloadAdapter(id));
    this.adapterIds.delete(path);
  }

  async createContext(options: ContextOptions = {}): Promise<Context> {
    this.assertLive();
    const context = Context.create(this, options, () => this.contexts.delete(context));
    this.contexts.add(context);
    return context;
  }

  /**
   * Refuses new calls at once, disposes every context (each lets the generations queued before
   * finish), then frees the model. Calling it again returns the same promise.
   */
  dispose(): Promise<void> {
    if (this.disposing) return this.disposing;
    this.disposing = Promise.all([...this.contexts].map((c) => c.dispose())).then(() => {
      this.native.dispose();
    });
    return this.disposing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }

  get isDisposed(): boolean {
    return this.disposing !== undefined;
  }

  private assertLive(): void {
    if (this.isDisposed) throw new MfnerError('ERR_DISPOSED', 'model is disposed');
  }
}
