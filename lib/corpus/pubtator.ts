/**
 * PubTator: `PMID|t|title`, `PMID|a|abstract`, then `PMID<TAB>start<TAB>end<TAB>mention<TAB>type[<TAB>id]`
 * lines, a blank line between documents. The text is title + " " + abstract (PubTator's own
 * convention); offsets are code points into it. Relation lines (`PMID<TAB>CID<TAB>…`, four
 * columns, the second not a number) are not entities and are skipped; four columns that start
 * with two offsets are a mention without its type, an error.
 */
import path from 'node:path';
import { OffsetMap, type Span } from '../formats/entity.ts';
import { makeDocument, type CorpusDocument } from './document.ts';
import { CorpusError, guard, type LoadOptions } from './errors.ts';
import { readLines } from './lines.ts';

export interface PubtatorOptions extends LoadOptions {
  types?: readonly string[];
}

interface Pending {
  id: string;
  line: number;
  title?: string;
  abstract?: string;
  mentions: { line: number; start: number; end: number; mention: string; type: string }[];
  bad: boolean;
}

function finish(doc: Pending, file: string, options: PubtatorOptions): CorpusDocument {
  if (doc.title === undefined) throw new CorpusError({ file, line: doc.line }, `document ${doc.id} has no title line`);
  const text = doc.abstract === undefined ? doc.title : `${doc.title} ${doc.abstract}`;
  const map = new OffsetMap(text);
  const raw: { type: string; spans: Span[] }[] = [];
  for (const m of doc.mentions) {
    const entity = guard(options, () => {
      const at = { file, line: m.line };
      if (m.end <= m.start || m.end > map.codePointLength) {
        throw new CorpusError(at, `offsets ${m.start}-${m.end} outside the text or empty`);
      }
      const span = map.spanToJs([m.start, m.end]);
      if (text.slice(span[0], span[1]) !== m.mention) throw new CorpusError(at, 'offsets do not match the mention text');
      if (options.types && !options.types.includes(m.type)) {
        throw new CorpusError(at, `unknown entity type "${m.type}" (expected ${options.types.join(', ')})`);
      }
      return { type: m.type, spans: [span] };
    });
    if (entity) raw.push(entity);
  }
  return makeDocument(doc.id, text, raw);
}

export async function* readPubtator(file: string, options: PubtatorOptions = {}): AsyncGenerator<CorpusDocument> {
  const name = path.basename(file);
  let doc: Pending | undefined;
  const flush = () => {
    const d = doc;
    doc = undefined;
    if (!d || d.bad) return undefined;
    return guard(options, () => finish(d, name, options));
  };
  for await (const { line, text } of readLines(file)) {
    if (text.trim() === '') {
      const out = flush();
      if (out) yield out;
      continue;
    }
    const passage = /^([^|\t]+)\|([ta])\|(.*)$/.exec(text);
    const ok = guard(options, () => {
      if (passage) {
        const [, id, kind, body] = passage;
        if (doc && doc.id !== id) throw new CorpusError({ file: name, line }, 'new document without a blank line before it');
        doc ??= { id, line, mentions: [], bad: false };
        if (kind === 't') {
          if (doc.title !== undefined) throw new CorpusError({ file: name, line }, 'second title line');
          doc.title = body;
        } else {
          if (doc.abstract !== undefined) throw new CorpusError({ file: name, line }, 'second abstract line');
          doc.abstract = body;
        }
        return true;
      }
      const cols = text.split('\t');
      if (!doc || cols[0] !== doc.id) throw new CorpusError({ file: name, line }, 'annotation line outside its document');
      const offsets = cols.length >= 3 && /^\d+$/.test(cols[1]) && /^\d+$/.test(cols[2]);
      // A relation (`PMID<TAB>CID<TAB>id<TAB>id`) has a word where a mention has its start offset.
      if (cols.length === 4 && !offsets) return true;
      if (cols.length === 4) throw new CorpusError({ file: name, line }, 'mention without a type column');
      if (cols.length < 5 || !offsets) {
        throw new CorpusError({ file: name, line }, 'expected "PMID<TAB>start<TAB>end<TAB>mention<TAB>type"');
      }
      if (cols[4].trim() === '') throw new CorpusError({ file: name, line }, 'mention with an empty type column');
      doc.mentions.push({ line, start: Number(cols[1]), end: Number(cols[2]), mention: cols[3], type: cols[4] });
      return true;
    });
    // A broken passage line makes every offset of its document suspect: drop the document.
    if (!ok && doc && passage) doc.bad = true;
  }
  const out = flush();
  if (out) yield out;
}
