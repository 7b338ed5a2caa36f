/**
 * single_code and multi_code: the entities as `entity_list.append(...)` lines inside one
 * fixed Python scaffold, identical for both formats and naming no type (the instruction does).
 */
import { Problems, TypeResolver, answerStart, guarded } from './answer.ts';
import { canPlace, emptyResult, parseType, placeOrFail, typeList } from './format-kit.ts';
import type { TextItem } from './grounding.ts';
import { groundItems } from './grounding.ts';
import { asText, field, writeString } from './list-answer.ts';
import type { Literal } from './loose-literal.ts';
import { readLiteral } from './loose-literal.ts';
import { checkTypes, singleType } from './render-checks.ts';
import type { Format } from './types.ts';

const TEXT_RULES = { discontinuous: true, textCarried: true } as const;

export const CODE_SCAFFOLD_HEAD = [
  '```python',
  'def named_entity_recognition(input_text):',
  '    """Extract the named entities mentioned in input_text."""',
  '    entity_list = []',
];
export const CODE_SCAFFOLD_TAIL = ['    return entity_list', '```'];

function scaffold(appends: readonly string[]): string {
  const lines = appends.map((a) => `    entity_list.append(${a})`);
  return ['Answer:', ...CODE_SCAFFOLD_HEAD, ...lines, ...CODE_SCAFFOLD_TAIL].join('\n');
}

const SCAFFOLD_WORDS =
  'Answer with "Answer:" and, on the next lines, a fenced Python function named_entity_recognition(input_text) ' +
  'that builds entity_list with one entity_list.append(...) line per mention, in text order, and returns it';

export const singleCode: Format = {
  name: 'single_code',
  capabilities: { nested: true, discontinuous: true, offsets: false, perType: true, multiTurn: false },
  instruction(types) {
    return (
      `Extract every ${typeList(types)} entity mentioned in the text. ${SCAFFOLD_WORDS}; each line appends the ` +
      'entity text exactly as it appears, as a Python string.'
    );
  },
  render(text, entities, types) {
    const type = singleType('single_code', types);
    const placed = placeOrFail('single_code', text, entities, TEXT_RULES);
    return scaffold(placed.filter((e) => e.type === type).map((e) => writeString(e.text)));
  },
  parse(answer, text, types) {
    return guarded(() => {
      const problems = new Problems();
      const type = parseType(types, (m) => problems.add('types', m));
      if (type === undefined) return { entities: [], problems: problems.list };
      const items: TextItem[] = [];
      for (const { value, index } of readAppends(String(answer), problems)) {
        const t = asText(value) ?? asText(field(value, 'text') ?? null);
        if (t === undefined) problems.add('malformed-item', `append ${index} does not append a string`, index);
        else items.push({ type, text: t, item: index, where: `append ${index}` });
      }
      return { entities: groundItems(text, items, problems), problems: problems.list };
    }, emptyResult);
  },
  canRender: (text, entities) => canPlace(text, entities, TEXT_RULES),
};

export const multiCode: Format = {
  name: 'multi_code',
  capabilities: { nested: true, discontinuous: true, offsets: false, perType: false, multiTurn: false },
  instruction(types) {
    return (
      `Extract every entity of the types ${typeList(types)} mentioned in the text. ${SCAFFOLD_WORDS}; each line ` +
      'appends a dictionary {"text": <entity text exactly as it appears>, "type": <entity type>}.'
    );
  },
  render(text, entities, types) {
    const placed = placeOrFail('multi_code', text, entities, TEXT_RULES);
    checkTypes('multi_code', placed, types);
    return scaffold(placed.map((e) => `{"text": ${writeString(e.text)}, "type": ${writeString(e.type)}}`));
  },
  parse(answer, text, types) {
    return guarded(() => {
      const problems = new Problems();
      const resolver = new TypeResolver(types);
      const items: TextItem[] = [];
      for (const { value, index } of readAppends(String(answer), problems)) {
        const t = asText(field(value, 'text', 'entity') ?? null);
        const label = asText(field(value, 'type', 'label') ?? null);
        if (t === undefined || label === undefined) {
          problems.add('malformed-item', `append ${index} does not append a {"text", "type"} dictionary`, index);
          continue;
        }
        const type = resolver.resolve(label);
        if (type === undefined) problems.unknownType(index);
        else items.push({ type, text: t, item: index, where: `append ${index}` });
      }
      return { entities: groundItems(text, items, problems), problems: problems.list };
    }, emptyResult);
  },
  canRender: (text, entities) => canPlace(text, entities, TEXT_RULES),
};

const APPEND = /\bappend\s*\(/gu;

/** The argument of every `append(` after `Answer:`; a cut-off last one is a problem. */
function readAppends(answer: string, problems: Problems): Array<{ value: Literal; index: number }> {
  const out: Array<{ value: Literal; index: number }> = [];
  const re = new RegExp(APPEND.source, APPEND.flags);
  re.lastIndex = answerStart(answer);
  let index = 0;
  for (let m = re.exec(answer); m; m = re.exec(answer), index++) {
    const lit = readLiteral(answer, m.index + m[0].length);
    if ('value' in lit) {
      out.push({ value: lit.value, index });
      re.lastIndex = lit.end;
    } else if (lit.error === 'truncated') {
      problems.add('truncated', `the answer is cut off in append ${index}; it was dropped`, index);
    } else {
      problems.add('malformed-item', `append ${index} could not be read`, index);
    }
  }
  if (index === 0 && !/entity_list\s*=\s*\[\s*\]/u.test(answer)) {
    problems.add('no-answer', 'no entity_list.append(...) and no empty entity_list found in the answer');
  }
  return out;
}
