/**
 * Training data for `mfner train`: the paper's (datasets × configuration × draw) sampling from
 * the corpora and prompt layers, or a user's JSONL file of chat examples, {prompt, completion}
 * pairs or annotated documents (rendered in the configuration's formats like a corpus split).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadDataset, getDataset, type DatasetLoadOptions } from '../corpus/registry.ts';
import { parseJsonlDocument } from '../corpus/jsonl.ts';
import type { CorpusDocument } from '../corpus/document.ts';
import type { SplitName } from '../corpus/genia.ts';
import { sampleSplit } from '../corpus/sample.ts';
import { withReplacedMentions } from './augment.ts';
import { buildPromptExamples, type PromptExample } from '../prompt/examples.ts';
import { MfnerError } from '../native/errors.ts';
import type { DevExample } from './evaluate.ts';
import type { TrainChatMessage, TrainExample } from './examples.ts';

export interface TrainingData {
  train: TrainExample[];
  dev: DevExample[];
  /** Counts only (never text): what was sampled and rendered. */
  report: { source: string; trainDocuments: number; trainExamples: number; devDocuments: number; devExamples: number; byFormat: Record<string, number>; notes: string[] };
}

export function devExampleOf(e: PromptExample, guideline: string): DevExample {
  return { id: e.id, format: e.format, types: e.types, guideline, text: e.text, entities: e.entities };
}

function chatOf(e: PromptExample): TrainExample {
  return {
    messages: e.messages.map((m): TrainChatMessage => ({ role: m.role as TrainChatMessage['role'], content: m.content, ...(m.target ? { target: true } : {}) })),
    group: `${e.dataset}|${e.format}|${e.types.join(',')}`,
  };
}

export interface DatasetDataOptions extends DatasetLoadOptions {
  datasets: readonly string[];
  configuration: string;
  draw: number;
  /** Train sample cap (default the paper's 10 000 documents per dataset). */
  trainCap?: number;
  /** Dev sample cap (default the paper's 200). */
  devCap?: number;
  /** Mention-replaced copies added per training document (augment.ts; default 0). */
  mentionReplacement?: number;
}

/** The paper's setup: each dataset's seeded train and dev samples, rendered under a configuration. */
export async function datasetTrainingData(o: DatasetDataOptions): Promise<TrainingData> {
  const report: TrainingData['report'] = { source: `datasets ${o.datasets.join(',')} config ${o.configuration} draw ${o.draw}`, trainDocuments: 0, trainExamples: 0, devDocuments: 0, devExamples: 0, byFormat: {}, notes: [] };
  const train: TrainExample[] = [];
  const dev: DevExample[] = [];
  for (const name of o.datasets) {
    const loaded = await loadDataset(name, o);
    const info = { name: loaded.spec.name, guidelineName: loaded.spec.guidelineName, labels: loaded.spec.labels, hasDiscontinuous: loaded.hasDiscontinuous };
    for (const split of ['train', 'dev'] as const) {
      const sampled = sampleSplit(loaded.splits[split], loaded.spec.name, split, o.draw, split === 'train' ? o.trainCap : o.devCap);
      const docs = split === 'train' && o.mentionReplacement ? withReplacedMentions(sampled, { copies: o.mentionReplacement, seed: `${loaded.spec.name}/train/${o.draw}` }) : sampled;
      const built = buildPromptExamples(docs, { dataset: info, configuration: o.configuration, split, draw: o.draw });
      if (built.report.noFormat > 0) report.notes.push(`${loaded.spec.name} ${split}: ${built.report.noFormat} document(s) no format of ${o.configuration} can render were left out`);
      if (split === 'train') {
        report.trainDocuments += docs.length;
        report.trainExamples += built.examples.length;
        for (const e of built.examples) {
          train.push(chatOf(e));
          report.byFormat[e.format] = (report.byFormat[e.format] ?? 0) + 1;
        }
      } else {
        report.devDocuments += docs.length;
        report.devExamples += built.examples.length;
        for (const e of built.examples) dev.push(devExampleOf(e, loaded.spec.guidelineName));
      }
    }
  }
  return { train, dev, report };
}

export interface FileDataOptions {
  /** Configuration annotated documents are rendered under (default `all`). */
  configuration?: string;
  /** Entity types of annotated documents (default: every type they use, in order of appearance). */
  types?: readonly string[];
  /** "Follow {name} guidelines" for annotated documents (default `the annotation`). */
  guideline?: string;
  draw?: number;
}

type Line = { kind: 'example'; example: TrainExample } | { kind: 'document'; doc: CorpusDocument };

