/** Small helpers the format modules share. */
import type { Entity } from './entity.ts';
import type { Placed, RenderRules } from './render-checks.ts';
import { fail, place } from './render-checks.ts';
import type { FormatName, ParseResult } from './types.ts';

export function typeList(types: readonly string[]): string {
  return types.join(', ');
}

/** Places entities or throws the format's RenderError. */
export function placeOrFail(format: FormatName, text: string, entities: readonly Entity[], rules: RenderRules): Placed[] {
  const r = place(text, entities, rules);
  if ('obstacle' in r) fail(format, r.obstacle);
  return r.placed;
}

export function canPlace(text: string, entities: readonly Entity[], rules: RenderRules): boolean {
  return 'placed' in place(text, entities, rules);
}

export function emptyResult(): ParseResult {
  return { entities: [], problems: [] };
}

/** Line formats: a line break inside an entity's text would split its line. */
export function oneLine(s: string): string {
  return s.replace(/\s*[\n\r\v\f\u0085\u2028\u2029]\s*/gu, ' ');
}

/** Formats whose syntax is whitespace-separated write a type's spaces as underscores. */
export function typeToken(type: string): string {
  return type.replace(/\s+/gu, '_');
}

/** The single type of a single_* parse; records a problem when not exactly one was given. */
export function parseType(types: readonly string[], addProblem: (message: string) => void): string | undefined {
  if (types.length !== 1) addProblem(`this format asks for one type per prompt, got ${types.length}`);
  return types[0];
}
