/**
 * JSONL documents, one per line: `{"id", "text", "entities": [{"type", "spans": [[s, e], …], "text"?}]}`.
 * Offsets are code points (the convention of every file mfner reads or writes); an entity
 * `text`, when present, must equal its fragments joined by a space.
 */
import path from 'node:path';
import { OffsetMap, spanText, type Span } from '../formats/entity.ts';
import { makeDocument, type CorpusDocument } from './document.ts';
import { CorpusError, guard, type LoadOptions } from './errors.ts';
import { findJsonSyntaxError } from './json-position.ts';
import { readLines } from './lines.ts';

export interface JsonlOptions extends LoadOptions {
  types?: readonly string[];
}

export function parseJsonlDocument(value: unknown, file: string, line: number, types?: readonly string[]): CorpusDocument {
  const where = { file, line };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new CorpusError(where, 'expected a JSON object');
  const { id, text, entities } = value as { id?: unknown; text?: unknown; entities?: unknown };
  if (typeof text !== 'string') throw new CorpusError(where, '"text" must be a string');
  if (id !== undefined && typeof id !== 'string' && typeof id !== 'number') throw new CorpusError(where, '"id" must be a string or number');
  if (entities !== undefined && !Array.isArray(entities)) throw new CorpusError(where, '"entities" must be a list');
  const map = new OffsetMap(text);
  const raw = ((entities as unknown[]) ?? []).map((e, k) => {
    const at = { file, line, annotation: `entities[${k}]` };
    const { type, spans, text: surface } = (e ?? {}) as { type?: unknown; spans?: unknown; text?: unknown };
    if (typeof type !== 'string' || type === '') throw new CorpusError(at, 'missing entity type');
    if (types && !types.includes(type)) throw new CorpusError(at, `unknown entity type "${type}" (expected ${types.join(', ')})`);
    if (!Array.isArray(spans) || spans.length === 0) throw new CorpusError(at, '"spans" must be a non-empty list of [start, end]');
    const js: Span[] = spans.map((s: unknown) => {
      if (!Array.isArray(s) || s.length !== 2 || !s.every((n) => Number.isInteger(n))) {
        throw new CorpusError(at, 'each span must be [start, end] with integer offsets');
      }
      const [a, b] = s as [number, number];
      if (a < 0 || b <= a || b > map.codePointLength) {
        throw new CorpusError(at, `span ${a}-${b} is empty, reversed or outside the text (${map.codePointLength} code points)`);
      }
      return map.spanToJs([a, b]);
    });
    if (surface !== undefined) {
      const inText = [...js].sort((x, y) => x[0] - y[0]);
      if (typeof surface !== 'string' || (spanText(text, inText).trim() !== surface.trim() && spanText(text, js).trim() !== surface.trim())) {
        throw new CorpusError(at, 'offsets do not match the entity text');
      }
    }
    return { type, spans: js };
  });
  return makeDocument(id === undefined ? `${file}:${line}` : String(id), text, raw);
}

export async function* readJsonl(file: string, options: JsonlOptions = {}): AsyncGenerator<CorpusDocument> {
  const name = path.basename(file);
  for await (const { line, text } of readLines(file)) {
    if (text.trim() === '') continue;
    const doc = guard(options, () => {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        const at = findJsonSyntaxError(text);
        throw new CorpusError(
          { file: name, line, ...(at ? { column: at.column } : {}) },
          at ? `invalid JSON (${at.reason})` : 'invalid JSON',
        );
      }
      return parseJsonlDocument(value, name, line, options.types);
    });
    if (doc) yield doc;
  }
}

export interface JsonlEntity {
  type: string;
  spans: Span[];
  text: string;
  nested?: boolean;
  discontinuous?: boolean;
}

/** A document as a JSONL-ready object with code-point offsets. */
export function documentToJson(doc: CorpusDocument): { id: string; text: string; entities: JsonlEntity[] } {
  const map = new OffsetMap(doc.text);
  return {
    id: doc.id,
    text: doc.text,
    entities: doc.entities.map((e) => ({
      type: e.type,
      spans: e.spans.map((s) => map.spanToCodePoints(s)),
      text: e.text,
      nested: e.nested,
      discontinuous: e.discontinuous,
    })),
  };
}
