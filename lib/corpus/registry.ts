/**
 * The datasets the paper uses: where their files are under a corpora root, how to read them,
 * their label set in a fixed order (the order conv_term asks types in), the name that fills
 * "Follow {dataset} guidelines", and whether they hold discontinuous entities, which decides
 * which formats they may be rendered in.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import fg from 'fast-glob';
import { loadBratDocument } from './brat.ts';
import { loadCadec } from './cadec.ts';
import type { CorpusDocument } from './document.ts';
import { CorpusError, type LoadOptions } from './errors.ts';
import { GENIA_TYPES } from './genia-types.ts';
import { loadGenia, SPLITS, type GeniaStats, type SplitName } from './genia.ts';
import { readIob } from './iob.ts';
import { defaultCorporaRoot } from './paths.ts';
import { PGX_SPLIT_SIZES, splitByPubmed } from './pgx-split.ts';

export type { SplitName } from './genia.ts';
export { SPLITS } from './genia.ts';

export type DatasetLoader = 'iob' | 'cadec' | 'genia' | 'brat';

export interface DatasetSpec {
  /** Canonical name (the folder under the corpora root). */
  name: string;
  aliases: readonly string[];
  /** Fills "Follow {dataset} guidelines". */
  guidelineName: string;
  loader: DatasetLoader;
  /** Paths relative to the corpora root. */
  files: Partial<Record<SplitName, string>> & { xml?: string; splitsDir?: string; bratDir?: string };
  labels: readonly string[];
  hasDiscontinuous: boolean;
}

const iob = (name: string, aliases: string[], labels: string[]): DatasetSpec => ({
  name,
  aliases,
  guidelineName: name,
  loader: 'iob',
  files: { train: `${name}/train.tsv`, dev: `${name}/devel.tsv`, test: `${name}/test.tsv` },
  labels,
  hasDiscontinuous: false,
});

export const DATASETS: readonly DatasetSpec[] = Object.freeze([
  iob('AnatEM', ['anatem'], ['Anatomy']),
  iob('BC2GM', ['bc2gm'], ['GENE']),
  iob('BC4CHEMD', ['bc4chemd'], ['Chemical']),
  iob('BC5CDR', ['bc5cdr'], ['Chemical', 'Disease']),
  {
    name: 'CADEC',
    aliases: ['cadec'],
    guidelineName: 'CADEC',
    loader: 'cadec',
    files: { train: 'CADEC/train.json', dev: 'CADEC/dev.json', test: 'CADEC/test.json' },
    labels: ['ADR'],
    hasDiscontinuous: true,
  },
  {
    name: 'GENIA',
    aliases: ['genia'],
    guidelineName: 'Genia', // as in the paper's Listing 2
    loader: 'genia',
    files: { xml: 'GENIA/GENIA_term_3.02/GENIAcorpus3.02.xml', splitsDir: 'GENIA/CNN_Nested_NER-genia/splits' },
    labels: GENIA_TYPES,
    hasDiscontinuous: false,
  },
  iob('NCBI-disease', ['ncbi', 'ncbi-disease', 'ncbi_disease'], ['Disease']),
  {
    name: 'PGxCorpus',
    aliases: ['pgx', 'pgxcorpus'],
    guidelineName: 'PGxCorpus',
    loader: 'brat',
    files: { bratDir: 'PGxCorpus/brat' },
    // Alphabetical: the corpus defines no order of its own.
    labels: [
      'Chemical',
      'Disease',
      'Gene_or_protein',
      'Genomic_factor',
      'Genomic_variation',
      'Haplotype',
      'Limited_variation',
      'Pharmacodynamic_phenotype',
      'Pharmacokinetic_phenotype',
      'Phenotype',
    ],
    hasDiscontinuous: true,
  },
]);

export const DATASET_NAMES: readonly string[] = DATASETS.map((d) => d.name);

export function getDataset(name: string): DatasetSpec {
  const key = name.toLowerCase();
  const spec = DATASETS.find((d) => d.name.toLowerCase() === key || d.aliases.includes(key));
  if (!spec) throw new Error(`unknown dataset ${JSON.stringify(name)}; known datasets: ${DATASET_NAMES.join(', ')}`);
  return spec;
}

