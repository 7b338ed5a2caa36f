/**
 * The contract every output format fulfils. Offsets in `Entity` are JS string indices;
 * offsets written inside answers count code points (see docs/formats.md).
 */
import type { Entity } from './entity.ts';

export type FormatName =
  | 'conv_term'
  | 'single_tag'
  | 'multi_tag'
  | 'single_code'
  | 'multi_code'
  | 'single_term'
  | 'multi_term'
  | 'single_span'
  | 'multi_span'
  | 'multi_triple'
  | 'multi_bio'
  | 'multi_brat';

/** In the paper's order. */
export const FORMAT_NAMES: readonly FormatName[] = Object.freeze([
  'conv_term',
  'single_tag',
  'multi_tag',
  'single_code',
  'multi_code',
  'single_term',
  'multi_term',
  'single_span',
  'multi_span',
  'multi_triple',
  'multi_bio',
  'multi_brat',
] as const);

export interface FormatCapabilities {
  /** Entities inside entities (and, except in the tag formats, crossing ones). */
  nested: boolean;
  /** Entities made of two or more fragments. */
  discontinuous: boolean;
  /** The answer carries positions (code-point offsets or token labels), not only texts. */
  offsets: boolean;
  /** One entity type per prompt (single_*) or per turn (conv_term). */
  perType: boolean;
  /** The answer is a list of assistant turns (conv_term). */
  multiTurn: boolean;
}

/**
 * Something parse noticed. `message` never quotes the document or the answer: only counts,
 * indices, offsets, kinds and type names, so problems are safe to log.
 */
export interface ParseProblem {
  kind: ProblemKind;
  message: string;
  /** Index of the offending item (list element, line, layer label, or conv_term turn). */
  item?: number;
  /** BRAT near miss, code points: [given start − true start, given end − true end]. */
  shift?: [number, number];
}

export type ProblemKind =
  | 'no-answer' // nothing answer-shaped was found
  | 'truncated' // the answer was cut off; the incomplete tail was dropped
  | 'malformed-item' // an item (list element, line, label) could not be read
  | 'unknown-type' // a type not among `types`; the item is dropped
  | 'ungrounded' // a predicted text was not found in the input (entity kept, spans: [])
  | 'repeated' // an item repeated more often than its text occurs (entity kept, spans: [])
  | 'invalid-offsets' // offsets outside the text or end <= start
  | 'offset-shift' // BRAT offsets off by a few characters; the found position is used
  | 'offset-mismatch' // BRAT text not found near its offsets; grounded by search instead
  | 'text-altered' // a tag/BIO answer does not reproduce the input text
  | 'unbalanced-tags' // tag markers that do not pair up
  | 'label-count' // multi_bio: more or fewer labels than tokens
  | 'bio-sequence' // multi_bio: an I- label that does not continue an entity
  | 'turn-count' // conv_term: fewer or more answers than types
  | 'types'; // wrong number of types for a single_* format

export interface ParseResult {
  entities: Entity[];
  problems: ParseProblem[];
}

export interface Format {
  readonly name: FormatName;
  readonly capabilities: FormatCapabilities;
  /** The text that fills `{format}` in {@link PROMPT_TEMPLATE}; names the type(s). */
  instruction(types: readonly string[]): string;
  /**
   * The target answer exactly as a trained model should produce it. conv_term returns one
   * answer per type, in the order of `types`. Throws {@link RenderError} for what the format
   * cannot express.
   */
  render(text: string, entities: readonly Entity[], types: readonly string[]): string | string[];
  /** Never throws. conv_term takes the list of answers (or one answer for one type). */
  parse(answer: string | readonly string[], text: string, types: readonly string[]): ParseResult;
  /** Cheap check: would `render` accept these entities (of any types) on this text? */
  canRender(text: string, entities: readonly Entity[]): boolean;
}

/** Thrown by `render` for what a format cannot express; the message names no document text. */
export class RenderError extends Error {
  constructor(
    readonly format: FormatName,
    message: string,
    /** Index of the offending entity in the caller's array, when one is to blame. */
    readonly entity?: number,
  ) {
    super(`${format}: ${message}`);
    this.name = 'RenderError';
  }
}
