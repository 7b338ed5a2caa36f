/**
 * Numbers transcribed from the paper (Epron, Coulet, Alam, LREC 2026), Table 5: F-score per
 * dataset of the paper's best model and of the baselines. A dash in the paper is `null` here.
 * "Base" is a standard BERT model (for PGxCorpus the original study's CNN, for CADEC the
 * Grid-Tagging approach), UIE is InstructIE, UniNER appears once supervised and once zero-shot.
 */
export interface PaperBaselineRow {
  /** The dataset as the paper's table names it. */
  paperName: string;
  /** Normalised names (lower case, letters and digits) that our dataset names may take. */
  aliases: string[];
  ours7best: number;
  oursConvTerm: number;
  base: number;
  uie: number | null;
  uninerSupervised: number | null;
  uninerZeroShot: number | null;
  gliner: number | null;
}

export const PAPER_TABLE5_SOURCE = 'Epron, Coulet & Alam (LREC 2026), Table 5';

export const PAPER_TABLE5: readonly PaperBaselineRow[] = [
  { paperName: 'AnatEM', aliases: ['anatem'], ours7best: 0.87, oursConvTerm: 0.87, base: 0.86, uie: 0.89, uninerSupervised: 0.89, uninerZeroShot: 0.25, gliner: 0.34 },
  { paperName: 'GENIA', aliases: ['genia'], ours7best: 0.72, oursConvTerm: 0.77, base: 0.73, uie: 0.76, uninerSupervised: 0.78, uninerZeroShot: 0.54, gliner: 0.56 },
  { paperName: 'bc2gm', aliases: ['bc2gm'], ours7best: 0.79, oursConvTerm: 0.8, base: 0.81, uie: 0.81, uninerSupervised: 0.82, uninerZeroShot: 0.46, gliner: 0.48 },
  { paperName: 'bc4chemd', aliases: ['bc4chemd'], ours7best: 0.85, oursConvTerm: 0.87, base: 0.87, uie: 0.88, uninerSupervised: 0.89, uninerZeroShot: 0.48, gliner: 0.43 },
  { paperName: 'bc5cdr', aliases: ['bc5cdr'], ours7best: 0.86, oursConvTerm: 0.86, base: 0.85, uie: 0.89, uninerSupervised: 0.89, uninerZeroShot: 0.68, gliner: 0.66 },
  { paperName: 'ncbi', aliases: ['ncbi', 'ncbidisease'], ours7best: 0.88, oursConvTerm: 0.87, base: 0.8, uie: 0.86, uninerSupervised: 0.87, uninerZeroShot: 0.6, gliner: 0.62 },
  { paperName: 'CADEC', aliases: ['cadec'], ours7best: 0.7, oursConvTerm: 0.76, base: 0.74, uie: null, uninerSupervised: null, uninerZeroShot: null, gliner: null },
  { paperName: 'PGX', aliases: ['pgx', 'pgxcorpus'], ours7best: 0.62, oursConvTerm: 0.71, base: 0.59, uie: null, uninerSupervised: null, uninerZeroShot: null, gliner: null },
];

export function normalizeDatasetName(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, '');
}

export function paperBaseline(dataset: string): PaperBaselineRow | undefined {
  const n = normalizeDatasetName(dataset);
  return PAPER_TABLE5.find((r) => r.aliases.includes(n));
}
