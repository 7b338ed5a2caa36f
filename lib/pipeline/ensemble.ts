/**
 * Ensemble extraction: several formats on one model, voting entity by entity.
 *
 * Each format extracts every document (the same prompts, batching and constraints as
 * `extract`); then, per document, an entity is identified by its type and spans (the strict
 * matching key of lib/metrics; an ungrounded entity, which has no spans, by its type and text)
 * and counts one vote per format that produced it. **Decision**: an entity is kept when at
 * least `minVotes` of the formats that answered produced it (default: a strict majority).
 * Each kept entity reports `votes`, `agreement` (votes / formats that answered), the `formats`
 * that produced it, and `confidence`: the sum of those formats' confidences divided by the
 * formats that answered (a soft vote: a format that missed the entity counts 0), so it is in
 * (0, 1] and folds agreement and token probabilities into one number for triage.
 *
 * Input is read in windows of `window` documents (default 4 × batchSize, at least 16); each
 * format runs over a window before the next window is read, so memory stays bounded and the
 * model is loaded once.
 */
import { sortEntities, type FormatName } from '../formats/index.ts';
import { matchKey, matchDocument, sumCounts, prf, type Counts, type Prf } from '../metrics/index.ts';
import type { Entity } from '../formats/entity.ts';
import { Model, MfnerError } from '../native/index.ts';
import { extract, type ExtractInput, type ExtractOptions, type ExtractedDocument, type ExtractedEntity, type ExtractSummary } from './extract.ts';

export interface EnsembleOptions extends Omit<ExtractOptions, 'format'> {
  formats: readonly FormatName[];
  /** Votes an entity needs (default: a strict majority of the formats that answered). */
  minVotes?: number;
  /** Documents per window (default max(4 × batchSize, 16)). */
  window?: number;
}

export interface VotedEntity extends ExtractedEntity {
  votes: number;
  /** votes / formats that answered this document. */
  agreement: number;
  formats: FormatName[];
}

export interface EnsembleDocument {
  index: number;
  id: string;
  /** The kept entities, in text order. */
  entities: VotedEntity[];
  /** Every format's own result (entities, answers, errors). */
  byFormat: Partial<Record<FormatName, ExtractedDocument>>;
  /** Set when no format could process the document. */
  error?: { code: string; message: string };
}

/** The default threshold: a strict majority of n. */
export const majority = (n: number): number => Math.floor(n / 2) + 1;

function voteKey(e: Entity): string {
  return matchKey(e, 'strict') ?? `text\u0000${matchKey(e, 'text')}`;
}

/**
 * The vote over one document's per-format entities. `minVotes` is clamped to [1, n]; with
 * n = 0 nothing is kept.
 */
export function voteEntities(perFormat: readonly { format: FormatName; entities: readonly ExtractedEntity[] }[], minVotes?: number): VotedEntity[] {
  const n = perFormat.length;
  if (n === 0) return [];
  const k = Math.min(n, Math.max(1, minVotes ?? majority(n)));
  const byKey = new Map<string, { entity: ExtractedEntity; formats: FormatName[]; confidence: number }>();
  for (const { format, entities } of perFormat) {
    const seen = new Set<string>();
    for (const e of entities) {
      const key = voteKey(e);
      if (seen.has(key)) continue; // a format votes once per entity
      seen.add(key);
      const slot = byKey.get(key);
      if (slot) {
        slot.formats.push(format);
        slot.confidence += e.confidence ?? 1;
      } else byKey.set(key, { entity: e, formats: [format], confidence: e.confidence ?? 1 });
    }
  }
  const kept: VotedEntity[] = [];
  for (const { entity, formats, confidence } of byKey.values()) {
    if (formats.length < k) continue;
    const { confidence: _, ...rest } = entity;
    kept.push({ ...rest, votes: formats.length, agreement: formats.length / n, formats, confidence: Math.min(1, confidence / n) });
  }
  return sortEntities(kept);
}

async function* windows<T>(input: Iterable<T> | AsyncIterable<T>, size: number): AsyncGenerator<T[]> {
  let buf: T[] = [];
  for await (const x of input as AsyncIterable<T>) {
    buf.push(x);
    if (buf.length >= size) {
      yield buf;
      buf = [];
    }
  }
  if (buf.length) yield buf;
}

