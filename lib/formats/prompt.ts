/** The paper's user prompt (Listing 1), and how a document becomes chat examples. */
import type { Entity } from './entity.ts';
import type { Format } from './types.ts';

export const PROMPT_TEMPLATE =
  'The task you need to complete is named entity recognition. Follow {dataset} guidelines.\n\n{format}\n\nText: {text}';

/** Fills Listing 1 in one pass, so braces inside the values are left alone. */
export function buildPrompt(dataset: string, formatInstruction: string, text: string): string {
  const values: Record<string, string> = { dataset, format: formatInstruction, text };
  return PROMPT_TEMPLATE.replace(/\{(dataset|format|text)\}/gu, (_, key: string) => values[key]);
}

export interface ChatMessage {
  role: 'user' | 'assistant';
  content: string;
}

export interface ExampleInput {
  dataset: string;
  text: string;
  entities: readonly Entity[];
  types: readonly string[];
}

/**
 * The dialogues a document yields in a format: one per type for single_* formats, one
 * multi-turn dialogue for conv_term (the first user turn is the prompt, a blank line and
 * `Type: <type>`; later turns are `Type: <type>`), one dialogue for multi_* formats.
 * Throws RenderError where the format cannot express the entities.
 */
export function buildExamples(format: Format, input: ExampleInput): ChatMessage[][] {
  const { dataset, text, entities, types } = input;
  if (format.capabilities.multiTurn) {
    const answers = format.render(text, entities, types) as string[];
    const prompt = buildPrompt(dataset, format.instruction(types), text);
    const messages: ChatMessage[] = [];
    types.forEach((type, i) => {
      const turn = `Type: ${type}`;
      messages.push({ role: 'user', content: i === 0 ? `${prompt}\n\n${turn}` : turn });
      messages.push({ role: 'assistant', content: answers[i] });
    });
    return types.length === 0 ? [] : [messages];
  }
  const groups = format.capabilities.perType ? types.map((t) => [t]) : [types];
  return groups.map((group) => [
    { role: 'user', content: buildPrompt(dataset, format.instruction(group), text) },
    { role: 'assistant', content: format.render(text, entities, group) as string },
  ]);
}