function parseLine(value: unknown, file: string, line: number): Line {
  const where = `${path.basename(file)} line ${line}`;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new MfnerError('ERR_INVALID_ARG', `${where}: expected a JSON object`);
  const v = value as Record<string, unknown>;
  if (Array.isArray(v.messages)) {
    const messages = v.messages.map((m, k): TrainChatMessage => {
      const { role, content, target } = (m ?? {}) as Record<string, unknown>;
      if ((role !== 'system' && role !== 'user' && role !== 'assistant') || typeof content !== 'string') {
        throw new MfnerError('ERR_INVALID_ARG', `${where}: messages[${k}] needs a role (system, user, assistant) and a string content`);
      }
      return { role, content, ...(typeof target === 'boolean' ? { target } : {}) };
    });
    if (!messages.some((m) => m.role === 'assistant')) throw new MfnerError('ERR_INVALID_ARG', `${where}: a chat example needs an assistant turn to train on`);
    return { kind: 'example', example: { messages } };
  }
  if (typeof v.prompt === 'string' || typeof v.completion === 'string') {
    if (typeof v.prompt !== 'string' || typeof v.completion !== 'string' || v.completion === '') {
      throw new MfnerError('ERR_INVALID_ARG', `${where}: a pair needs string "prompt" and non-empty "completion"`);
    }
    return { kind: 'example', example: { prompt: v.prompt, completion: v.completion } };
  }
  if (typeof v.text === 'string') {
    try {
      const doc = parseJsonlDocument({ ...v, id: v.id ?? `line${line}` }, path.basename(file), line);
      return { kind: 'document', doc };
    } catch (err) {
      throw new MfnerError('ERR_INVALID_ARG', (err as Error).message);
    }
  }
  throw new MfnerError('ERR_INVALID_ARG', `${where}: expected {"messages"}, {"prompt", "completion"} or an annotated document {"text", "entities"}`);
}

function readLinesOf(file: string): Line[] {
  const out: Line[] = [];
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((raw, i) => {
      if (raw.trim() === '') return;
      let value: unknown;
      try {
        value = JSON.parse(raw);
      } catch {
        throw new MfnerError('ERR_INVALID_ARG', `${path.basename(file)} line ${i + 1} is not valid JSON`);
      }
      out.push(parseLine(value, file, i + 1));
    });
  return out;
}

function renderDocuments(docs: CorpusDocument[], split: SplitName, o: FileDataOptions) {
  const types = o.types ?? [...new Set(docs.flatMap((d) => d.entities.map((e) => e.type)))];
  if (types.length === 0) throw new MfnerError('ERR_INVALID_ARG', 'annotated documents need entity types: give --types or entities in the file');
  for (const d of docs) d.entities = d.entities.filter((e) => types.includes(e.type));
  const dataset = { name: 'data', guidelineName: o.guideline ?? 'the annotation', labels: types, hasDiscontinuous: docs.some((d) => d.entities.some((e) => e.discontinuous)) };
  return buildPromptExamples(docs, { dataset, configuration: o.configuration ?? 'all', split, draw: o.draw ?? 1 });
}

/** A user's training file (and optional dev file of annotated documents). */
export function fileTrainingData(trainFile: string, devFile: string | undefined, o: FileDataOptions = {}): TrainingData {
  const report: TrainingData['report'] = { source: `file ${path.basename(trainFile)}`, trainDocuments: 0, trainExamples: 0, devDocuments: 0, devExamples: 0, byFormat: {}, notes: [] };
  const train: TrainExample[] = [];
  const lines = readLinesOf(trainFile);
  const docs = lines.flatMap((l) => (l.kind === 'document' ? [l.doc] : []));
  for (const l of lines) if (l.kind === 'example') train.push(l.example);
  report.trainDocuments = lines.length;
  if (docs.length > 0) {
    const built = renderDocuments(docs, 'train', o);
    for (const e of built.examples) {
      train.push(chatOf(e));
      report.byFormat[e.format] = (report.byFormat[e.format] ?? 0) + 1;
    }
    if (built.report.noFormat > 0) report.notes.push(`${built.report.noFormat} document(s) no format of the configuration can render were left out`);
  }
  report.trainExamples = train.length;
  const dev: DevExample[] = [];
  if (devFile) {
    const devLines = readLinesOf(devFile);
    const devDocs = devLines.flatMap((l) => (l.kind === 'document' ? [l.doc] : []));
    if (devDocs.length < devLines.length) throw new MfnerError('ERR_INVALID_ARG', 'a dev file holds annotated documents only ({"text", "entities"}): chat examples and pairs cannot be scored');
    const trainTypes = [...new Set(docs.flatMap((d) => d.entities.map((e) => e.type)))];
    const built = renderDocuments(devDocs, 'dev', { ...o, types: o.types ?? (trainTypes.length > 0 ? trainTypes : undefined) });
    for (const e of built.examples) dev.push(devExampleOf(e, o.guideline ?? 'the annotation'));
    report.devDocuments = devDocs.length;
    report.devExamples = dev.length;
  }
  return { train, dev, report };
}

/** Chat examples and {prompt, completion} pairs from a JSONL file (what `mfner loss` scores). */
export function readExampleFile(file: string): TrainExample[] {
  return readLinesOf(file).map((l, i) => {
    if (l.kind !== 'example') throw new MfnerError('ERR_INVALID_ARG', `${path.basename(file)}: example ${i + 1} is an annotated document; expected {"messages"} or {"prompt", "completion"}`);
    return l.example;
  });
}

/** The guideline name of a registry dataset (for callers building dev examples themselves). */
export function guidelineOf(dataset: string): string {
  return getDataset(dataset).guidelineName;
}
