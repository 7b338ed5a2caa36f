/** single_term, multi_term and conv_term: JSON lists of texts, grounded by search. */
import type { Entity } from './entity.ts';
import { Problems, TypeResolver, guarded } from './answer.ts';
import { canPlace, emptyResult, parseType, placeOrFail, typeList } from './format-kit.ts';
import type { TextItem } from './grounding.ts';
import { groundItems } from './grounding.ts';
import { asText, field, readAnswerList, writeList, writeString } from './list-answer.ts';
import { checkTypes, singleType } from './render-checks.ts';
import type { Format, ParseResult } from './types.ts';

const TEXT_RULES = { discontinuous: true, textCarried: true } as const;

export const singleTerm: Format = {
  name: 'single_term',
  capabilities: { nested: true, discontinuous: true, offsets: false, perType: true, multiTurn: false },
  instruction(types) {
    return (
      `Extract every ${typeList(types)} entity mentioned in the text. Answer with "Answer: " followed by a JSON ` +
      'list of the entity texts exactly as they appear, in text order, one element per mention, and [] when there is none.'
    );
  },
  render(text, entities, types) {
    const type = singleType('single_term', types);
    const placed = placeOrFail('single_term', text, entities, TEXT_RULES);
    return `Answer: ${termList(placed.filter((e) => e.type === type))}`;
  },
  parse(answer, text, types) {
    return guarded(() => {
      const problems = new Problems();
      const type = parseType(types, (m) => problems.add('types', m));
      if (type === undefined) return { entities: [], problems: problems.list };
      const items = textItems(String(answer), problems, type);
      return { entities: groundItems(text, items, problems), problems: problems.list };
    }, emptyResult);
  },
  canRender: (text, entities) => canPlace(text, entities, TEXT_RULES),
};

export const multiTerm: Format = {
  name: 'multi_term',
  capabilities: { nested: true, discontinuous: true, offsets: false, perType: false, multiTurn: false },
  instruction(types) {
    return (
      `Extract every entity of the types ${typeList(types)} mentioned in the text. Answer with "Answer: " followed by ` +
      'a JSON list of objects {"text": <entity text exactly as it appears>, "type": <entity type>}, in text order, ' +
      'one element per mention, and [] when there is none.'
    );
  },
  render(text, entities, types) {
    const placed = placeOrFail('multi_term', text, entities, TEXT_RULES);
    checkTypes('multi_term', placed, types);
    const items = placed.map((e) => `{"text": ${writeString(e.text)}, "type": ${writeString(e.type)}}`);
    return `Answer: ${writeList(items)}`;
  },
  parse(answer, text, types) {
    return guarded(() => {
      const problems = new Problems();
      const resolver = new TypeResolver(types);
      const items: TextItem[] = [];
      for (const { value, index } of readAnswerList(String(answer), problems)) {
        const itemText = asText(field(value, 'text', 'entity') ?? null);
        const label = asText(field(value, 'type', 'label') ?? null);
        if (itemText === undefined || label === undefined) {
          problems.add('malformed-item', `item ${index} is not a {"text", "type"} object`, index);
          continue;
        }
        const type = resolver.resolve(label);
        if (type === undefined) problems.unknownType(index);
        else items.push({ type, text: itemText, item: index });
      }
      return { entities: groundItems(text, items, problems), problems: problems.list };
    }, emptyResult);
  },
  canRender: (text, entities) => canPlace(text, entities, TEXT_RULES),
};

export const convTerm: Format = {
  name: 'conv_term',
  capabilities: { nested: true, discontinuous: true, offsets: false, perType: true, multiTurn: true },
  instruction(types) {
    return (
      `The entity types are ${typeList(types)}; each following turn asks for one of them as "Type: <type>". ` +
      'Answer each turn with "Answer: " followed by a JSON list of the texts of the entities of that type, exactly ' +
      'as they appear, in text order, one element per mention, and [] when there is none.'
    );
  },
  render(text, entities, types) {
    const placed = placeOrFail('conv_term', text, entities, TEXT_RULES);
    checkTypes('conv_term', placed, types);
    return types.map((type) => `Answer: ${termList(placed.filter((e) => e.type === type))}`);
  },
  parse(answer, text, types) {
    return guarded(() => {
      const problems = new Problems();
      const answers = typeof answer === 'string' ? [answer] : [...answer];
      if (answers.length < types.length) {
        problems.add(
          'turn-count',
          `the dialogue is cut: ${answers.length} answer(s) for ${types.length} type(s); the missing types get no entities`,
          answers.length,
        );
      } else if (answers.length > types.length) {
        problems.add(
          'turn-count',
          `${answers.length - types.length} answer(s) beyond the ${types.length} type(s) were ignored`,
          types.length,
        );
      }
      const items: TextItem[] = [];
      for (let turn = 0; turn < Math.min(answers.length, types.length); turn++) {
        items.push(...textItems(String(answers[turn]), problems, types[turn], turn));
      }
      return { entities: groundItems(text, items, problems), problems: problems.list };
    }, emptyResult);
  },
  canRender: (text, entities) => canPlace(text, entities, TEXT_RULES),
};

function termList(entities: readonly Entity[]): string {
  return writeList(entities.map((e) => writeString(e.text)));
}

/** String elements of a term list; in conv_term, problems carry the turn as their item. */
function textItems(answer: string, problems: Problems, type: string, turn?: number): TextItem[] {
  const where = turn === undefined ? '' : `turn ${turn}, `;
  const asItem = turn === undefined ? undefined : () => turn;
  const items: TextItem[] = [];
  for (const { value, index } of readAnswerList(answer, problems, where, asItem)) {
    const t = asText(value) ?? asText(field(value, 'text', 'entity') ?? null);
    if (t === undefined) {
      problems.add('malformed-item', `${where}item ${index} is not a string`, turn ?? index);
      continue;
    }
    items.push({ type, text: t, item: turn ?? index, where: `${where}item ${index}` });
  }
  return items;
}
