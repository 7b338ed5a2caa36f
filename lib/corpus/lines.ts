import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

/** Drops one leading UTF-8 byte-order mark (U+FEFF), as every loader accepts one. */
export function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** Streams a UTF-8 text file line by line with 1-based line numbers; strips a BOM and CR. */
export async function* readLines(file: string): AsyncGenerator<{ line: number; text: string }> {
  const rl = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  let line = 0;
  for await (const raw of rl) {
    line++;
    let text = line === 1 ? stripBom(raw) : raw;
    if (text.endsWith('\r')) text = text.slice(0, -1);
    yield { line, text };
  }
}
