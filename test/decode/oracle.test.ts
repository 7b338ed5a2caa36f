/**
 * The native masks equal llama.cpp's GBNF masks for the generated grammar of the same format and
 * input, at every step of random walks (both through llama.cpp's sampler interface, over the
 * whole vocabulary). Occurrence counting is off here, and tag answers get no entity cap: the
 * generated GBNF expresses neither. Every other walk demands letter-or-digit entity edges.
 */
import test from 'ava';
import { constraintMask, createFormatConstraint, tokenTrie } from '../../lib/decode/index.ts';
import { FORMAT_NAMES } from '../../lib/formats/types.ts';
import { createGrammar } from '../../lib/native/index.ts';
import { loadModels, randomWalk, rng, typesFor } from './helpers.ts';

/** Short sentences: span, BRAT and tag grammars grow quadratically with the text. */
const SHORT = ['BCL6 in activated lymphocytes.', 'TNF-α (β-cells) "µg" a\\b 𝛼-helix.'];
const STEPS = Number(process.env.MFNER_ORACLE_STEPS ?? 16);
const models = loadModels();

for (const format of FORMAT_NAMES) {
  test(`${format}: native masks equal the GBNF oracle's`, async (t) => {
    let compared = 0;
    for (const { name, model } of await models) {
      const eog = new Set(tokenTrie(model).info().eog);
      const budget = model.metadata.vocabularySize > 10000 ? STEPS : STEPS * 5;
      for (const [si, text] of SHORT.entries()) {
        let steps = 0;
        for (let w = 0; steps < budget && w < 20; w++) {
          const types = typesFor(format, w);
          const c = createFormatConstraint(model, { format, text, types, maxEntities: format.endsWith('_tag') ? 1000 : 3, maxDepth: 2, maxLayers: 2, countOccurrences: false, alnumEdges: w % 2 === 1 });
          const grammar = createGrammar(model, c.toGbnf());
          const walk = randomWalk(c, eog, rng(97 * si + w), 0.3);
          // every prefix of the walk, thinned on big vocabularies (GBNF masks cost ms there)
          const stride = model.metadata.vocabularySize > 10000 ? 3 : 1;
          const ks = [...Array(walk.length + 1).keys()].filter((k) => k % stride === 0 || k === walk.length);
          for (const k of ks) {
            if (steps >= budget) break;
            const prefix = Int32Array.from(walk.slice(0, k));
            const mine = constraintMask(model, c, prefix);
            const oracle = constraintMask(model, grammar, prefix);
            t.deepEqual(mine && [...mine], oracle && [...oracle], `${name}, sentence ${si}, walk ${w}, step ${k}`);
            steps++;
            compared++;
          }
        }
      }
    }
    t.log(`${compared} masks compared`);
  });
}