/** Runs every format over the documents and votes; one result per document, in input order. */
export async function* extractEnsemble(
  input: Iterable<ExtractInput> | AsyncIterable<ExtractInput>,
  options: EnsembleOptions,
  summary?: ExtractSummary,
): AsyncGenerator<EnsembleDocument> {
  const formats = [...new Set(options.formats)];
  if (formats.length < 2) throw new MfnerError('ERR_INVALID_ARG', 'an ensemble needs at least two distinct formats');
  if (options.minVotes !== undefined && (!Number.isInteger(options.minVotes) || options.minVotes < 1 || options.minVotes > formats.length)) {
    throw new MfnerError('ERR_INVALID_ARG', `minVotes must be an integer from 1 to ${formats.length}`);
  }
  const size = options.window ?? Math.max(4 * (options.batchSize ?? 8), 16);
  const ownModel = typeof options.model === 'string';
  const model = typeof options.model === 'string' ? await Model.load(options.model) : options.model;
  try {
    let base = 0;
    for await (const docs of windows(input, size)) {
      const results = new Map<FormatName, ExtractedDocument[]>();
      for (const format of formats) {
        const out: ExtractedDocument[] = [];
        for await (const d of extract(docs, { ...options, model, format }, summary)) out.push(d);
        results.set(format, out);
      }
      for (let i = 0; i < docs.length; i++) {
        const raw = docs[i];
        const id = typeof raw === 'object' && raw !== null && raw.id !== undefined ? String(raw.id) : String(base + i);
        const byFormat: Partial<Record<FormatName, ExtractedDocument>> = {};
        const answered: { format: FormatName; entities: ExtractedEntity[] }[] = [];
        for (const format of formats) {
          const d = results.get(format)![i];
          byFormat[format] = { ...d, index: base + i, id };
          if (!d.error) answered.push({ format, entities: d.entities });
        }
        const first = results.get(formats[0])![i];
        const doc: EnsembleDocument = { index: base + i, id, entities: voteEntities(answered, options.minVotes), byFormat };
        if (answered.length === 0) doc.error = first.error ?? { code: 'ERR_EXTRACT', message: 'no format could process the document' };
        yield doc;
      }
      base += docs.length;
    }
  } finally {
    if (ownModel) await model.dispose();
  }
}

export interface EnsembleScore {
  /** Strict-match counts and P/R/F1 per format and for the vote at each threshold k = 1..n. */
  formats: Record<string, Counts & Prf>;
  votes: Record<number, Counts & Prf>;
  bestFormat: string;
  /** The threshold with the best F1 and whether it beats the best single format. */
  bestVote: number;
  voteBeatsBest: boolean;
}

/**
 * Does voting beat the best single format? Scores each format and the vote at every threshold
 * against gold entities (strict matching, micro-averaged over documents).
 */
export function scoreEnsemble(gold: readonly (readonly Entity[])[], predicted: readonly EnsembleDocument[], formats: readonly FormatName[]): EnsembleScore {
  if (gold.length !== predicted.length) throw new MfnerError('ERR_INVALID_ARG', 'one gold entity list per document');
  const score = (pick: (d: EnsembleDocument) => readonly Entity[]) => {
    const c = sumCounts(predicted.map((d, i) => matchDocument(gold[i], pick(d), 'strict')));
    return { ...c, ...prf(c) };
  };
  const perFormat: EnsembleScore['formats'] = {};
  for (const f of formats) perFormat[f] = score((d) => d.byFormat[f]?.entities ?? []);
  const votes: EnsembleScore['votes'] = {};
  for (let k = 1; k <= formats.length; k++) {
    votes[k] = score((d) => voteEntities(formats.flatMap((f) => (d.byFormat[f] && !d.byFormat[f]!.error ? [{ format: f, entities: d.byFormat[f]!.entities }] : [])), k));
  }
  const bestFormat = [...formats].sort((a, b) => perFormat[b].f1 - perFormat[a].f1)[0];
  const bestVote = Object.keys(votes).map(Number).sort((a, b) => votes[b].f1 - votes[a].f1 || a - b)[0];
  return { formats: perFormat, votes, bestFormat, bestVote, voteBeatsBest: votes[bestVote].f1 > perFormat[bestFormat].f1 };
}
