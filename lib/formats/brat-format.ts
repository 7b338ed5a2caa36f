/**
 * multi_brat: one `T<n> type start end text` line per mention (discontinuous:
 * `T<n> type s1 e1;s2 e2 text`), offsets in code points. Offsets a few characters off are
 * repaired from the text and the shift recorded; farther misses are grounded by search.
 */
import type { Entity, Span } from './entity.ts';
import { OffsetMap, makeEntity, spanText } from './entity.ts';
import { Problems, TypeResolver, answerLines, guarded } from './answer.ts';
import { canPlace, emptyResult, oneLine, placeOrFail, typeList, typeToken } from './format-kit.ts';
import { Grounder } from './grounding.ts';
import { checkTypes } from './render-checks.ts';
import type { Format } from './types.ts';

const BRAT_RULES = { discontinuous: true, textCarried: false } as const;

/** The paper's Listing 4 shows shifts of −1 to −5; farther is no longer a near miss. */
export const MAX_BRAT_SHIFT = 5;

const LINE = /^\s*T(\d+)\s+(\S+)\s+(\d+\s+\d+(?:\s*;\s*\d+\s+\d+)*)(?:\s+(.*?))?\s*$/u;

export const multiBrat: Format = {
  name: 'multi_brat',
  capabilities: { nested: true, discontinuous: true, offsets: true, perType: false, multiTurn: false },
  instruction(types) {
    return (
      `Annotate every entity of the types ${typeList(types)} mentioned in the text in BRAT standoff. Answer with ` +
      '"Answer:" and then one line per mention, in text order: T1, T2, … then the type, the start and end offsets ' +
      'counted in Unicode code points from the start of the text (end exclusive; fragments of a discontinuous ' +
      'mention separated by ";"), and the mention text. Write no line when there is none.'
    );
  },
  render(text, entities, types) {
    const placed = placeOrFail('multi_brat', text, entities, BRAT_RULES);
    checkTypes('multi_brat', placed, types);
    const map = new OffsetMap(text);
    const lines = placed.map((e, i) => {
      const offsets = e.spans.map((s) => map.spanToCodePoints(s).join(' ')).join(';');
      return `T${i + 1} ${typeToken(e.type)} ${offsets} ${oneLine(e.text)}`;
    });
    return ['Answer:', ...lines].join('\n');
  },
  parse(answer, text, types) {
    return guarded(() => {
      const problems = new Problems();
      const resolver = new TypeResolver(types);
      const map = new OffsetMap(text);
      const grounder = new Grounder(text);
      const src = String(answer);
      const lines = answerLines(src);
      const cut = !/\n\s*$/u.test(src);
      const entities: Entity[] = [];
      lines.forEach((line, index) => {
        if (!line.trim()) return;
        const m = LINE.exec(line);
        const last = index === lines.length - 1;
        if (!m) {
          problems.add(
            last && cut ? 'truncated' : 'malformed-item',
            last && cut ? `line ${index} is cut off; dropped` : `line ${index} is not a BRAT entity line`,
            index,
          );
          return;
        }
        const type = resolver.resolve(m[2]);
        if (type === undefined) return problems.unknownType(index);
        const given = m[3].split(';').map((p) => p.trim().split(/\s+/u).map(Number) as Span);
        const written = m[4] ?? '';
        const entity = locate({ text, map, grounder, type, given, written, index, last: last && cut, problems });
        if (entity) entities.push(entity);
      });
      return { entities, problems: problems.list };
    }, emptyResult);
  },
  canRender: (text, entities) => canPlace(text, entities, BRAT_RULES),
};

const squash = (s: string) => s.replace(/\s+/gu, ' ').trim();

interface LineContext {
  text: string;
  map: OffsetMap;
  grounder: Grounder;
  type: string;
  /** Code points, as written. */
  given: Span[];
  written: string;
  index: number;
  /** The last line of an answer that stops without a newline. */
  last: boolean;
  problems: Problems;
}

function validJs(map: OffsetMap, spans: readonly Span[]): Span[] | undefined {
  if (spans.some(([s, e]) => !(s >= 0 && e <= map.codePointLength && e > s))) return undefined;
  return spans.map((s) => map.spanToJs(s));
}

function locate(c: LineContext): Entity | undefined {
  const { text, map, problems, index, given, type } = c;
  const want = squash(c.written);
  const js = validJs(map, given);
  if (!js) {
    problems.add('invalid-offsets', `line ${index} has offsets outside the text or with end <= start`, index);
    const near = want ? nearMiss(c) : undefined;
    if (near) return near;
  } else {
    const entity = makeEntity(text, type, js);
    if (!want || squash(entity.text) === want) return entity;
    // A line cut inside its text still has its offsets.
    if (c.last && squash(entity.text).startsWith(want)) {
      problems.add('truncated', `line ${index} is cut off inside its text; its offsets were kept`, index);
      return entity;
    }
    const near = nearMiss(c);
    if (near) return near;
  }
  if (!want) return undefined;
  const found = c.grounder.next(`${type}\u0000${want}`, want);
  if (js) {
    problems.add('offset-mismatch', `line ${index}: its text is not within ${MAX_BRAT_SHIFT} characters of its offsets; located by search`, index);
  }
  if (found.spans) return makeEntity(text, type, found.spans);
  problems.add('ungrounded', `line ${index} was not found in the input`, index);
  return { type, spans: [], text: want, grounded: false };
}

/** The written text within MAX_BRAT_SHIFT code points of the given offsets, nearest first. */
function nearMiss(c: LineContext): Entity | undefined {
  const { text, map, given, type, index, problems } = c;
  const want = squash(c.written);
  const candidates: Array<{ spans: Span[]; cp: Span[] }> = [];
  if (given.length === 1) {
    for (const tier of [c.grounder.exact(c.written.trim()), c.grounder.spaceInsensitive(want)]) {
      for (const spans of tier) {
        const cp = spans.map((s) => map.spanToCodePoints(s));
        if (Math.abs(cp[0][0] - given[0][0]) <= MAX_BRAT_SHIFT) candidates.push({ spans, cp });
      }
      if (candidates.length) break;
    }
  } else {
    for (let d = -MAX_BRAT_SHIFT; d <= MAX_BRAT_SHIFT; d++) {
      const cp = given.map(([s, e]) => [s + d, e + d] as Span);
      const js = validJs(map, cp);
      if (js && squash(spanText(text, js)) === want) candidates.push({ spans: js, cp });
    }
  }
  if (!candidates.length) return undefined;
  const dist = (x: { cp: Span[] }) => Math.abs(x.cp[0][0] - given[0][0]);
  const best = candidates.reduce((a, b) => (dist(b) < dist(a) ? b : a));
  const lastGiven = given[given.length - 1];
  const lastFound = best.cp[best.cp.length - 1];
  const shift: [number, number] = [given[0][0] - best.cp[0][0], lastGiven[1] - lastFound[1]];
  problems.add('offset-shift', `line ${index}: offsets shifted by ${shift[0]} from where its text is`, index, shift);
  return makeEntity(text, type, best.spans);
}
