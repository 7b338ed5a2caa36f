/**
 * PGxCorpus has no official split. This one is deterministic and needs no list: sentences are
 * grouped by PubMed id (the file name before `_`), so no abstract straddles two splits; groups
 * are ordered by an FNV-1a hash of "pgx:" + PubMed id, then filled greedily into test, then dev,
 * up to the paper's sizes (142 each), and the rest goes to train (661 of 945 sentences).
 */
export const PGX_SPLIT_SIZES = { train: 661, dev: 142, test: 142 } as const;

export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export function pubmedId(documentId: string): string {
  return documentId.split('_')[0];
}

/** Assigns each document id to a split; sizes are the targets for test and dev. */
export function splitByPubmed(
  ids: readonly string[],
  sizes: { dev: number; test: number } = PGX_SPLIT_SIZES,
): Map<string, 'train' | 'dev' | 'test'> {
  const groups = new Map<string, string[]>();
  for (const id of [...ids].sort()) {
    const pmid = pubmedId(id);
    groups.set(pmid, [...(groups.get(pmid) ?? []), id]);
  }
  const order = [...groups.keys()].sort((a, b) => fnv1a32(`pgx:${a}`) - fnv1a32(`pgx:${b}`) || (a < b ? -1 : 1));
  const out = new Map<string, 'train' | 'dev' | 'test'>();
  let test = 0;
  let dev = 0;
  for (const pmid of order) {
    const members = groups.get(pmid)!;
    let split: 'train' | 'dev' | 'test' = 'train';
    if (test + members.length <= sizes.test) {
      split = 'test';
      test += members.length;
    } else if (dev + members.length <= sizes.dev) {
      split = 'dev';
      dev += members.length;
    }
    for (const id of members) out.set(id, split);
  }
  return out;
}
