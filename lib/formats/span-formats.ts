/** single_span and multi_span: code-point offsets `[start, end]`, no text to ground. */
import type { Entity, Span } from './entity.ts';
import { OffsetMap, makeEntity } from './entity.ts';
import { Problems, TypeResolver, guarded } from './answer.ts';
import { canPlace, emptyResult, parseType, placeOrFail, typeList } from './format-kit.ts';
import type { Literal } from './loose-literal.ts';
import { asText, field, readAnswerList, writeList, writeString } from './list-answer.ts';
import { checkTypes, singleType } from './render-checks.ts';
import type { Format } from './types.ts';

const SPAN_RULES = { discontinuous: false, textCarried: false } as const;

const OFFSET_WORDS =
  'character offsets [start, end] counted in Unicode code points from the start of the text, end exclusive';

export const singleSpan: Format = {
  name: 'single_span',
  capabilities: { nested: true, discontinuous: false, offsets: true, perType: true, multiTurn: false },
  instruction(types) {
    return (
      `Extract every ${typeList(types)} entity mentioned in the text. Answer with "Answer: " followed by a JSON list ` +
      `of the entities' ${OFFSET_WORDS}, in text order, one element per mention, and [] when there is none.`
    );
  },
  render(text, entities, types) {
    const type = singleType('single_span', types);
    const placed = placeOrFail('single_span', text, entities, SPAN_RULES);
    const map = new OffsetMap(text);
    return `Answer: ${writeList(placed.filter((e) => e.type === type).map((e) => writeSpan(map, e)))}`;
  },
  parse(answer, text, types) {
    return guarded(() => {
      const problems = new Problems();
      const type = parseType(types, (m) => problems.add('types', m));
      if (type === undefined) return { entities: [], problems: problems.list };
      const map = new OffsetMap(text);
      const entities: Entity[] = [];
      for (const { value, index } of readAnswerList(String(answer), problems)) {
        const span = readSpan(value, map, index, problems);
        if (span) entities.push(makeEntity(text, type, [span]));
      }
      return { entities, problems: problems.list };
    }, emptyResult);
  },
  canRender: (text, entities) => canPlace(text, entities, SPAN_RULES),
};

export const multiSpan: Format = {
  name: 'multi_span',
  capabilities: { nested: true, discontinuous: false, offsets: true, perType: false, multiTurn: false },
  instruction(types) {
    return (
      `Extract every entity of the types ${typeList(types)} mentioned in the text. Answer with "Answer: " followed by ` +
      `a JSON list of objects {"span": [start, end], "type": <entity type>}, with ${OFFSET_WORDS}, in text order, ` +
      'one element per mention, and [] when there is none.'
    );
  },
  render(text, entities, types) {
    const placed = placeOrFail('multi_span', text, entities, SPAN_RULES);
    checkTypes('multi_span', placed, types);
    const map = new OffsetMap(text);
    return `Answer: ${writeList(placed.map((e) => `{"span": ${writeSpan(map, e)}, "type": ${writeString(e.type)}}`))}`;
  },
  parse(answer, text, types) {
    return guarded(() => {
      const problems = new Problems();
      const resolver = new TypeResolver(types);
      const map = new OffsetMap(text);
      const entities: Entity[] = [];
      for (const { value, index } of readAnswerList(String(answer), problems)) {
        const label = asText(field(value, 'type', 'label') ?? null);
        const spanValue = field(value, 'span', 'offsets');
        if (label === undefined || spanValue === undefined) {
          problems.add('malformed-item', `item ${index} is not a {"span", "type"} object`, index);
          continue;
        }
        const type = resolver.resolve(label);
        if (type === undefined) {
          problems.unknownType(index);
          continue;
        }
        const span = readSpan(spanValue, map, index, problems);
        if (span) entities.push(makeEntity(text, type, [span]));
      }
      return { entities, problems: problems.list };
    }, emptyResult);
  },
  canRender: (text, entities) => canPlace(text, entities, SPAN_RULES),
};

function writeSpan(map: OffsetMap, e: Entity): string {
  const [s, end] = map.spanToCodePoints(e.spans[0]);
  return `[${s}, ${end}]`;
}

function asOffset(v: Literal | undefined): number | undefined {
  const n = typeof v === 'string' && /^\s*\d+\s*$/u.test(v) ? Number(v) : v;
  return typeof n === 'number' && Number.isInteger(n) ? n : undefined;
}

/** A `[start, end]` pair in code points, checked and converted to JS indices. */
function readSpan(value: Literal, map: OffsetMap, index: number, problems: Problems): Span | undefined {
  const s = Array.isArray(value) && value.length === 2 ? asOffset(value[0]) : undefined;
  const e = Array.isArray(value) && value.length === 2 ? asOffset(value[1]) : undefined;
  if (s === undefined || e === undefined) {
    problems.add('malformed-item', `item ${index} is not a [start, end] pair of integers`, index);
    return undefined;
  }
  if (s < 0 || e > map.codePointLength || e <= s) {
    problems.add(
      'invalid-offsets',
      `item ${index} has offsets [${s}, ${e}], not a non-empty span of a text of ${map.codePointLength} code points`,
      index,
    );
    return undefined;
  }
  return map.spanToJs([s, e]);
}
