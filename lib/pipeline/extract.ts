/**
 * `extract`: documents in, entities out, batched across documents.
 *
 * Each document becomes requests (one prompt for multi_* formats, one per type for single_*,
 * one conversation per document for conv_term whose turns are asked one after the other);
 * requests of many documents are decoded together, several prompts per `generate` call.
 * Texts too long for the context are split into chunks (chunk.ts) and the entities found in
 * each chunk are mapped back to offsets in the full text. Results come out in input order.
 */
import { getFormat, sortEntities, type Entity, type Format, type FormatName, type ParseProblem } from '../formats/index.ts';
import { buildMessages, type PromptMessage } from '../prompt/index.ts';
import { getDataset } from '../corpus/registry.ts';
import { Model, MfnerError, type Context, type ChatMessage, type NativeConstraint } from '../native/index.ts';
import { splitText, type TextChunk } from './chunk.ts';
import { tokenizeChat } from './prompt-tokens.ts';
import { entityConfidences, type AnswerTokens } from './confidence.ts';
import { resolveConstraint, type ConstraintSpec, type EffectiveConstraint } from './constraint.ts';

/** A document: a bare string, or an object with its text and an optional id. */
export type ExtractInput = string | { id?: string | number; text: string };

export interface ExtractOptions {
  /** A loaded model (left open) or a GGUF path (loaded and disposed by `extract`). */
  model: Model | string;
  /** A LoRA adapter (GGUF) for the model. */
  adapter?: string;
  format: FormatName;
  /** Entity types to ask for, in the order conv_term asks them. Default: the dataset's labels. */
  types?: readonly string[];
  /** A registry dataset: its labels are the default types, its guideline name fills the prompt. */
  dataset?: string;
  /** The name in "Follow {name} guidelines" (default: the dataset's, else `the annotation`). */
  guideline?: string;
  /** `format` (default), `none`, or a GBNF grammar. See constraint.ts. */
  constraint?: ConstraintSpec;
  /**
   * With the format constraint: term, code and triple items in text order (decode/spec.ts
   * textOrder). Default false; evaluation turns it on for datasets without nested mentions.
   */
  textOrder?: boolean;
  /**
   * With the format constraint: entities start and end with a letter or digit (decode/spec.ts
   * alnumEdges). Default false; evaluation turns it on for datasets whose training mentions do.
   */
  alnumEdges?: boolean;
  /** Prompts decoded together in one batch (default 8). */
  batchSize?: number;
  /** Token window of one prompt plus its answer(s) (default min(model's, 2048)). */
  contextSize?: number;
  /** Token cap of one answer (default 256). */
  maxTokens?: number;
  threads?: number;
  /** A Jinja chat template for models without one (default {@link FALLBACK_CHAT_TEMPLATE}). */
  chatTemplate?: string;
  /** Keep each raw answer in the result (answers may quote the document). */
  keepAnswers?: boolean;
  /** Give each entity a confidence from the token probabilities (default true; see confidence.ts). */
  confidence?: boolean;
  signal?: AbortSignal;
  /** Called with notes for the user (never document text). */
  onNote?: (note: string) => void;
}

export interface ExtractAnswer {
  /** Which chunk of the text this answer is about (0 when the text was not split). */
  chunk: number;
  /** The types asked (one for single_* formats; all for multi_* and conv_term). */
  types: string[];
  problems: ParseProblem[];
  finishReason: string;
  /** The raw answer (conv_term: one per turn); only with `keepAnswers`. */
  text?: string | string[];
}

/** An entity with its confidence in (0, 1] (see confidence.ts); absent with `confidence: false`. */
export interface ExtractedEntity extends Entity {
  confidence?: number;
}

export interface ExtractedDocument {
  /** Position in the input (0-based). */
  index: number;
  id: string;
  /** JS string offsets into the document's full text, in text order. */
  entities: ExtractedEntity[];
  answers: ExtractAnswer[];
  /** Number of chunks the text was split into (1 when it fitted). */
  chunks: number;
  tokens: { prompt: number; generated: number };
  /** Set when the document could not be processed; entities are then empty. */
  error?: { code: string; message: string };
}

export interface ExtractSummary {
  constraint: EffectiveConstraint;
  notes: string[];
}

/**
 * For models without a chat template (stories260K): a plain, ChatML-like layout. Documented
 * in docs/pipeline.md; training on such a model must use the same template.
 */
export const FALLBACK_CHAT_TEMPLATE =
  "{%- for message in messages -%}{{- '<|' + message['role'] + '|>\\n' + message['content'] + '\\n' -}}{%- endfor -%}" +
  "{%- if add_generation_prompt -%}{{- '<|assistant|>\\n' -}}{%- endif -%}";

export const DEFAULT_GUIDELINE = 'the annotation';

