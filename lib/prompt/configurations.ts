/**
 * The paper's format configurations (§4.4) and which formats a dataset may be rendered in.
 */
import { FORMAT_NAMES, isFormatName, type Format, type FormatName } from '../formats/index.ts';

export const CONFIGURATIONS: Readonly<Record<string, readonly FormatName[]>> = Object.freeze({
  all: FORMAT_NAMES,
  '7best': ['conv_term', 'multi_tag', 'multi_term', 'multi_triple', 'single_code', 'single_tag', 'single_term'],
  term_ner: ['multi_term', 'single_term'],
});

export const CONFIGURATION_NAMES: readonly string[] = [...Object.keys(CONFIGURATIONS), ...FORMAT_NAMES.map((f) => `only:${f}`)];

/**
 * `each:<format>+<format>…`: one model trained on several formats, every training (and dev)
 * document rendered in each of them, where the paper's mixed configurations draw one format per
 * document. At a fixed budget it shows a small model every sentence once per format, so what the
 * formats share (which words are entities, where a mention starts and ends) is learnt from all
 * of their examples (docs/training.md, "--scale cpu").
 */
export const EACH_PREFIX = 'each:';

export function rendersEachFormat(name: string): boolean {
  return name.startsWith(EACH_PREFIX);
}

/** `all`, `7best`, `term_ner`, `only:<format>` or `each:<format>+…` → its formats, in the paper's order. */
export function configurationFormats(name: string): FormatName[] {
  const fixed = CONFIGURATIONS[name];
  if (fixed) return [...fixed];
  const only = /^only:(.+)$/.exec(name);
  if (only && isFormatName(only[1])) return [only[1]];
  if (rendersEachFormat(name)) {
    const listed = name.slice(EACH_PREFIX.length).split('+');
    if (listed.every((f) => isFormatName(f)) && new Set(listed).size === listed.length) {
      return FORMAT_NAMES.filter((f) => listed.includes(f));
    }
  }
  throw new Error(
    `unknown configuration ${JSON.stringify(name)}; use all, 7best, term_ner, only:<format> or each:<format>+<format>… (distinct formats) with formats among ${FORMAT_NAMES.join(', ')}`,
  );
}

/**
 * A dataset with discontinuous entities never goes to a format that cannot express them
 * (single_tag, multi_tag, multi_bio, single_span, multi_span), whatever a given example holds:
 * the paper constrains by dataset, so a model never learns to drop a fragment silently.
 */
export function datasetAllows(format: Format, hasDiscontinuous: boolean): boolean {
  return !hasDiscontinuous || format.capabilities.discontinuous;
}
