/**
 * BRAT standoff: `name.txt` holds the text, `name.ann` one annotation per line. Only `T` lines
 * are entities (`T3<TAB>Type s e;s e<TAB>text`, fragments in any order, code-point offsets);
 * relations, events, attributes, normalisations and notes are skipped without error. The text
 * field must equal the fragments' slices joined by a space, ignoring surrounding whitespace
 * (PGxCorpus writes a trailing space on many lines). `T` ids are unique within a file. A BOM
 * of the `.ann` is dropped; one of the `.txt` is kept, since it is character 0 of the text the
 * offsets count.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { OffsetMap, type Span } from '../formats/entity.ts';
import { makeDocument, type CorpusDocument } from './document.ts';
import { CorpusError, guard, type LoadOptions } from './errors.ts';
import { stripBom } from './lines.ts';

export interface BratOptions extends LoadOptions {
  types?: readonly string[];
}

const NOT_ENTITIES = new Set(['R', 'E', 'A', 'M', 'N', '#', '*']);

function parseFragments(field: string, map: OffsetMap, at: { file: string; line: number; annotation: string }): Span[] {
  return field.split(';').map((frag) => {
    const m = /^\s*(\d+)\s+(\d+)\s*$/.exec(frag);
    if (!m) throw new CorpusError(at, 'expected "start end" fragments separated by ";"');
    const [s, e] = [Number(m[1]), Number(m[2])];
    if (e <= s) throw new CorpusError(at, `fragment ${s}-${e} is empty or reversed`);
    if (e > map.codePointLength) {
      throw new CorpusError(at, `fragment ${s}-${e} ends after the text (${map.codePointLength} code points)`);
    }
    return map.spanToJs([s, e]);
  });
}

/** Parses one `.ann` file against its text. */
export function parseBrat(text: string, ann: string, annFile: string, id: string, options: BratOptions = {}): CorpusDocument {
  const map = new OffsetMap(text);
  const raw: { type: string; spans: Span[] }[] = [];
  const ids = new Map<string, number>();
  stripBom(ann).split(/\r?\n/).forEach((lineText, i) => {
    const line = i + 1;
    if (lineText.trim() === '' || NOT_ENTITIES.has(lineText[0])) return;
    const entity = guard(options, () => {
      if (lineText[0] !== 'T') throw new CorpusError({ file: annFile, line }, 'unknown annotation kind');
      const cols = lineText.split('\t');
      // Only the id: a line without tabs would otherwise carry its text into the message.
      const annotation = /^\S+/.exec(lineText)![0];
      const at = { file: annFile, line, annotation };
      const first = ids.get(annotation);
      if (first !== undefined) throw new CorpusError(at, `duplicate annotation id (first on line ${first})`);
      // Claimed even when the line proves malformed: a later line with the same id is still a duplicate.
      ids.set(annotation, line);
      if (cols.length < 3) throw new CorpusError(at, 'expected "T<id><TAB>Type offsets<TAB>text"');
      const head = /^(\S+)\s+(.+)$/.exec(cols[1]);
      if (!head) throw new CorpusError(at, 'expected a type followed by offsets');
      const type = head[1];
      if (options.types && !options.types.includes(type)) {
        throw new CorpusError(at, `unknown entity type "${type}" (expected ${options.types.join(', ')})`);
      }
      const spans = parseFragments(head[2], map, at);
      const expected = cols.slice(2).join('\t').trim();
      const slices = spans.map(([s, e]) => text.slice(s, e));
      const inTextOrder = [...spans].sort((a, b) => a[0] - b[0]).map(([s, e]) => text.slice(s, e));
      if (slices.join(' ').trim() !== expected && inTextOrder.join(' ').trim() !== expected) {
        throw new CorpusError(at, 'offsets do not match the annotation text');
      }
      return { type, spans };
    });
    if (entity) raw.push(entity);
  });
  return makeDocument(id, text, raw);
}

/** Loads `<base>.txt` + `<base>.ann`; a single trailing newline of the text is not part of it. */
export async function loadBratDocument(txtFile: string, options: BratOptions = {}): Promise<CorpusDocument> {
  const base = txtFile.replace(/\.txt$/, '');
  const annFile = `${base}.ann`;
  let text = await readFile(txtFile, 'utf8');
  if (text.endsWith('\n')) text = text.slice(0, text.endsWith('\r\n') ? -2 : -1);
  const ann = await readFile(annFile, 'utf8');
  return parseBrat(text, ann, path.basename(annFile), path.basename(base), options);
}