interface DocState {
  index: number;
  id: string;
  text: string;
  chunks: TextChunk[];
  pending: number;
  entities: ExtractedEntity[];
  answers: ExtractAnswer[];
  tokens: { prompt: number; generated: number };
  error?: { code: string; message: string };
}

interface Request {
  doc: DocState;
  chunk: number;
  types: string[];
  /** conv_term: the user turns, and the answers so far. */
  turns?: PromptMessage[];
  answers?: string[];
  tokens: Int32Array;
  constraint: NativeConstraint | null;
  finishReasons?: string[];
  /** conv_term: each turn's tokens and log-probabilities so far. */
  turnTokens?: (AnswerTokens | undefined)[];
}

/** Resolves the types and guideline name from the options (and the dataset registry). */
export function resolveTask(options: Pick<ExtractOptions, 'types' | 'dataset' | 'guideline'>): { types: string[]; guideline: string } {
  const spec = options.dataset === undefined ? undefined : getDataset(options.dataset);
  const types = [...(options.types ?? spec?.labels ?? [])];
  if (types.length === 0) throw new MfnerError('ERR_INVALID_ARG', 'no entity types: pass types or a dataset');
  if (new Set(types).size !== types.length) throw new MfnerError('ERR_INVALID_ARG', 'entity types must be distinct');
  return { types, guideline: options.guideline ?? spec?.guidelineName ?? DEFAULT_GUIDELINE };
}

async function* toAsync(input: Iterable<ExtractInput> | AsyncIterable<ExtractInput>): AsyncGenerator<ExtractInput> {
  yield* input as AsyncIterable<ExtractInput>;
}

/**
 * Yields one {@link ExtractedDocument} per input document, in input order. A document that
 * cannot be processed yields a result with `error` (code and a message without its text);
 * only an abort or a broken model ends the generator with an exception.
 */
