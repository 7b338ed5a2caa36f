/**
 * single_tag (`@@…##`, GPT-NER's markers) and multi_tag (`<type>…</type>`): the input text
 * rewritten with markers around each mention. Nesting is expressed by stacking markers, so
 * crossing entities and discontinuous ones cannot be written.
 */
import type { Entity, Span } from './entity.ts';
import { makeEntity, onCodePoints } from './entity.ts';
import { Problems, TypeResolver, answerStart, guarded } from './answer.ts';
import { emptyResult, parseType, typeList, typeToken } from './format-kit.ts';
import { Grounder } from './grounding.ts';
import type { Placed } from './render-checks.ts';
import { checkTypes, fail, firstCrossing, place, singleType } from './render-checks.ts';
import type { Format, FormatName } from './types.ts';

const TAG_RULES = { discontinuous: false, textCarried: false } as const;

/** Writes the text with markers; `placed` must be free of crossings. */
function markUp(text: string, placed: readonly Placed[], open: (t: string) => string, close: (t: string) => string): string {
  const startsAt = new Map<number, Placed[]>();
  for (const e of placed) {
    const s = e.spans[0][0];
    const list = startsAt.get(s);
    if (list) list.push(e);
    else startsAt.set(s, [e]);
  }
  const stack: Placed[] = [];
  let out = '';
  for (let i = 0; i <= text.length; i++) {
    while (stack.length && stack[stack.length - 1].spans[0][1] === i) out += close(stack.pop()!.type);
    for (const e of startsAt.get(i) ?? []) {
      out += open(e.type);
      stack.push(e);
    }
    if (i < text.length) out += text[i];
  }
  return out;
}

/** An entity read off the marked-up answer, positioned in the answer with markers removed. */
interface Marked {
  type: string;
  start: number;
  end: number;
  item: number;
}

/**
 * Positions found in the marker-free answer become spans directly when that answer is the
 * input (or the input cut short); otherwise each mention is grounded near where it stood.
 */
function ground(text: string, stripped: string, marked: readonly Marked[], problems: Problems): Entity[] {
  const exact = stripped === text;
  const prefix = !exact && stripped.length < text.length && text.startsWith(stripped);
  if (prefix) problems.add('truncated', `the answer is cut off after ${stripped.length} of ${text.length} characters`);
  if (!exact && !prefix) {
    problems.add('text-altered', 'the answer does not reproduce the input text; mentions were located by search');
  }
  const grounder = new Grounder(text);
  const out: Entity[] = [];
  for (const m of marked) {
    if (m.end <= m.start) {
      problems.add('malformed-item', `mention ${m.item} is empty; dropped`, m.item);
      continue;
    }
    if (exact || prefix) {
      // A marker written between the two halves of a surrogate pair: the mention takes the whole character.
      if (!onCodePoints(text, [[m.start, m.end]])) {
        problems.add('malformed-item', `mention ${m.item} has a marker inside a character; widened to whole characters`, m.item);
      }
      out.push(makeEntity(text, m.type, [[m.start, m.end]]));
      continue;
    }
    const needle = stripped.slice(m.start, m.end).trim();
    const spans: Span[] | undefined = needle ? grounder.nearest(needle, m.start) : undefined;
    if (spans) {
      out.push(makeEntity(text, m.type, spans));
    } else {
      out.push({ type: m.type, spans: [], text: needle, grounded: false });
      problems.add('ungrounded', `mention ${m.item} was not found in the input`, m.item);
    }
  }
  return out;
}

/** Body of a one-line answer: after `Answer:` and the one space the format puts there. */
function body(answer: string): string {
  const start = answerStart(answer);
  return answer.slice(start + (answer[start] === ' ' ? 1 : 0));
}

function placedFor(name: FormatName, text: string, entities: readonly Entity[]): Placed[] {
  const r = place(text, entities, TAG_RULES);
  if ('obstacle' in r) fail(name, r.obstacle);
  return r.placed;
}

function crossingObstacle(name: FormatName, placed: readonly Placed[]): void {
  const crossing = firstCrossing(placed);
  if (crossing) {
    fail(name, { reason: `entity ${crossing.index} crosses another entity, which tags cannot express`, entity: crossing.index });
  }
}

// ---------------------------------------------------------------------------------------

