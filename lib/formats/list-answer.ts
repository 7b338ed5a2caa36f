/** Reading `Answer: [ ... ]` answers and writing them as the paper's Python did (`", "`). */
import type { Problems } from './answer.ts';
import { answerStart } from './answer.ts';
import type { Literal } from './loose-literal.ts';
import { readList } from './loose-literal.ts';

/** `["a", "b"]` with the separators of Python's json.dumps; non-ASCII written as is. */
export function writeList(items: readonly string[]): string {
  return `[${items.join(', ')}]`;
}

export function writeString(s: string): string {
  return JSON.stringify(s);
}

/**
 * The complete elements of the first list after `Answer:`, each with its index. Chatter
 * around the list and code fences are ignored; a cut-off tail is dropped with a problem.
 * `where` prefixes messages (conv_term names the turn).
 */
export function readAnswerList(
  answer: string,
  problems: Problems,
  where = '',
  problemItem?: (index: number) => number,
): Array<{ value: Literal; index: number }> {
  const open = answer.indexOf('[', answerStart(answer));
  if (open < 0) {
    problems.add('no-answer', `${where}no list found in the answer`, problemItem?.(-1));
    return [];
  }
  const reading = readList(answer, open);
  const out: Array<{ value: Literal; index: number }> = [];
  let cut = !reading.closed;
  reading.items.forEach((it, index) => {
    if ('value' in it) out.push({ value: it.value, index });
    else if (it.error === 'truncated') cut = true;
    else problems.add('malformed-item', `${where}item ${index} could not be read`, problemItem?.(index) ?? index);
  });
  if (cut) {
    const cutIndex = reading.items.length - (reading.items.at(-1) && 'error' in reading.items.at(-1)! ? 1 : 0);
    problems.add(
      'truncated',
      `${where}the answer is cut off after ${out.length} complete item(s); the incomplete tail was dropped`,
      problemItem?.(cutIndex) ?? cutIndex,
    );
  }
  return out;
}

/** A string element (numbers are taken as their text; models do write `[5]`). */
export function asText(value: Literal): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  return undefined;
}

/** A field of an object element, matching the key in any case. */
export function field(value: Literal, ...keys: string[]): Literal | undefined {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  for (const want of keys) {
    for (const [k, v] of Object.entries(value)) if (k.toLowerCase() === want) return v;
  }
  return undefined;
}
