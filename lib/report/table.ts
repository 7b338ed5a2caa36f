import type { DrawSummary } from '../metrics/draws.ts';

/** A number from the paper is a plain number; ours carry their spread over draws. */
export type Cell = string | number | DrawSummary | null;

export interface Column {
  key: string;
  label: string;
  /** Decimals in Markdown; default 2, as the paper prints. Integers print as integers. */
  /** Decimals in Markdown; default 2, as the paper prints; 0 for counts. */
  digits?: number;
}

export interface ReportTable {
  /** File-name friendly: `table2`, `table5-qwen`, … */
  id: string;
  title: string;
  caption: string;
  columns: Column[];
  rows: Array<Record<string, Cell>>;
}

export function isSummary(c: Cell | undefined): c is DrawSummary {
  return typeof c === 'object' && c !== null && 'mean' in c;
}
