/**
 * Mention replacement (Dai & Adel, 2020, "An Analysis of Simple Data Augmentation for Named
 * Entity Recognition"): a training sentence whose mentions are swapped for other mentions of
 * the same type from the same training split. A small model trained from scratch first learns
 * to answer from its memory of the training lexicon — unconstrained, it writes disease names
 * that are not in the sentence — and a sentence whose mention its context does not predict
 * rewards reading the mention from the text instead (docs/training.md).
 *
 * Only training documents are augmented; test text never enters the pool.
 */
import { makeDocument, type CorpusDocument } from '../corpus/document.ts';
import { seededRandom } from '../corpus/random.ts';

export interface MentionReplacementOptions {
  /** Augmented copies per document (default 1); documents without a replaceable mention get none. */
  copies?: number;
  /** Seed key of the draws (default 'mention-replacement'). */
  seed?: string;
}

/** A mention another can stand in for: one span, not nested in or around another. */
function replaceable(e: CorpusDocument['entities'][number]): boolean {
  return e.spans.length === 1 && !e.nested && !e.discontinuous;
}

/**
 * The documents, each followed by `copies` copies with every replaceable mention swapped for a
 * mention of its type drawn from the documents' own (the draw is seeded, so a run repeats).
 */
export function withReplacedMentions(docs: readonly CorpusDocument[], options: MentionReplacementOptions = {}): CorpusDocument[] {
  const copies = options.copies ?? 1;
  const random = seededRandom(options.seed ?? 'mention-replacement');
  const pool = new Map<string, string[]>();
  for (const d of docs) {
    for (const e of d.entities) {
      if (!replaceable(e)) continue;
      let texts = pool.get(e.type);
      if (!texts) pool.set(e.type, (texts = []));
      texts.push(d.text.slice(e.spans[0][0], e.spans[0][1]));
    }
  }
  const out: CorpusDocument[] = [];
  for (const d of docs) {
    out.push(d);
    // A sentence with an entity that cannot be swapped keeps its text as it is.
    if (!d.entities.length || !d.entities.every(replaceable)) continue;
    if (d.entities.some((e, i) => i > 0 && e.spans[0][0] < d.entities[i - 1].spans[0][1])) continue;
    for (let c = 1; c <= copies; c++) {
      let text = '';
      let at = 0;
      const raw: { type: string; spans: [number, number][] }[] = [];
      for (const e of d.entities) {
        const [start, end] = e.spans[0];
        const texts = pool.get(e.type)!;
        const mention = texts[random.below(texts.length)];
        text += d.text.slice(at, start);
        raw.push({ type: e.type, spans: [[text.length, text.length + mention.length]] });
        text += mention;
        at = end;
      }
      text += d.text.slice(at);
      out.push(makeDocument(`${d.id}~mr${c}`, text, raw));
    }
  }
  return out;
}
