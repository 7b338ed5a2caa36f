import test from 'ava';
import type { Entity, FormatName } from '../../lib/formats/index.ts';
import { Model } from '../../lib/native/index.ts';
import { extract, extractEnsemble, majority, scoreEnsemble, voteEntities, type EnsembleDocument, type ExtractedDocument, type ExtractedEntity } from '../../lib/pipeline/index.ts';
import { THREADS, stories } from '../native/helpers.ts';

const e = (type: string, s: number, t: number, confidence = 1): ExtractedEntity => ({ type, spans: [[s, t]], text: 'x'.repeat(t - s), confidence });

test('majority by default; votes, agreement, formats and a soft-vote confidence per entity', (t) => {
  const voted = voteEntities([
    { format: 'multi_term', entities: [e('protein', 0, 4, 0.9), e('DNA', 10, 13, 0.5)] },
    { format: 'single_term', entities: [e('protein', 0, 4, 0.6), e('DNA', 10, 13, 0.5), e('DNA', 10, 13, 0.5)] }, // a duplicate votes once
    { format: 'multi_span', entities: [e('protein', 0, 4, 0.9), e('RNA', 20, 23)] },
  ]);
  t.is(majority(3), 2);
  t.deepEqual(voted.map((v) => [v.type, v.votes, v.agreement, v.formats]), [
    ['protein', 3, 1, ['multi_term', 'single_term', 'multi_span']],
    ['DNA', 2, 2 / 3, ['multi_term', 'single_term']],
  ]);
  t.true(Math.abs(voted[0].confidence! - 0.8) < 1e-12);
  t.true(Math.abs(voted[1].confidence! - 1 / 3) < 1e-12); // the format that missed it counts 0
});

test('the same type at other spans, or another type at the same span, are different entities', (t) => {
  const voted = voteEntities([
    { format: 'multi_term', entities: [e('protein', 0, 4)] },
    { format: 'single_term', entities: [e('protein', 0, 5)] },
    { format: 'conv_term', entities: [e('DNA', 0, 4)] },
  ], 1);
  t.deepEqual(voted.map((v) => [v.type, v.spans, v.votes]), [['protein', [[0, 5]], 1], ['DNA', [[0, 4]], 1], ['protein', [[0, 4]], 1]]);
  t.deepEqual(voteEntities([], 1), []);
  // k = n: unanimity.
  t.is(voteEntities([{ format: 'multi_term', entities: [e('p', 0, 1)] }, { format: 'single_term', entities: [] }], 2).length, 0);
});

test('scoreEnsemble: a vote can beat the best single format, and says when it does not', (t) => {
  // Gold: A, B, C. Three formats, each right on two and wrong on one of its own.
  const gold: Entity[][] = [[e('p', 0, 1), e('p', 2, 3), e('p', 4, 5)]];
  const f = (ents: ExtractedEntity[]): ExtractedDocument => ({ index: 0, id: '0', entities: ents, answers: [], chunks: 1, tokens: { prompt: 0, generated: 0 } });
  const doc = (byFormat: EnsembleDocument['byFormat']): EnsembleDocument => ({ index: 0, id: '0', entities: [], byFormat });
  const formats: FormatName[] = ['multi_term', 'single_term', 'multi_span'];
  const noisy = doc({
    multi_term: f([e('p', 0, 1), e('p', 2, 3), e('p', 6, 7)]),
    single_term: f([e('p', 2, 3), e('p', 4, 5), e('p', 8, 9)]),
    multi_span: f([e('p', 0, 1), e('p', 4, 5), e('p', 10, 11)]),
  });
  const s = scoreEnsemble(gold, [noisy], formats);
  t.true(Math.abs(s.formats.multi_term.f1 - 2 / 3) < 1e-12);
  t.is(s.votes[2].f1, 1); // majority removes every format's own mistake
  t.is(s.bestVote, 2);
  t.true(s.voteBeatsBest);
  // One format perfect, the others wrong the same way: the vote cannot beat it.
  const same = doc({ multi_term: f(gold[0]), single_term: f([e('p', 6, 7)]), multi_span: f([e('p', 6, 7)]) });
  const s2 = scoreEnsemble(gold, [same], formats);
  t.is(s2.bestFormat, 'multi_term');
  t.false(s2.voteBeatsBest);
});

const maybe = stories.missing ? test.skip : test;
maybe('stories260K: the ensemble equals the per-format runs voted, one result per document, in order', async (t) => {
  const model = await Model.load(stories.path);
  try {
    const docs = ['These results suggest that BCL6 plays a role in activated lymphocytes.', { id: 'b', text: 'Aspirin was given for the migraine.' }, 'Lily saw a big dog.'];
    const formats: FormatName[] = ['multi_term', 'single_term', 'conv_term'];
    const base = { model, threads: THREADS, types: ['protein', 'cell_type'], maxTokens: 24, batchSize: 2 } as const;
    const out: EnsembleDocument[] = [];
    for await (const d of extractEnsemble(docs, { ...base, formats, minVotes: 1, window: 2 })) out.push(d);
    t.deepEqual(out.map((d) => [d.index, d.id]), [[0, '0'], [1, 'b'], [2, '2']]);
    for (const format of formats) {
      const alone: ExtractedDocument[] = [];
      for await (const d of extract(docs, { ...base, format })) alone.push(d);
      const strip = (es: ExtractedEntity[]) => es.map(({ confidence: _, ...x }) => x);
      t.deepEqual(out.map((d) => strip(d.byFormat[format]!.entities)), alone.map((d) => strip(d.entities)));
    }
    for (const d of out) {
      const perFormat = formats.map((f) => ({ format: f, entities: d.byFormat[f]!.entities }));
      t.deepEqual(d.entities, voteEntities(perFormat, 1));
      t.true(d.entities.every((v) => v.votes >= 1 && v.agreement > 0 && v.agreement <= 1 && v.confidence! > 0 && v.confidence! <= 1));
    }
    await t.throwsAsync(async () => {
      for await (const _ of extractEnsemble(docs, { ...base, formats: ['multi_term'] })) void _;
    }, { code: 'ERR_INVALID_ARG' });
  } finally {
    await model.dispose();
  }
});