export async function* extract(
  input: Iterable<ExtractInput> | AsyncIterable<ExtractInput>,
  options: ExtractOptions,
  summary?: ExtractSummary,
): AsyncGenerator<ExtractedDocument> {
  // a string is iterable too, character by character: one document each, silently
  if (typeof input === 'string') throw new MfnerError('ERR_INVALID_ARG', 'extract takes an iterable of documents (strings or { id, text }), not a string: wrap one text as [text]');
  let format: Format;
  try {
    format = getFormat(options.format);
  } catch (err) {
    throw new MfnerError('ERR_INVALID_ARG', (err as Error).message);
  }
  const { types, guideline } = resolveTask(options);
  const batchSize = options.batchSize ?? 8;
  const maxTokens = options.maxTokens ?? 256;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new MfnerError('ERR_INVALID_ARG', 'batchSize must be a positive integer');
  if (!Number.isInteger(maxTokens) || maxTokens < 1) throw new MfnerError('ERR_INVALID_ARG', 'maxTokens must be a positive integer');

  const ownModel = typeof options.model === 'string';
  const model = typeof options.model === 'string' ? await Model.load(options.model) : options.model;
  let ctx: Context | undefined;
  try {
    const perSequence = options.contextSize ?? Math.min(model.metadata.contextLength || 2048, 2048);
    ctx = await model.createContext({ contextSize: perSequence * batchSize, sequences: batchSize, threads: options.threads });
    const totalCells = ctx.info.contextSize;
    if (options.adapter) await ctx.setAdapters([{ path: options.adapter }]);
    const constraint = resolveConstraint(model, options.format, options.constraint ?? 'format', { textOrder: options.textOrder, alnumEdges: options.alnumEdges });
    if (summary) summary.constraint = constraint.effective;
    if (constraint.note) {
      summary?.notes.push(constraint.note);
      options.onNote?.(constraint.note);
    }

    const template = model.metadata.chatTemplate ? undefined : (options.chatTemplate ?? FALLBACK_CHAT_TEMPLATE);
    const render = (messages: readonly ChatMessage[]) => model.renderChat(messages, { addGenerationPrompt: true, template });
    const tokenize = (prompt: string) => model.tokenize(prompt, { addSpecial: true, parseSpecial: true });
    const countText = (text: string) => model.tokenize(text, { addSpecial: false, parseSpecial: false }).length;
    const multiTurn = format.capabilities.multiTurn;
    const groups = format.capabilities.perType && !multiTurn ? types.map((t) => [t]) : [types];

    // Token budget for the document text: the window less the prompt around it and the answers.
    const overhead = Math.max(
      ...groups.map((g) => {
        const skeleton = chatFor(format, guideline, '', g, multiTurn ? g.map(() => '') : undefined);
        return tokenize(render(skeleton)).length;
      }),
    );
    const answersPerPrompt = multiTurn ? types.length : 1;
    const textBudget = perSequence - overhead - maxTokens * answersPerPrompt - 8;
    if (textBudget < 16) {
      throw new MfnerError(
        'ERR_CONTEXT_TOO_SMALL',
        `a ${perSequence}-token window leaves ${textBudget} tokens for the text after the prompt (${overhead}) and ${answersPerPrompt} answer(s) of ${maxTokens} tokens: raise contextSize or lower maxTokens`,
      );
    }

    const makeRequest = (doc: DocState, chunk: number, group: string[], answers?: string[]): Request => {
      const chunkText = doc.chunks[chunk].text;
      // The document text and earlier answers are tokenized as text (prompt-tokens.ts).
      const tokens = tokenizeChat(model, render, (v) => chatFor(format, guideline, v[0], group, answers ? v.slice(1) : undefined), [chunkText, ...(answers ?? [])]);
      const asked = multiTurn ? [group[answers?.length ?? 0]] : group;
      return { doc, chunk, types: group, answers, tokens, constraint: constraint.forRequest(chunkText, asked) };
    };

    const docs: DocState[] = [];
    const ready: Request[] = [];
    let nextIndex = 0;
    const iterator = toAsync(input)[Symbol.asyncIterator]();
    let inputDone = false;
    const maxInFlight = Math.max(4 * batchSize, 16);

    const finishDoc = (doc: DocState) => {
      // Chunks do not overlap, so nothing is found twice; only the order needs restoring.
      doc.entities = sortEntities(doc.entities);
      const order = (a: ExtractAnswer) => a.chunk * (types.length + 1) + types.indexOf(a.types[0]);
      doc.answers.sort((a, b) => order(a) - order(b));
    };

    const admit = (raw: ExtractInput) => {
      const index = nextIndex++;
      const doc: DocState = {
        index,
        id: String(index),
        text: '',
        chunks: [],
        pending: 0,
        entities: [],
        answers: [],
        tokens: { prompt: 0, generated: 0 },
      };
      docs.push(doc);
      const text = typeof raw === 'string' ? raw : raw?.text;
      if (typeof raw === 'object' && raw !== null && raw.id !== undefined) doc.id = String(raw.id);
      if (typeof text !== 'string') {
        doc.error = { code: 'invalid-document', message: 'the document has no text string' };
        return;
      }
      doc.text = text;
      if (text.trim() === '') return; // nothing to find
      doc.chunks = splitText(text, textBudget, countText);
      try {
        for (let c = 0; c < doc.chunks.length; c++) {
          for (const g of groups) {
            const req = makeRequest(doc, c, g, multiTurn ? [] : undefined);
            if (req.tokens.length + maxTokens * answersPerPrompt > perSequence) {
              throw new MfnerError('ERR_CONTEXT_OVERFLOW', `a prompt of ${req.tokens.length} tokens does not fit the ${perSequence}-token window`);
            }
            ready.push(req);
            doc.pending++;
          }
        }
      } catch (err) {
        failDoc(doc, err);
      }
    };

    const failDoc = (doc: DocState, err: unknown) => {
      const e = err as { code?: unknown; message?: unknown };
      doc.error = { code: typeof e.code === 'string' ? e.code : 'ERR_EXTRACT', message: typeof e.message === 'string' ? e.message : 'extraction failed' };
      doc.entities = [];
      // Drop its queued requests.
      for (let i = ready.length - 1; i >= 0; i--) if (ready[i].doc === doc) ready.splice(i, 1);
      doc.pending = 0;
    };

    const withConfidence = options.confidence ?? true;
    const complete = (r: Request, answer: string, finishReason: string, tokens?: AnswerTokens) => {
      const doc = r.doc;
      if (doc.error) return;
      const chunk = doc.chunks[r.chunk];
      if (multiTurn) {
        r.answers!.push(answer.trim());
        (r.finishReasons ??= []).push(finishReason);
        (r.turnTokens ??= []).push(tokens);
        if (r.answers!.length < r.types.length) {
          const next = makeRequest(doc, r.chunk, r.types, r.answers);
          next.finishReasons = r.finishReasons;
          next.turnTokens = r.turnTokens;
          if (next.tokens.length + maxTokens > perSequence) {
            failDoc(doc, new MfnerError('ERR_CONTEXT_OVERFLOW', `conversation turn ${r.answers!.length + 1} does not fit the ${perSequence}-token window`));
            return;
          }
          ready.unshift(next); // finish started conversations first: keeps memory bounded
          return;
        }
      }
      const parsed = format.parse(multiTurn ? r.answers! : answer, chunk.text, r.types);
      const scored: ExtractedEntity[] = parsed.entities.map((e) => ({ ...e }));
      if (withConfidence) {
        if (multiTurn) {
          // conv_term: turn k answers type k.
          r.types.forEach((type, k) => {
            const turn = r.turnTokens?.[k];
            const mine = scored.filter((e) => e.type === type);
            if (!turn) return;
            entityConfidences(format.name, turn, chunk.text, mine).forEach((c, i) => (mine[i].confidence = c));
          });
        } else if (tokens) {
          entityConfidences(format.name, tokens, chunk.text, scored).forEach((c, i) => (scored[i].confidence = c));
        }
      }
      for (const e of scored) doc.entities.push(shift(e, chunk.start));
      const a: ExtractAnswer = {
        chunk: r.chunk,
        types: r.types,
        problems: parsed.problems,
        finishReason: multiTurn ? worst(r.finishReasons ?? []) : finishReason,
      };
      if (options.keepAnswers) a.text = multiTurn ? [...r.answers!] : answer;
      doc.answers.push(a);
      doc.pending--;
      if (doc.pending === 0) finishDoc(doc);
    };

    const runBatch = async (batch: Request[]) => {
      const prompts = batch.map((r) => r.tokens);
      const constraints = batch.map((r) => r.constraint);
      const result = await ctx!.generate(prompts, {
        maxTokens,
        constraint: constraints.some((c) => c !== null) ? constraints : undefined,
        signal: options.signal,
        logprobs: withConfidence,
      });
      batch.forEach((r, i) => {
        const s = result.sequences[i];
        r.doc.tokens.prompt += r.tokens.length;
        r.doc.tokens.generated += s.tokens.length;
        const tokens = s.logprobs ? { text: s.text, pieces: model.tokenPieces(s.tokens, { special: false }), logprobs: s.logprobs } : undefined;
        complete(r, s.text, s.finishReason, tokens);
      });
    };

    while (true) {
      // Read ahead until a full batch is ready (bounded by maxInFlight documents).
      while (!inputDone && ready.length < batchSize && docs.length < maxInFlight) {
        const next = await iterator.next();
        if (next.done) {
          inputDone = true;
          break;
        }
        admit(next.value);
      }
      // Hand out finished documents in input order.
      while (docs.length > 0 && (docs[0].pending === 0 || docs[0].error)) {
        const doc = docs.shift()!;
        yield toResult(doc);
      }
      if (ready.length === 0) {
        if (inputDone && docs.length === 0) break;
        if (inputDone || docs.length >= maxInFlight) {
          // Cannot happen: an unfinished document always has a queued request.
          throw new MfnerError('ERR_INTERNAL', 'extraction stalled with unfinished documents');
        }
        continue;
      }
      // Pack prompts while they fit the shared KV cache.
      const batch: Request[] = [];
      let cells = 0;
      while (ready.length > 0 && batch.length < batchSize) {
        const need = ready[0].tokens.length + maxTokens;
        if (batch.length > 0 && cells + need > totalCells) break;
        cells += need;
        batch.push(ready.shift()!);
      }
      try {
        await runBatch(batch);
      } catch (err) {
        if ((err as MfnerError).code === 'ERR_ABORTED' || (err as MfnerError).code === 'ERR_DISPOSED') throw err;
        // Retry one by one so one bad prompt fails only its document.
        for (const r of batch) {
          if (r.doc.error) continue;
          try {
            await runBatch([r]);
          } catch (single) {
            if ((single as MfnerError).code === 'ERR_ABORTED') throw single;
            failDoc(r.doc, single);
          }
        }
      }
    }
  } finally {
    await ctx?.dispose();
    if (ownModel) await model.dispose();
  }
}

