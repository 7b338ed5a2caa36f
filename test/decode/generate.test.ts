/**
 * stories260K knows nothing about NER; under the format constraint its answers still parse with
 * zero problems in every format, greedy and sampled, several sequences in one batch.
 */
import test from 'ava';
import { createFormatConstraint } from '../../lib/decode/index.ts';
import { getFormat } from '../../lib/formats/index.ts';
import { FORMAT_NAMES } from '../../lib/formats/types.ts';
import { Model } from '../../lib/native/index.ts';
import { THREADS, stories } from '../native/helpers.ts';
import { SENTENCES, answerText, typesFor } from './helpers.ts';

const text = SENTENCES[1];

test('every format: constrained generations on stories260K parse with zero problems', async (t) => {
  if (stories.missing) return t.pass(stories.missing);
  const model = await Model.load(stories.path);
  const ctx = await model.createContext({ contextSize: 4096, sequences: 4, threads: THREADS });
  try {
    for (const format of FORMAT_NAMES) {
      const types = typesFor(format);
      const constraint = createFormatConstraint(model, { format, text, types, maxEntities: 4, maxLayers: 2 });
      const prompt = `Text: ${text}\n`;
      for (const sampling of [{ temperature: 0 }, { temperature: 1, seed: 3 }]) {
        const out = await ctx.generate([prompt, prompt, prompt, prompt], { ...sampling, maxTokens: 400, constraint });
        for (const seq of out.sequences) {
          const answer = answerText(model, [...seq.tokens]);
          t.is(seq.finishReason, 'eog', `${format} ${JSON.stringify(sampling)}`);
          const parsed = format === 'conv_term' ? getFormat(format).parse([answer], text, types) : getFormat(format).parse(answer, text, types);
          t.deepEqual(parsed.problems, [], `${format} ${JSON.stringify(sampling)}`);
          for (const e of parsed.entities) t.true(e.spans.length > 0 && e.spans.every(([s, end]) => end > s && end <= text.length), format);
        }
      }
    }
  } finally {
    ctx.dispose();
  }
});
