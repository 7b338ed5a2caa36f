/** One call from a dataset name to the examples of one split, configuration and draw. */
import { loadDataset, type DatasetLoadOptions, type LoadedDataset } from '../corpus/registry.ts';
import { sampleSplit } from '../corpus/sample.ts';
import type { SplitName } from '../corpus/genia.ts';
import { buildPromptExamples, type BuildExamplesOptions, type ExampleReport, type PromptExample } from './examples.ts';

export interface PrepareOptions extends DatasetLoadOptions {
  configuration: string;
  split: SplitName;
  draw: number;
  /** Override the paper's cap for this split. */
  cap?: number;
  getFormat?: BuildExamplesOptions['getFormat'];
}

export function datasetInfo(loaded: LoadedDataset) {
  return {
    name: loaded.spec.name,
    guidelineName: loaded.spec.guidelineName,
    labels: loaded.spec.labels,
    hasDiscontinuous: loaded.hasDiscontinuous,
  };
}

export async function prepareExamples(
  datasetName: string,
  options: PrepareOptions,
): Promise<{ examples: PromptExample[]; report: ExampleReport; sampled: number; available: number }> {
  const loaded = await loadDataset(datasetName, options);
  const docs = loaded.splits[options.split];
  const sample = sampleSplit(docs, loaded.spec.name, options.split, options.draw, options.cap);
  const built = buildPromptExamples(sample, {
    dataset: datasetInfo(loaded),
    configuration: options.configuration,
    split: options.split,
    draw: options.draw,
    getFormat: options.getFormat,
  });
  return { ...built, sampled: sample.length, available: docs.length };
}
