/**
 * IOB/CoNLL TSV: one `token<TAB>tag` per line (extra middle columns ignored, the tag is last),
 * a blank line between sentences, `-DOCSTART-` lines ignored. The text is the tokens joined by
 * single spaces, as the paper's texts are.
 *
 * Tags: IOB2 (`B-`, `I-`, `O`), plus IOB1 and BIOES/BILOU. Repairs, all documented in
 * docs/corpora.md: an `I-X` that does not continue an `X` entity starts one (which is exactly how
 * IOB1 is read); an `E-X`/`L-X` that does not continue an `X` entity is a one-token entity.
 */
import path from 'node:path';
import type { Span } from '../formats/entity.ts';
import { makeDocument, type CorpusDocument } from './document.ts';
import { CorpusError, guard, type LoadOptions } from './errors.ts';
import { readLines } from './lines.ts';

export interface IobOptions extends LoadOptions {
  /** Allowed entity types; a tag with another type is an error. */
  types?: readonly string[];
  /** Document ids are `${idPrefix}${sentence index}`; default: the file name and `#`. */
  idPrefix?: string;
}

interface TaggedToken {
  token: string;
  tag: string;
  line: number;
}

const TAG = /^([BIESLU])-(.+)$/;

/** Turns one sentence's tags into character spans on the space-joined text. */
export function decodeTags(
  tokens: readonly TaggedToken[],
  file: string,
  types?: readonly string[],
): { text: string; entities: { type: string; spans: Span[] }[] } {
  const entities: { type: string; spans: Span[] }[] = [];
  let text = '';
  let open: { type: string; start: number; end: number } | undefined;
  const close = () => {
    if (open) entities.push({ type: open.type, spans: [[open.start, open.end]] });
    open = undefined;
  };
  for (const { token, tag, line } of tokens) {
    if (text.length > 0) text += ' ';
    const start = text.length;
    text += token;
    const end = text.length;
    if (tag === 'O') {
      close();
      continue;
    }
    const m = TAG.exec(tag);
    if (!m) throw new CorpusError({ file, line }, `unknown tag "${tag}" (expected O, B-, I-, E-, S-, L- or U-)`);
    const [, prefix, type] = m;
    if (types && !types.includes(type)) {
      throw new CorpusError({ file, line }, `unknown entity type "${type}" (expected ${types.join(', ')})`);
    }
    const continues = open !== undefined && open.type === type;
    switch (prefix) {
      case 'B':
        close();
        open = { type, start, end };
        break;
      case 'I':
        if (continues) open!.end = end;
        else {
          close();
          open = { type, start, end };
        }
        break;
      case 'E':
      case 'L':
        if (continues) open!.end = end;
        else {
          close();
          open = { type, start, end };
        }
        close();
        break;
      default: // S, U
        close();
        open = { type, start, end };
        close();
    }
  }
  close();
  return { text, entities };
}

/** Streams the sentences of one IOB file as documents. */
export async function* readIob(file: string, options: IobOptions = {}): AsyncGenerator<CorpusDocument> {
  const name = path.basename(file);
  const idPrefix = options.idPrefix ?? `${name}#`;
  let tokens: TaggedToken[] = [];
  let index = 0;
  let valid = true;
  const flush = (): CorpusDocument | undefined => {
    const sentence = tokens;
    const ok = valid;
    tokens = [];
    valid = true;
    if (sentence.length === 0 && ok) return undefined;
    // Ids count every sentence, skipped or not, so they stay stable across strict and lenient loads.
    const id = `${idPrefix}${index++}`;
    if (!ok) return undefined;
    return guard(options, () => {
      const { text, entities } = decodeTags(sentence, name, options.types);
      return makeDocument(id, text, entities);
    });
  };
  for await (const { line, text } of readLines(file)) {
    // Blank: nothing but spaces. A line with a tab is a token line, checked below (a tab alone
    // is an empty token and tag, not a sentence break).
    if (text.trim() === '' && !text.includes('\t')) {
      const doc = flush();
      if (doc) yield doc;
      continue;
    }
    if (text.startsWith('-DOCSTART-')) continue;
    const cols = text.split('\t');
    const token = cols[0];
    const tag = cols[cols.length - 1].trim();
    const parsed = guard(options, () => {
      if (cols.length < 2) throw new CorpusError({ file: name, line }, 'expected "token<TAB>tag"');
      if (token.length === 0 || /\s/u.test(token)) {
        throw new CorpusError({ file: name, line }, 'empty token or token containing whitespace');
      }
      if (tag === '') throw new CorpusError({ file: name, line }, 'empty tag');
      return { token, tag, line };
    });
    // A bad line invalidates its whole sentence: offsets after it would be wrong.
    if (parsed) tokens.push(parsed);
    else valid = false;
  }
  const doc = flush();
  if (doc) yield doc;
}
