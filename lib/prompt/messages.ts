/**
 * Chat messages for one document in one format: the Listing-1 prompt as the first user turn,
 * the rendered answer(s) as assistant turns marked as targets. The native layer applies the
 * model's own chat template; nothing here knows about templates or tokens.
 */
import { buildPrompt, type ChatMessage, type Entity, type Format } from '../formats/index.ts';

export interface PromptMessage extends ChatMessage {
  /** Set on assistant turns the training loss applies to (all of them in conv_term). */
  target?: boolean;
}

/** conv_term's turns (formats issue): the prompt, a blank line and `Type: t`; then `Type: t`. */
export function conversationUserTurn(prompt: string, type: string, first: boolean): string {
  return first ? `${prompt}\n\nType: ${type}` : `Type: ${type}`;
}

/**
 * The dialogue asking `types` about `text` in `format`. With `entities`, the assistant answers
 * are rendered (target turns); without, only the user turns are returned (for inference,
 * where a multi-turn dialogue interleaves the model's own answers).
 */
export function buildMessages(
  format: Format,
  dataset: string,
  text: string,
  types: readonly string[],
  entities?: readonly Entity[],
): PromptMessage[] {
  const prompt = buildPrompt(dataset, format.instruction(types), text);
  const asked = entities?.filter((e) => types.includes(e.type));
  if (format.capabilities.multiTurn) {
    const answers = asked ? (format.render(text, asked, types) as string[]) : undefined;
    return types.flatMap((type, i): PromptMessage[] => {
      const user: PromptMessage = { role: 'user', content: conversationUserTurn(prompt, type, i === 0) };
      return answers ? [user, { role: 'assistant', content: answers[i], target: true }] : [user];
    });
  }
  const messages: PromptMessage[] = [{ role: 'user', content: prompt }];
  if (asked) messages.push({ role: 'assistant', content: format.render(text, asked, types) as string, target: true });
  return messages;
}