/** The chat for one request: user turn(s), and for conv_term the answers given so far. */
function chatFor(format: Format, guideline: string, text: string, types: string[], answers?: readonly string[]): ChatMessage[] {
  const users = buildMessages(format, guideline, text, types);
  if (!format.capabilities.multiTurn) return users.map(({ role, content }) => ({ role, content }));
  const out: ChatMessage[] = [];
  const turns = answers ? Math.min(answers.length + 1, users.length) : users.length;
  for (let i = 0; i < turns; i++) {
    out.push({ role: 'user', content: users[i].content });
    if (answers && i < answers.length) out.push({ role: 'assistant', content: answers[i] });
  }
  return out;
}

function shift(e: ExtractedEntity, by: number): ExtractedEntity {
  if (by === 0) return e;
  return { ...e, spans: e.spans.map(([s, t]) => [s + by, t + by] as [number, number]) };
}

function worst(reasons: string[]): string {
  return reasons.includes('aborted') ? 'aborted' : reasons.includes('length') ? 'length' : (reasons[0] ?? 'eog');
}

function toResult(doc: DocState): ExtractedDocument {
  const out: ExtractedDocument = {
    index: doc.index,
    id: doc.id,
    entities: doc.error ? [] : doc.entities,
    answers: doc.error ? [] : doc.answers,
    chunks: Math.max(doc.chunks.length, 1),
    tokens: doc.tokens,
  };
  if (doc.error) out.error = doc.error;
  return out;
}
