/**
 * From sampled documents to chat examples under a configuration (the paper's §4.4).
 *
 * - train/dev: each document gets one format, drawn uniformly (seeded) among the
 *   configuration's formats that the dataset allows and that can render the document; under
 *   `each:<format>+…` it is rendered in every one of them instead.
 * - test: every allowed format of the configuration is applied to every document, so each
 *   format is scored on the same full test sample.
 * - single_* formats ask one type per example. At test time every (text, type) pair is asked.
 *   For training, a document yields one example per type it has entities of, plus one type
 *   without entities drawn at random (when there is one): models must learn to answer `[]`
 *   (as conv_term's empty turns teach), but asking every absent type would make 80-90% of
 *   GENIA and PGxCorpus examples empty. For one-type datasets this is the same as asking all.
 */
import { getFormat as defaultGetFormat, type Format, type FormatName } from '../formats/index.ts';
import type { CorpusDocument, CorpusEntity } from '../corpus/document.ts';
import { seededRandom } from '../corpus/random.ts';
import type { SplitName } from '../corpus/genia.ts';
import { configurationFormats, datasetAllows, rendersEachFormat } from './configurations.ts';
import { buildMessages, type PromptMessage } from './messages.ts';

export interface DatasetInfo {
  name: string;
  guidelineName: string;
  labels: readonly string[];
  hasDiscontinuous: boolean;
}

export interface PromptExample {
  id: string;
  documentId: string;
  dataset: string;
  split: SplitName;
  draw: number;
  configuration: string;
  format: FormatName;
  /** The types asked, in the dataset's label order (one for single_*). */
  types: string[];
  text: string;
  /** Gold entities of the asked types. */
  entities: CorpusEntity[];
  /** With target answers when `renderable`; user turns only otherwise (test split only). */
  messages: PromptMessage[];
  renderable: boolean;
}

export interface ExampleReport {
  documents: number;
  examples: number;
  byFormat: Partial<Record<FormatName, number>>;
  /** train/dev documents no format of the configuration could render (left out). */
  noFormat: number;
  /** test examples whose gold cannot be rendered in their format (kept, scored on entities). */
  unrenderable: number;
}

export interface BuildExamplesOptions {
  dataset: DatasetInfo;
  configuration: string;
  split: SplitName;
  draw: number;
  /** Format lookup; the registry's by default. */
  getFormat?: (name: FormatName) => Format;
}

export function formatSeedKey(dataset: string, split: SplitName, draw: number, configuration: string, purpose: string): string {
  return `mfner-${purpose}:${dataset}:${split}:${draw}:${configuration}`;
}

export function buildPromptExamples(
  docs: readonly CorpusDocument[],
  options: BuildExamplesOptions,
): { examples: PromptExample[]; report: ExampleReport } {
  const { dataset, configuration, split, draw } = options;
  const lookup = options.getFormat ?? defaultGetFormat;
  const formats = configurationFormats(configuration)
    .map((name) => lookup(name))
    .filter((f) => datasetAllows(f, dataset.hasDiscontinuous));
  const report: ExampleReport = { documents: docs.length, examples: 0, byFormat: {}, noFormat: 0, unrenderable: 0 };
  const examples: PromptExample[] = [];
  const pickFormat = seededRandom(formatSeedKey(dataset.name, split, draw, configuration, 'format'));
  const pickNegative = seededRandom(formatSeedKey(dataset.name, split, draw, configuration, 'negative'));

  const emit = (doc: CorpusDocument, format: Format, types: string[], renderable: boolean) => {
    const entities = doc.entities.filter((e) => types.includes(e.type));
    const suffix = format.capabilities.perType && !format.capabilities.multiTurn ? `|${types[0]}` : '';
    examples.push({
      id: `${doc.id}|${format.name}${suffix}`,
      documentId: doc.id,
      dataset: dataset.name,
      split,
      draw,
      configuration,
      format: format.name,
      types,
      text: doc.text,
      entities,
      messages: buildMessages(format, dataset.guidelineName, doc.text, types, renderable ? doc.entities : undefined),
      renderable,
    });
    report.examples++;
    report.byFormat[format.name] = (report.byFormat[format.name] ?? 0) + 1;
    if (!renderable) report.unrenderable++;
  };

  const perTypeGroups = (doc: CorpusDocument, format: Format, everyType: boolean): string[][] => {
    if (!format.capabilities.perType || format.capabilities.multiTurn) return [[...dataset.labels]];
    if (everyType) return dataset.labels.map((t) => [t]);
    const present = new Set(doc.entities.map((e) => e.type));
    const withEntities = dataset.labels.filter((t) => present.has(t));
    const without = dataset.labels.filter((t) => !present.has(t));
    const groups = withEntities.map((t) => [t]);
    if (without.length > 0) groups.push([without[pickNegative.below(without.length)]]);
    // Back in label order, so the examples of a document read like the dataset's label list.
    return groups.sort((a, b) => dataset.labels.indexOf(a[0]) - dataset.labels.indexOf(b[0]));
  };

  for (const doc of docs) {
    if (split === 'test') {
      const renderable = (f: Format) => f.canRender(doc.text, doc.entities);
      for (const format of formats) {
        const ok = renderable(format);
        for (const types of perTypeGroups(doc, format, true)) emit(doc, format, types, ok);
      }
      continue;
    }
    const candidates = formats.filter((f) => f.canRender(doc.text, doc.entities));
    if (candidates.length === 0) {
      report.noFormat++;
      continue;
    }
    const chosen = rendersEachFormat(configuration) ? candidates : [candidates[pickFormat.below(candidates.length)]];
    for (const format of chosen) for (const types of perTypeGroups(doc, format, false)) emit(doc, format, types, true);
  }
  return { examples, report };
}
