/**
 * Agreement with CoNLL chunk scoring on the IOB corpora (flat entities). The reference below is
 * a streaming chunk counter written for this test from the conlleval rules: a chunk is correct
 * when gold and guess start a chunk of the same type on the same token and both end it on the
 * same token. Predictions are gold tags perturbed with a seeded RNG, so they contain every kind
 * of error, including ill-formed `I-` tags that start a chunk.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { makeEntity, type Entity } from '../../lib/formats/entity.ts';
import { scoreDocuments, type GoldDocument } from '../../lib/metrics/index.ts';
import { sharedFile } from '../helpers/shared.ts';

interface Sentence {
  tokens: string[];
  tags: string[];
}

function readIob(path: string): Sentence[] {
  const out: Sentence[] = [];
  let cur: Sentence = { tokens: [], tags: [] };
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '') {
      if (cur.tokens.length > 0) out.push(cur);
      cur = { tokens: [], tags: [] };
      continue;
    }
    const [token, tag] = line.split('\t');
    cur.tokens.push(token);
    cur.tags.push(tag.trim());
  }
  if (cur.tokens.length > 0) out.push(cur);
  return out;
}

const prefix = (tag: string) => (tag === 'O' ? 'O' : tag.slice(0, 1));
const typeOf = (tag: string) => (tag === 'O' ? '' : tag.slice(2));

function startsChunk(prev: string, tag: string): boolean {
  if (tag === 'O') return false;
  if (prefix(tag) === 'B') return true;
  return prev === 'O' || typeOf(prev) !== typeOf(tag);
}

function endsChunk(prev: string, tag: string): boolean {
  if (prev === 'O') return false;
  return tag === 'O' || prefix(tag) === 'B' || typeOf(prev) !== typeOf(tag);
}

/** conlleval-style counting: correct chunks, gold chunks, guessed chunks. */
function conllCounts(sentences: Array<{ gold: string[]; guess: string[] }>) {
  let correct = 0;
  let goldChunks = 0;
  let guessChunks = 0;
  for (const { gold, guess } of sentences) {
    let open = false; // a chunk that may still be correct is open
    let pg = 'O';
    let pp = 'O';
    for (let i = 0; i <= gold.length; i++) {
      const g = i < gold.length ? gold[i] : 'O';
      const p = i < guess.length ? guess[i] : 'O';
      if (open) {
        const ge = endsChunk(pg, g);
        const pe = endsChunk(pp, p);
        if (ge && pe) {
          correct++;
          open = false;
        } else if (ge !== pe) {
          open = false;
        }
      }
      if (startsChunk(pg, g) && startsChunk(pp, p) && typeOf(g) === typeOf(p)) open = true;
      if (startsChunk(pg, g)) goldChunks++;
      if (startsChunk(pp, p)) guessChunks++;
      pg = g;
      pp = p;
    }
  }
  return { tp: correct, fp: guessChunks - correct, fn: goldChunks - correct };
}

/** Entities from tags with the same chunk boundaries, on the space-joined text. */
function entitiesFromTags(tokens: string[], tags: string[], text: string): Entity[] {
  const starts: number[] = [];
  let pos = 0;
  for (const t of tokens) {
    starts.push(pos);
    pos += t.length + 1;
  }
  const out: Entity[] = [];
  let open: { type: string; first: number } | undefined;
  let prev = 'O';
  const close = (last: number) => {
    if (open) out.push(makeEntity(text, open.type, [[starts[open.first], starts[last] + tokens[last].length]]));
    open = undefined;
  };
  for (let i = 0; i <= tags.length; i++) {
    const tag = i < tags.length ? tags[i] : 'O';
    if (endsChunk(prev, tag)) close(i - 1);
    if (startsChunk(prev, tag)) open = { type: typeOf(tag), first: i };
    prev = tag;
  }
  return out;
}

function perturb(tags: string[], types: string[], rng: ReturnType<typeof xoroshiro128plus>): string[] {
  const out = [...tags];
  const roll = () => uniformInt(rng, 0, 99);
  for (let i = 0; i < out.length; i++) {
    const r = roll();
    if (out[i] !== 'O') {
      if (r < 8) out[i] = 'O'; // drop a token: shortens, splits or removes a chunk
      else if (r < 14) out[i] = `${prefix(out[i])}-${types[uniformInt(rng, 0, types.length - 1)]}`; // retype
      else if (r < 18) out[i] = `I-${typeOf(out[i])}`; // ill-formed continuation
    } else if (r < 3) {
      out[i] = `${roll() < 50 ? 'B' : 'I'}-${types[uniformInt(rng, 0, types.length - 1)]}`; // spurious
    }
  }
  return out;
}

for (const corpus of ['BC5CDR', 'NCBI-disease']) {
  const file = sharedFile('corpora', corpus, 'test.tsv');
  test(`strict scores equal conlleval chunk counts on ${corpus} test`, (t) => {
    if (file.missing) {
      t.log(file.missing);
      t.pass();
      return;
    }
    const sentences = readIob(file.path);
    const types = [...new Set(sentences.flatMap((s) => s.tags).filter((x) => x !== 'O').map(typeOf))].sort();
    const rng = xoroshiro128plus(2024);
    const gold: GoldDocument[] = [];
    const pairs: Array<{ gold: string[]; guess: string[] }> = [];
    const pred = sentences.map((s, i) => {
      const text = s.tokens.join(' ');
      const guess = perturb(s.tags, types, rng);
      pairs.push({ gold: s.tags, guess });
      gold.push({ id: String(i), text, entities: entitiesFromTags(s.tokens, s.tags, text) });
      return { id: String(i), entities: entitiesFromTags(s.tokens, guess, text) };
    });
    const reference = conllCounts(pairs);
    const ours = scoreDocuments(gold, pred, 'strict');
    t.log(JSON.stringify(reference));
    t.deepEqual(ours.counts, reference);
    // the perturbation must actually produce every kind of error for this to mean something
    t.true(reference.tp > 0 && reference.fp > 100 && reference.fn > 100, JSON.stringify(reference));
    // flat entities: no nesting or discontinuity, so all gold is "simple"
    t.is(ours.complex.nested.gold + ours.complex.discontinuous.gold, 0);
    // text mode can only find more (same surface elsewhere in the sentence)
    t.true(scoreDocuments(gold, pred, 'text').counts.tp >= reference.tp);
    // and perfect predictions agree too
    t.deepEqual(scoreDocuments(gold, gold, 'strict').counts, conllCounts(pairs.map((p) => ({ gold: p.gold, guess: p.gold }))));
  });
}
