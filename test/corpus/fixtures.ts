/** Small corpus files written by a test into its own temporary folder, and a collector. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { CorpusDocument } from '../../lib/corpus/document.ts';

/** A writer of fixture files `name` → path, in a new temporary folder named after `prefix`. */
export function fixtureWriter(prefix: string): (name: string, content: string) => string {
  const dir = mkdtempSync(path.join(tmpdir(), `mfner-${prefix}-`));
  return (name, content) => {
    const p = path.join(dir, name);
    writeFileSync(p, content);
    return p;
  };
}

export async function all(gen: AsyncIterable<CorpusDocument>): Promise<CorpusDocument[]> {
  const out: CorpusDocument[] = [];
  for await (const d of gen) out.push(d);
  return out;
}
