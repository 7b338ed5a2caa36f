/** multi_triple: one `text; is a; type` line per mention, grounded by search. */
import { Problems, TypeResolver, answerLines, guarded } from './answer.ts';
import { canPlace, emptyResult, oneLine, placeOrFail, typeList } from './format-kit.ts';
import type { TextItem } from './grounding.ts';
import { groundItems } from './grounding.ts';
import { checkTypes } from './render-checks.ts';
import type { Format } from './types.ts';

const TEXT_RULES = { discontinuous: true, textCarried: true } as const;

/** Greedy on the text, so a text that itself holds `; is a;` keeps it. */
const TRIPLE = /^(.*);\s*is\s+an?\s*;(.*)$/iu;

export const multiTriple: Format = {
  name: 'multi_triple',
  capabilities: { nested: true, discontinuous: true, offsets: false, perType: false, multiTurn: false },
  instruction(types) {
    return (
      `Extract every entity of the types ${typeList(types)} mentioned in the text. Answer with "Answer:" and then ` +
      'one line per mention, in text order: the entity text exactly as it appears, "; is a; ", and its type. ' +
      'Write no line when there is none.'
    );
  },
  render(text, entities, types) {
    const placed = placeOrFail('multi_triple', text, entities, TEXT_RULES);
    checkTypes('multi_triple', placed, types);
    return ['Answer:', ...placed.map((e) => `${oneLine(e.text)}; is a; ${e.type}`)].join('\n');
  },
  parse(answer, text, types) {
    return guarded(() => {
      const problems = new Problems();
      const resolver = new TypeResolver(types);
      const lines = answerLines(String(answer));
      const cut = !/\n\s*$/u.test(String(answer));
      const items: TextItem[] = [];
      lines.forEach((line, index) => {
        if (!line.trim()) return;
        const m = TRIPLE.exec(line);
        if (!m) {
          const last = index === lines.length - 1;
          problems.add(
            last && cut ? 'truncated' : 'malformed-item',
            last && cut ? `line ${index} is cut off; dropped` : `line ${index} is not a "text; is a; type" triple`,
            index,
          );
          return;
        }
        const type = resolver.resolve(m[2].trim());
        if (type === undefined) problems.unknownType(index);
        else items.push({ type, text: m[1], item: index, where: `line ${index}` });
      });
      return { entities: groundItems(text, items, problems), problems: problems.list };
    }, emptyResult);
  },
  canRender: (text, entities) => canPlace(text, entities, TEXT_RULES),
};
