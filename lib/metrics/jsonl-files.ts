/**
 * The `mfner score` inputs: JSONL with code-point offsets, one document per line,
 * `{"id", "text", "entities": [{"type", "spans": [[s, e], …], "text"?, "grounded"?}]}`.
 * Prediction lines need no `text` (the gold text is used to convert offsets); a predicted
 * entity with `"spans": []` is an ungrounded mention and must carry its `text`.
 * Errors name the file, line and field, never document text.
 */
import { readFileSync } from 'node:fs';
import { OffsetMap, makeEntity, type Entity, type Span } from '../formats/entity.ts';
import type { GoldDocument, PredictedDocument } from './types.ts';

interface RawEntity {
  type: string;
  spans: Span[];
  text?: string;
  grounded?: boolean;
}

interface RawLine {
  id: string;
  text?: string;
  entities: RawEntity[];
  where: string;
}

function parseLines(file: string, needText: boolean): RawLine[] {
  const out: RawLine[] = [];
  readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const where = `${file}:${i + 1}`;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      throw new Error(`${where}: invalid JSON`);
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${where}: expected a JSON object`);
    const o = v as Record<string, unknown>;
    if (typeof o.id !== 'string' && typeof o.id !== 'number') throw new Error(`${where}: "id" must be a string or number`);
    if (needText && typeof o.text !== 'string') throw new Error(`${where}: "text" must be a string`);
    if (o.text !== undefined && typeof o.text !== 'string') throw new Error(`${where}: "text" must be a string`);
    const entities = o.entities ?? [];
    if (!Array.isArray(entities)) throw new Error(`${where}: "entities" must be a list`);
    out.push({
      id: String(o.id),
      text: o.text as string | undefined,
      where,
      entities: entities.map((e, k) => {
        const at = `${where}: entities[${k}]`;
        const eo = (e ?? {}) as Record<string, unknown>;
        if (typeof eo.type !== 'string' || eo.type === '') throw new Error(`${at}: missing "type"`);
        if (!Array.isArray(eo.spans)) throw new Error(`${at}: "spans" must be a list of [start, end]`);
        const spans = eo.spans.map((s) => {
          if (!Array.isArray(s) || s.length !== 2 || !s.every((n) => Number.isInteger(n))) {
            throw new Error(`${at}: each span must be [start, end] with integer offsets`);
          }
          return [s[0], s[1]] as Span;
        });
        if (eo.text !== undefined && typeof eo.text !== 'string') throw new Error(`${at}: "text" must be a string`);
        if (eo.grounded !== undefined && typeof eo.grounded !== 'boolean') throw new Error(`${at}: "grounded" must be a boolean`);
        return { type: eo.type, spans, text: eo.text as string | undefined, grounded: eo.grounded as boolean | undefined };
      }),
    });
  });
  return out;
}

function toJsEntity(raw: RawEntity, text: string, map: OffsetMap, at: string, allowUngrounded: boolean): Entity {
  if (raw.spans.length === 0) {
    if (!allowUngrounded) throw new Error(`${at}: a gold entity needs spans`);
    if (raw.text === undefined) throw new Error(`${at}: an entity without spans needs "text"`);
    return { type: raw.type, spans: [], text: raw.text, grounded: false };
  }
  const js = raw.spans.map(([a, b]) => {
    if (a < 0 || b <= a || b > map.codePointLength) {
      throw new Error(`${at}: span ${a}-${b} is empty, reversed or outside the text (${map.codePointLength} code points)`);
    }
    return map.spanToJs([a, b]);
  });
  const e = makeEntity(text, raw.type, js);
  return raw.grounded === undefined ? e : { ...e, grounded: raw.grounded };
}

export function readGoldJsonl(file: string): GoldDocument[] {
  return parseLines(file, true).map((l) => {
    const text = l.text!;
    const map = new OffsetMap(text);
    return { id: l.id, text, entities: l.entities.map((e, k) => toJsEntity(e, text, map, `${l.where}: entities[${k}]`, false)) };
  });
}

/** Offsets are converted with the gold document's text of the same id. */
export function readPredictionJsonl(file: string, gold: readonly GoldDocument[]): PredictedDocument[] {
  const texts = new Map(gold.map((g) => [g.id, g.text]));
  return parseLines(file, false).map((l) => {
    const text = texts.get(l.id);
    if (text === undefined) throw new Error(`${l.where}: document id ${JSON.stringify(l.id)} is not in the gold file`);
    if (l.text !== undefined && l.text !== text) throw new Error(`${l.where}: "text" differs from the gold document's`);
    const map = new OffsetMap(text);
    return { id: l.id, entities: l.entities.map((e, k) => toJsEntity(e, text, map, `${l.where}: entities[${k}]`, true)) };
  });
}
