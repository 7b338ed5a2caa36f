import { multiBio } from './bio-format.ts';
import { multiBrat } from './brat-format.ts';
import { multiCode, singleCode } from './code-formats.ts';
import { multiSpan, singleSpan } from './span-formats.ts';
import { multiTag, singleTag } from './tag-formats.ts';
import { convTerm, multiTerm, singleTerm } from './term-formats.ts';
import { multiTriple } from './triple-format.ts';
import type { Format, FormatName } from './types.ts';
import { FORMAT_NAMES } from './types.ts';

const FORMATS: Record<FormatName, Format> = {
  conv_term: convTerm,
  single_tag: singleTag,
  multi_tag: multiTag,
  single_code: singleCode,
  multi_code: multiCode,
  single_term: singleTerm,
  multi_term: multiTerm,
  single_span: singleSpan,
  multi_span: multiSpan,
  multi_triple: multiTriple,
  multi_bio: multiBio,
  multi_brat: multiBrat,
};

export function isFormatName(name: string): name is FormatName {
  return (FORMAT_NAMES as readonly string[]).includes(name);
}

/** Throws a clear error naming the valid formats. */
export function getFormat(name: string): Format {
  const format = isFormatName(name) ? FORMATS[name] : undefined;
  if (!format) {
    throw new Error(`unknown format ${JSON.stringify(name)}; valid formats: ${FORMAT_NAMES.join(', ')}`);
  }
  return format;
}

export function allFormats(): Format[] {
  return FORMAT_NAMES.map((n) => getFormat(n));
}