export interface DatasetLoadOptions extends LoadOptions {
  /** Corpora root; default `$MFNER_CORPORA` or `../shared/corpora` beside the package. */
  root?: string;
  /** GENIA only: keep coordinated members as (discontinuous) entities. */
  geniaCoordination?: 'drop' | 'keep';
}

export interface LoadedDataset {
  spec: DatasetSpec;
  splits: Record<SplitName, CorpusDocument[]>;
  /** Whether this load holds discontinuous entities (GENIA with coordinations kept does). */
  hasDiscontinuous: boolean;
  genia?: GeniaStats;
}

export class DatasetMissingError extends Error {
  readonly code = 'MFNER_DATASET_MISSING';
  constructor(readonly dataset: string, readonly missing: string[]) {
    super(
      `dataset ${dataset}: file${missing.length > 1 ? 's' : ''} not found: ${missing.join(', ')}` +
        (dataset === 'BC4CHEMD'
          ? ' (BC4CHEMD is not distributed with the shared corpora: put its train.tsv, devel.tsv and test.tsv there)'
          : '') +
        ' (set MFNER_CORPORA or the corpora root option to the folder holding the corpora)',
    );
    this.name = 'DatasetMissingError';
  }
}

/** Absolute paths a dataset needs, and which of them are missing. */
export function datasetFiles(spec: DatasetSpec, root = defaultCorporaRoot()): { paths: string[]; missing: string[] } {
  const paths = Object.values(spec.files).map((rel) => path.join(root, rel));
  return { paths, missing: paths.filter((p) => !existsSync(p)) };
}

async function collect(gen: AsyncIterable<CorpusDocument>): Promise<CorpusDocument[]> {
  const out: CorpusDocument[] = [];
  for await (const doc of gen) out.push(doc);
  return out;
}

export async function loadDataset(name: string, options: DatasetLoadOptions = {}): Promise<LoadedDataset> {
  const spec = getDataset(name);
  const root = options.root ?? defaultCorporaRoot();
  const { missing } = datasetFiles(spec, root);
  if (missing.length > 0) throw new DatasetMissingError(spec.name, missing);
  const at = (rel: string) => path.join(root, rel);
  const common = { lenient: options.lenient, report: options.report, types: spec.labels };
  const splits = { train: [], dev: [], test: [] } as Record<SplitName, CorpusDocument[]>;
  switch (spec.loader) {
    case 'iob':
      for (const split of SPLITS) splits[split] = await collect(readIob(at(spec.files[split]!), { ...common, idPrefix: `${spec.name}/${split}#` }));
      return { spec, splits, hasDiscontinuous: spec.hasDiscontinuous };
    case 'cadec':
      for (const split of SPLITS) splits[split] = await loadCadec(at(spec.files[split]!), { ...common, idPrefix: `${spec.name}/${split}#` });
      return { spec, splits, hasDiscontinuous: spec.hasDiscontinuous };
    case 'genia': {
      const coordination = options.geniaCoordination ?? 'drop';
      const genia = await loadGenia(at(spec.files.xml!), { splitsDir: at(spec.files.splitsDir!), coordination, report: options.report });
      return { spec, splits: genia.splits, hasDiscontinuous: coordination === 'keep', genia: genia.stats };
    }
    case 'brat': {
      const dir = at(spec.files.bratDir!);
      const txtFiles = (await fg('*.txt', { cwd: dir, absolute: true })).sort();
      if (txtFiles.length === 0) throw new DatasetMissingError(spec.name, [path.join(dir, '*.txt')]);
      const docs: CorpusDocument[] = [];
      for (const file of txtFiles) {
        if (!existsSync(file.replace(/\.txt$/, '.ann'))) {
          throw new CorpusError({ file: path.basename(file) }, 'no .ann file beside this .txt file');
        }
        docs.push(await loadBratDocument(file, common));
      }
      const splitOf = splitByPubmed(docs.map((d) => d.id), PGX_SPLIT_SIZES);
      for (const doc of docs) splits[splitOf.get(doc.id)!].push(doc);
      return { spec, splits, hasDiscontinuous: spec.hasDiscontinuous };
    }
  }
}
