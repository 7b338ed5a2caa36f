/**
 * Corpus statistics in the shape of the paper's Table 1, computed from the files, with the
 * paper's own figures beside them: they differ (other releases, other splits, and a CADEC
 * with five types where ours is ADR-only), and users should see by how much.
 */
import type { CorpusDocument } from './document.ts';
import type { LoadedDataset, SplitName } from './registry.ts';
import { SPLITS } from './genia.ts';

export interface SplitStats {
  sentences: number;
  entities: number;
  byType: Record<string, number>;
  nestedEntities: number;
  discontinuousEntities: number;
  sentencesWithNested: number;
  sentencesWithDiscontinuous: number;
}

export interface DatasetStats {
  dataset: string;
  labels: string[];
  splits: Record<SplitName, SplitStats>;
  paper?: PaperRow;
}

/** The paper's Table 1, as printed (nested/discontinuous are the paper's ranges, in %). */
export interface PaperRow {
  train: number;
  dev: number;
  test: number;
  nested: string;
  discontinuous: string;
  labels: number;
}

export const PAPER_TABLE_1: Readonly<Record<string, PaperRow>> = Object.freeze({
  AnatEM: { train: 5861, dev: 2118, test: 3830, nested: '-', discontinuous: '-', labels: 1 },
  BC2GM: { train: 12500, dev: 2500, test: 5000, nested: '-', discontinuous: '-', labels: 1 },
  BC4CHEMD: { train: 30682, dev: 30639, test: 26364, nested: '-', discontinuous: '-', labels: 1 },
  BC5CDR: { train: 4560, dev: 4581, test: 4797, nested: '-', discontinuous: '-', labels: 2 },
  CADEC: { train: 5317, dev: 1140, test: 1140, nested: '-', discontinuous: '~6.5-8.5%', labels: 5 },
  GENIA: { train: 15023, dev: 1669, test: 1854, nested: '~2-2.5%', discontinuous: '-', labels: 5 },
  'NCBI-disease': { train: 5432, dev: 923, test: 940, nested: '-', discontinuous: '-', labels: 1 },
  PGxCorpus: { train: 661, dev: 142, test: 142, nested: '~4-4.5%', discontinuous: '~0.8-1.8%', labels: 10 },
});

export function splitStats(docs: readonly CorpusDocument[]): SplitStats {
  const s: SplitStats = {
    sentences: docs.length,
    entities: 0,
    byType: {},
    nestedEntities: 0,
    discontinuousEntities: 0,
    sentencesWithNested: 0,
    sentencesWithDiscontinuous: 0,
  };
  for (const doc of docs) {
    let nested = false;
    let disc = false;
    for (const e of doc.entities) {
      s.entities++;
      s.byType[e.type] = (s.byType[e.type] ?? 0) + 1;
      if (e.nested) (s.nestedEntities++, (nested = true));
      if (e.discontinuous) (s.discontinuousEntities++, (disc = true));
    }
    if (nested) s.sentencesWithNested++;
    if (disc) s.sentencesWithDiscontinuous++;
  }
  return s;
}

export function datasetStats(loaded: LoadedDataset): DatasetStats {
  const splits = {} as Record<SplitName, SplitStats>;
  for (const split of SPLITS) splits[split] = splitStats(loaded.splits[split]);
  return { dataset: loaded.spec.name, labels: [...loaded.spec.labels], splits, paper: PAPER_TABLE_1[loaded.spec.name] };
}

const pct = (n: number, d: number) => (d === 0 ? '0.0%' : `${((100 * n) / d).toFixed(1)}%`);

/**
 * Table 1 as text: one line per dataset and split, ours then the paper's. Percentages are of
 * entities, with the share of sentences in brackets.
 */
export function formatStatsTable(rows: readonly (DatasetStats | { dataset: string; error: string })[]): string {
  const header = ['dataset', 'split', 'sentences', 'paper', 'entities', 'nested % (sent.)', 'paper', 'discont. % (sent.)', 'paper', 'labels', 'paper', 'entities per type'];
  const lines: string[][] = [header];
  for (const row of rows) {
    if ('error' in row) {
      lines.push([row.dataset, '-', 'absent', String(PAPER_TABLE_1[row.dataset]?.train ?? '-'), '', '', '', '', '', '', '', row.error]);
      continue;
    }
    for (const split of SPLITS) {
      const s = row.splits[split];
      const p = row.paper;
      lines.push([
        row.dataset,
        split,
        String(s.sentences),
        p ? String(p[split]) : '-',
        String(s.entities),
        `${pct(s.nestedEntities, s.entities)} (${pct(s.sentencesWithNested, s.sentences)})`,
        p?.nested ?? '-',
        `${pct(s.discontinuousEntities, s.entities)} (${pct(s.sentencesWithDiscontinuous, s.sentences)})`,
        p?.discontinuous ?? '-',
        String(row.labels.length),
        p ? String(p.labels) : '-',
        row.labels.map((l) => `${l}=${s.byType[l] ?? 0}`).join(' '),
      ]);
    }
  }
  const widths = header.map((_, i) => Math.max(...lines.map((l) => (l[i] ?? '').length)));
  return lines.map((l) => l.map((c, i) => (i === l.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd()).join('\n');
}
