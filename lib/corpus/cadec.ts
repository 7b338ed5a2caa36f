/**
 * CADEC as distributed with the grid-tagging model: a JSON list of
 * `{"sentence": [tokens], "ner": [{"index": [token indices], "type": "ADR"}]}`.
 * Tokens are joined by single spaces; a non-contiguous index list is a discontinuous entity.
 * The file is small (≤ 1 MB), so it is parsed whole; records are checked one by one. A UTF-8
 * BOM is accepted; invalid JSON is reported at its line and column.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Span } from '../formats/entity.ts';
import { makeDocument, type CorpusDocument } from './document.ts';
import { CorpusError, guard, type LoadOptions } from './errors.ts';
import { findJsonSyntaxError } from './json-position.ts';
import { stripBom } from './lines.ts';

export interface CadecOptions extends LoadOptions {
  types?: readonly string[];
  idPrefix?: string;
}

/** Line of each top-level record's opening brace, so errors can point into the file. */
function recordLines(source: string): number[] {
  const lines: number[] = [];
  let depth = 0;
  let line = 1;
  let inString = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\n') line++;
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '[' || c === '{') {
      if (depth === 1 && c === '{') lines.push(line);
      depth++;
    } else if (c === ']' || c === '}') depth--;
  }
  return lines;
}

export function parseCadecRecord(
  record: unknown,
  recordIndex: number,
  id: string,
  file: string,
  line: number,
  types?: readonly string[],
): CorpusDocument {
  // The distributed files are one line each, so the record index is what locates a problem.
  const where = { file, line, annotation: `record ${recordIndex}` };
  if (typeof record !== 'object' || record === null) throw new CorpusError(where, 'record is not an object');
  const { sentence, ner } = record as { sentence?: unknown; ner?: unknown };
  if (!Array.isArray(sentence) || !sentence.every((t) => typeof t === 'string' && t.length > 0 && !/\s/u.test(t))) {
    throw new CorpusError(where, '"sentence" must be a list of non-empty tokens without whitespace');
  }
  if (!Array.isArray(ner)) throw new CorpusError(where, '"ner" must be a list');
  const starts: number[] = [];
  let offset = 0;
  for (const token of sentence as string[]) {
    starts.push(offset);
    offset += token.length + 1;
  }
  const text = (sentence as string[]).join(' ');
  const raw = ner.map((m: unknown, k: number) => {
    const at = { file, line, annotation: `record ${recordIndex}, ner[${k}]` };
    const { index, type } = (m ?? {}) as { index?: unknown; type?: unknown };
    if (typeof type !== 'string' || type === '') throw new CorpusError(at, 'missing entity type');
    if (types && !types.includes(type)) throw new CorpusError(at, `unknown entity type "${type}" (expected ${types.join(', ')})`);
    if (!Array.isArray(index) || index.length === 0) throw new CorpusError(at, '"index" must be a non-empty list');
    const spans: Span[] = index.map((i: unknown) => {
      if (!Number.isInteger(i) || (i as number) < 0 || (i as number) >= sentence.length) {
        throw new CorpusError(at, `token index ${String(i)} outside a sentence of ${sentence.length} tokens`);
      }
      const s = starts[i as number];
      return [s, s + (sentence[i as number] as string).length];
    });
    return { type, spans };
  });
  return makeDocument(id, text, raw);
}

export async function loadCadec(file: string, options: CadecOptions = {}): Promise<CorpusDocument[]> {
  const name = path.basename(file);
  const source = stripBom(await readFile(file, 'utf8'));
  let records: unknown;
  try {
    records = JSON.parse(source);
  } catch {
    // JSON.parse messages quote the offending text and vary by Node version: locate it ourselves.
    const at = findJsonSyntaxError(source);
    throw new CorpusError(
      at ? { file: name, line: at.line, column: at.column } : { file: name },
      at ? `invalid JSON (${at.reason})` : 'invalid JSON',
    );
  }
  if (!Array.isArray(records)) throw new CorpusError({ file: name, line: 1 }, 'expected a JSON list of records');
  const lines = recordLines(source);
  const prefix = options.idPrefix ?? `${name}#`;
  const docs: CorpusDocument[] = [];
  records.forEach((record, i) => {
    const doc = guard(options, () => parseCadecRecord(record, i, `${prefix}${i}`, name, lines[i] ?? 1, options.types));
    if (doc) docs.push(doc);
  });
  return docs;
}