/** Texts holding the marker characters would make the markers ambiguous. */
const SINGLE_MARKER_CHARS = /[@#]/u;

export const singleTag: Format = {
  name: 'single_tag',
  capabilities: { nested: true, discontinuous: false, offsets: false, perType: true, multiTurn: false },
  instruction(types) {
    return (
      `Mark every ${typeList(types)} entity mentioned in the text. Answer with "Answer: " followed by the text ` +
      'rewritten unchanged except for "@@" written before and "##" after each mention; a mention inside another ' +
      'gets its own markers.'
    );
  },
  render(text, entities, types) {
    const type = singleType('single_tag', types);
    if (SINGLE_MARKER_CHARS.test(text)) fail('single_tag', { reason: 'the text contains "@" or "#", the marker characters' });
    const placed = placedFor('single_tag', text, entities).filter((e) => e.type === type);
    crossingObstacle('single_tag', placed);
    return `Answer: ${markUp(text, placed, () => '@@', () => '##')}`;
  },
  parse(answer, text, types) {
    return guarded(() => {
      const problems = new Problems();
      const type = parseType(types, (m) => problems.add('types', m));
      if (type === undefined) return { entities: [], problems: problems.list };
      let src = body(String(answer));
      // Markdown escapes (`\#\#`, as printed in the paper) are not part of the answer.
      if (/\\[#@]\\[#@]/u.test(src) && !/\\/u.test(text)) src = src.replace(/\\([#@])/gu, '$1');
      let stripped = '';
      const open: number[] = [];
      const marked: Marked[] = [];
      let strayCloses = 0;
      for (let i = 0; i < src.length; ) {
        if (src.startsWith('@@', i)) {
          open.push(stripped.length);
          i += 2;
        } else if (src.startsWith('##', i)) {
          const start = open.pop();
          if (start === undefined) strayCloses++;
          else marked.push({ type, start, end: stripped.length, item: marked.length });
          i += 2;
        } else {
          stripped += src[i++];
        }
      }
      if (strayCloses) problems.add('unbalanced-tags', `${strayCloses} "##" marker(s) close nothing; ignored`);
      if (open.length) problems.add('unbalanced-tags', `${open.length} "@@" marker(s) are never closed; dropped`);
      return { entities: ground(text, stripped, marked, problems), problems: problems.list };
    }, emptyResult);
  },
  canRender(text, entities) {
    if (SINGLE_MARKER_CHARS.test(text)) return false;
    const r = place(text, entities, TAG_RULES);
    if ('obstacle' in r) return false;
    const byType = new Map<string, Placed[]>();
    for (const e of r.placed) byType.set(e.type, [...(byType.get(e.type) ?? []), e]);
    return [...byType.values()].every((list) => !firstCrossing(list));
  },
};

// ---------------------------------------------------------------------------------------

const TAG = /<(\/?)([^<>\s/][^<>]{0,80}?)\s*>/gu;

/** A text that already holds one of the entity types' tags would be read back wrongly. */
function holdsTypeTag(text: string, entities: readonly Entity[]): boolean {
  const lower = text.toLowerCase();
  return entities.some((e) => {
    const t = typeToken(String(e.type)).toLowerCase();
    return lower.includes(`<${t}>`) || lower.includes(`</${t}>`);
  });
}

export const multiTag: Format = {
  name: 'multi_tag',
  capabilities: { nested: true, discontinuous: false, offsets: false, perType: false, multiTurn: false },
  instruction(types) {
    return (
      `Mark every entity of the types ${typeList(types)} mentioned in the text. Answer with "Answer: " followed by ` +
      'the text rewritten unchanged except for <type> written before and </type> after each mention, with the ' +
      "entity's type as the tag name; a mention inside another gets its own tags."
    );
  },
  render(text, entities, types) {
    if (holdsTypeTag(text, entities)) fail('multi_tag', { reason: 'the text already contains an entity type tag' });
    const placed = placedFor('multi_tag', text, entities);
    checkTypes('multi_tag', placed, types);
    crossingObstacle('multi_tag', placed);
    return `Answer: ${markUp(text, placed, (t) => `<${typeToken(t)}>`, (t) => `</${typeToken(t)}>`)}`;
  },
  parse(answer, text, types) {
    return guarded(() => {
      const problems = new Problems();
      const resolver = new TypeResolver(types);
      const src = body(String(answer));
      let stripped = '';
      const open: Array<{ type: string | undefined; key: string; start: number; item: number }> = [];
      const marked: Marked[] = [];
      let strayCloses = 0;
      let tags = 0;
      let last = 0;
      const re = new RegExp(TAG.source, TAG.flags);
      for (let m = re.exec(src); m; m = re.exec(src)) {
        // A tag-like string that the input itself contains is text (`<i>` in PubMed titles).
        if (text.includes(m[0])) continue;
        stripped += src.slice(last, m.index);
        last = m.index + m[0].length;
        const type = resolver.resolve(m[2]);
        // Unknown tags still pair up among themselves, so their content stays text.
        const key = type ?? `?${m[2].trim().toLowerCase()}`;
        if (!m[1]) {
          if (type === undefined) problems.unknownType(tags);
          open.push({ type, key, start: stripped.length, item: tags++ });
          continue;
        }
        let k = open.length - 1;
        while (k >= 0 && open[k].key !== key) k--;
        if (k < 0) {
          strayCloses++;
          continue;
        }
        const [o] = open.splice(k, 1);
        if (o.type !== undefined) marked.push({ type: o.type, start: o.start, end: stripped.length, item: o.item });
      }
      stripped += src.slice(last);
      if (strayCloses) problems.add('unbalanced-tags', `${strayCloses} closing tag(s) close nothing; ignored`);
      if (open.length) problems.add('unbalanced-tags', `${open.length} opening tag(s) are never closed; dropped`);
      marked.sort((a, b) => a.item - b.item);
      return { entities: ground(text, stripped, marked, problems), problems: problems.list };
    }, emptyResult);
  },
  canRender(text, entities) {
    if (holdsTypeTag(text, entities)) return false;
    const r = place(text, entities, TAG_RULES);
    return 'placed' in r && !firstCrossing(r.placed);
  },
};
