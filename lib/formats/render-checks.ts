/**
 * What `render` and `canRender` share: the checks that decide whether a format can express
 * a set of entities, phrased without quoting any document text.
 */
import type { Entity, Span } from './entity.ts';
import { OffsetMap, normalizeSpans, sortEntities, spanText } from './entity.ts';
import type { FormatName } from './types.ts';
import { RenderError } from './types.ts';

export interface Obstacle {
  reason: string;
  entity?: number;
}

/** An entity ready to render: normalised spans, text derived from them, original index. */
export interface Placed extends Entity {
  index: number;
}

export interface RenderRules {
  discontinuous: boolean;
  /** The answer carries the entity's text, so it must survive trimming (text formats). */
  textCarried: boolean;
}

/** Validates and normalises; returns the entities in text order, or the first obstacle. */
export function place(
  text: string,
  entities: readonly Entity[],
  rules: RenderRules,
): { placed: Placed[] } | { obstacle: Obstacle } {
  const map = new OffsetMap(text);
  const placed: Placed[] = [];
  for (let index = 0; index < entities.length; index++) {
    const e = entities[index];
    if (!e || typeof e.type !== 'string' || !Array.isArray(e.spans)) {
      return { obstacle: { reason: `entity ${index} is not an entity`, entity: index } };
    }
    if (e.spans.length === 0 || e.grounded === false) {
      return { obstacle: { reason: `entity ${index} is not grounded in the text`, entity: index } };
    }
    for (const span of e.spans) {
      const bad = badSpan(map, span);
      if (bad) return { obstacle: { reason: `entity ${index} ${bad}`, entity: index } };
    }
    const spans = normalizeSpans(text, e.spans);
    if (spans.length > 1 && !rules.discontinuous) {
      return { obstacle: { reason: `entity ${index} is discontinuous, which this format cannot express`, entity: index } };
    }
    const surface = spanText(text, spans);
    if (rules.textCarried && (surface.trim() !== surface || surface.length === 0)) {
      return {
        obstacle: {
          reason: `entity ${index} begins or ends with whitespace, which a text answer cannot carry`,
          entity: index,
        },
      };
    }
    placed.push({ type: e.type, spans, text: surface, index });
  }
  return { placed: sortEntities(placed) };
}

function badSpan(map: OffsetMap, span: Span): string | undefined {
  if (!Array.isArray(span) || span.length !== 2) return 'has a malformed span';
  const [s, e] = span;
  if (!Number.isInteger(s) || !Number.isInteger(e)) return 'has a non-integer offset';
  if (s < 0 || e > map.text.length) return `has a span [${s}, ${e}] outside a text of length ${map.text.length}`;
  if (e <= s) return `has an empty or reversed span [${s}, ${e}]`;
  if (!map.isBoundary(s) || !map.isBoundary(e)) return `has a span [${s}, ${e}] that splits a character`;
  return undefined;
}

/** Entities that overlap without one containing the other (tags cannot close them). */
export function firstCrossing(placed: readonly Placed[]): Placed | undefined {
  const open: Placed[] = [];
  for (const e of placed) {
    const [s, end] = e.spans[0];
    while (open.length && open[open.length - 1].spans[0][1] <= s) open.pop();
    const parent = open[open.length - 1];
    if (parent && end > parent.spans[0][1]) return e;
    open.push(e);
  }
  return undefined;
}

export function fail(format: FormatName, obstacle: Obstacle): never {
  throw new RenderError(format, obstacle.reason, obstacle.entity);
}

/** For single_* formats: exactly one type. */
export function singleType(format: FormatName, types: readonly string[]): string {
  if (types.length !== 1) {
    throw new RenderError(format, `asks for one type per prompt, got ${types.length}`);
  }
  return types[0];
}

/** For multi_* formats: every entity's type must be requested. */
export function checkTypes(format: FormatName, placed: readonly Placed[], types: readonly string[]): void {
  const known = new Set(types);
  for (const e of placed) {
    if (!known.has(e.type)) {
      throw new RenderError(format, `entity ${e.index} has type ${JSON.stringify(e.type)}, not among the types`, e.index);
    }
  }
}
