/**
 * Random walks over real corpus sentences (NCBI-disease, AnatEM and PGxCorpus test/brat files):
 * every constrained answer parses with zero problems and every entity is grounded in the input.
 * Complements walks.test.ts, whose hand-written sentences stress escapes and odd characters.
 */
import test from 'ava';
import fg from 'fast-glob';
import path from 'node:path';
import { createFormatConstraint, tokenTrie } from '../../lib/decode/index.ts';
import { FORMAT_NAMES, getFormat } from '../../lib/formats/index.ts';
import { loadBratDocument, readIob } from '../../lib/corpus/index.ts';
import { sharedFile } from '../helpers/shared.ts';
import { answerText, loadModels, randomWalk, rng, typesFor } from './helpers.ts';

const corpora = sharedFile('corpora');
const WALKS = Number(process.env.MFNER_WALKS ?? 3);

async function corpusSentences(): Promise<string[]> {
  const out: string[] = [];
  for (const [file, n] of [['NCBI-disease/test.tsv', 2], ['AnatEM/test.tsv', 2]] as const) {
    let k = 0;
    for await (const doc of readIob(path.join(corpora.path, file))) {
      if (doc.entities.length === 0) continue;
      out.push(doc.text);
      if (++k === n) break;
    }
  }
  const brat = (await fg('*.txt', { cwd: path.join(corpora.path, 'PGxCorpus/brat'), absolute: true })).sort()[0];
  out.push((await loadBratDocument(brat, {})).text);
  return out;
}

const ready = corpora.missing ? undefined : Promise.all([corpusSentences(), loadModels()]);

for (const format of FORMAT_NAMES) {
  test(`${format}: random walks over real corpus sentences parse with zero problems, entities grounded`, async (t) => {
    if (!ready) return t.pass(corpora.missing);
    const [sentences, models] = await ready;
    const parser = getFormat(format);
    let walks = 0;
    for (const { name, model } of models) {
      const eog = new Set(tokenTrie(model).info().eog);
      for (const [si, text] of sentences.entries()) {
        for (let w = 0; w < WALKS; w++) {
          const types = typesFor(format, w);
          const c = createFormatConstraint(model, { format, text, types, maxEntities: 6 });
          const tokens = randomWalk(c, eog, rng(7919 * si + w + 3), w % 2 === 0 ? 0.1 : 0.5);
          const answer = answerText(model, tokens);
          const parsed = format === 'conv_term' ? parser.parse([answer], text, types) : parser.parse(answer, text, types);
          const where = `${name}, corpus sentence ${si}, walk ${w}`;
          t.deepEqual(parsed.problems, [], where);
          for (const e of parsed.entities) {
            t.not(e.grounded, false, where);
            t.is(e.spans.map(([s, end]) => text.slice(s, end)).join(' '), e.text, where);
          }
          walks++;
        }
      }
    }
    t.log(`${walks} walks over ${sentences.length} corpus sentences`);
  });
}
