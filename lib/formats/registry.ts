import type { Format, FormatName } from './types.ts';
import { FORMAT_NAMES } from './types.ts';

const FORMATS: Partial<Record<FormatName, Format>> = {};

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
