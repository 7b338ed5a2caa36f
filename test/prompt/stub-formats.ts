/**
 * Formats with the published interface and the capabilities the formats issue fixes, for
 * testing sampling and prompts independently of the real renderers. Rendering is a plain
 * JSON list of texts; canRender refuses what the real formats refuse (discontinuous entities in
 * the five formats that cannot hold them; in multi_bio, boundaries inside a whitespace token).
 */
import { FORMAT_NAMES, type Entity, type Format, type FormatName } from '../../lib/formats/index.ts';

const NO_DISCONTINUOUS = new Set<FormatName>(['single_tag', 'multi_tag', 'multi_bio', 'single_span', 'multi_span']);

function alignedToWhitespaceTokens(text: string, entities: readonly Entity[]): boolean {
  const isBoundary = (i: number) => i === 0 || i === text.length || /\s/.test(text[i - 1]) || /\s/.test(text[i]);
  return entities.every((e) => e.spans.every(([s, x]) => isBoundary(s) && isBoundary(x)));
}

export function stubFormat(name: FormatName): Format {
  const perType = name.startsWith('single_') || name === 'conv_term';
  const discontinuous = !NO_DISCONTINUOUS.has(name);
  const answer = (entities: readonly Entity[], types: readonly string[]) =>
    `Answer: ${JSON.stringify(entities.filter((e) => types.includes(e.type)).map((e) => e.text))}`;
  return {
    name,
    capabilities: { nested: true, discontinuous, offsets: /span|brat|bio/.test(name), perType, multiTurn: name === 'conv_term' },
    instruction: (types) => `[${name} instruction for ${types.join(', ')}]`,
    render(text, entities, types) {
      if (!this.canRender(text, entities)) throw new Error(`${name} cannot render`);
      return name === 'conv_term' ? types.map((t) => answer(entities, [t])) : answer(entities, types);
    },
    parse: () => ({ entities: [], problems: [] }),
    canRender: (text, entities) =>
      (discontinuous || entities.every((e) => e.spans.length <= 1)) && (name !== 'multi_bio' || alignedToWhitespaceTokens(text, entities)),
  };
}

export const stubs = new Map(FORMAT_NAMES.map((n) => [n, stubFormat(n)]));
export const getStub = (name: FormatName): Format => stubs.get(name)!;
