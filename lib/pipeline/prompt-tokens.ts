/**
 * Prompt tokenization that treats documents as text.
 *
 * Chat prompts must be tokenized with special-token parsing (the template writes
 * `<|im_start|>` and friends as text), but a document, or an answer quoting it, may contain the
 * same strings literally. llama.cpp's special parsing first cuts the string at every special
 * token's text, then tokenizes each raw fragment on its own. This module does the same cut, but
 * only at special tokens the *template* wrote: it renders the chat with slot markers in place of
 * the untrusted pieces (document text, earlier answers), finds the control tokens in the
 * template's parts, cuts there, and tokenizes every raw fragment (untrusted text included)
 * without special parsing. For a document without special-token strings the tokens are exactly
 * those of tokenizing the whole prompt with special parsing (the training prompts), and that
 * path is taken directly.
 */
import type { ChatMessage, Model } from '../native/index.ts';

const SLOT = (i: number) => `\uE000mfner-slot-${i}\uE001`;
const SLOT_RE = /\uE000mfner-slot-(\d+)\uE001/gu;

export interface ChatPieces {
  /** Template parts and slot indices, alternating: parts[0], slots[0], parts[1], … */
  parts: string[];
  slots: number[];
}

/**
 * Tokenizes the prompt that `build(slotValues)` renders, treating every value of `untrusted`
 * as plain text. `build` is called twice: once with the real values, once with slot markers.
 */
export function tokenizeChat(
  model: Model,
  render: (messages: readonly ChatMessage[]) => string,
  build: (values: readonly string[]) => ChatMessage[],
  untrusted: readonly string[],
  /** @internal tests: take the cutting path even when no value holds a special-token string. */
  options: { force?: boolean } = {},
): Int32Array {
  const whole = render(build(untrusted));
  const special = (s: string) => model.tokenize(s, { addSpecial: true, parseSpecial: true });
  if (!options.force && !untrusted.some((u) => hasSpecialText(model, u))) return special(whole);
  // A value that already holds a marker (or a template that rewrites content) cannot be
  // located safely; special parsing of the whole prompt is the fallback (the old behaviour).
  if (untrusted.some((u) => u.includes('\uE000mfner-slot-'))) return special(whole);
  const marked = render(build(untrusted.map((_, i) => SLOT(i))));
  const pieces = splitSlots(marked);
  if (pieces.parts.length !== pieces.slots.length + 1 || joinPieces(pieces, untrusted) !== whole) return special(whole);
  return tokenizePieces(model, pieces, untrusted);
}

/** Whether special parsing would read a control token inside `text`. */
export function hasSpecialText(model: Model, text: string): boolean {
  if (text === '') return false;
  const a = model.tokenize(text, { addSpecial: false, parseSpecial: true });
  const b = model.tokenize(text, { addSpecial: false, parseSpecial: false });
  if (a.length !== b.length) return true;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return true;
  return false;
}

export function splitSlots(marked: string): ChatPieces {
  const parts: string[] = [];
  const slots: number[] = [];
  let last = 0;
  for (const m of marked.matchAll(SLOT_RE)) {
    parts.push(marked.slice(last, m.index));
    slots.push(Number(m[1]));
    last = m.index! + m[0].length;
  }
  parts.push(marked.slice(last));
  return { parts, slots };
}

function joinPieces(p: ChatPieces, values: readonly string[]): string {
  let out = p.parts[0];
  for (let i = 0; i < p.slots.length; i++) out += values[p.slots[i]] + p.parts[i + 1];
  return out;
}

/**
 * The control tokens the template parts hold, as (text, id): tokens whose piece is empty
 * without special rendering and not empty with it.
 */
function templateSpecials(model: Model, parts: readonly string[]): Map<string, number> {
  const found = new Map<string, number>();
  for (const part of parts) {
    if (part === '') continue;
    const ids = model.tokenize(part, { addSpecial: false, parseSpecial: true });
    const plain = model.tokenPieces(ids, { special: false });
    const shown = model.tokenPieces(ids, { special: true });
    ids.forEach((id, i) => {
      if (plain[i].length === 0 && shown[i].length > 0) found.set(shown[i].toString('utf8'), id);
    });
  }
  return found;
}

function tokenizePieces(model: Model, pieces: ChatPieces, values: readonly string[]): Int32Array {
  const specials = templateSpecials(model, pieces.parts);
  const names = [...specials.keys()].sort((a, b) => b.length - a.length);
  // Fragments in order: raw text (template and untrusted text joined) or a special token.
  const out: number[] = [];
  let raw = '';
  const flush = () => {
    if (raw !== '') out.push(...model.tokenize(raw, { addSpecial: false, parseSpecial: false }));
    raw = '';
  };
  pieces.parts.forEach((part, k) => {
    let i = 0;
    while (i < part.length) {
      const name = names.find((n) => part.startsWith(n, i));
      if (name === undefined) {
        raw += part[i++];
        continue;
      }
      flush();
      out.push(specials.get(name)!);
      i += name.length;
    }
    if (k < pieces.slots.length) raw += values[pieces.slots[k]];
  });
  flush();
  // BOS (and EOS where the vocabulary adds one) as tokenizing with addSpecial would.
  const framing = model.tokenize('', { addSpecial: true, parseSpecial: false });
  const bos = model.metadata.bosToken;
  const head = framing.length > 0 && framing[0] === bos ? [bos] : [];
  const tail = [...framing].slice(head.length);
  if (head.length > 0 && out[0] === bos) head.length = 0; // the template wrote BOS itself
  return Int32Array.from([...head, ...out, ...tail]);
}
