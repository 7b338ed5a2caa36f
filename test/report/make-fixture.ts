/**
 * Regenerates the synthetic results directory under test/fixtures/report-results (no corpus
 * text: invented sentences). Run from the project root:
 *   node --import=tsx test/report/make-fixture.ts
 * The golden report test reads the committed files; rerun this only on purpose, and review the
 * diff of the expected report.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { makeEntity, type Entity } from '../../lib/formats/entity.ts';
import type { GoldDocument } from '../../lib/metrics/index.ts';
import { buildRun, writeRun, type RunPrediction } from '../../lib/report/index.ts';

export const FIXTURE_DIR = path.resolve(import.meta.dirname, '../fixtures/report-results');

function doc(id: string, text: string, entities: Array<[string, Array<[number, number]>]>): GoldDocument {
  return { id, text, entities: entities.map(([type, spans]) => makeEntity(text, type, spans)) };
}

export const DATASETS: Record<string, GoldDocument[]> = {
  Toy: [
    doc('t0', 'IL-2 activates T cells .', [['protein', [[0, 4]]], ['cell_type', [[15, 22]]]]),
    doc('t1', 'human B cells express p53 .', [['cell_type', [[0, 13]]], ['cell_type', [[6, 13]]], ['protein', [[22, 25]]]]),
    doc('t2', 'no entity here .', []),
    doc('t3', 'p53 and IL-2 bind .', [['protein', [[0, 3]]], ['protein', [[8, 12]]]]),
  ],
  ToyDisc: [
    doc('d0', 'left and right ventricle .', [['Anatomy', [[0, 4], [15, 24]]], ['Anatomy', [[9, 24]]]]),
    doc('d1', 'the heart beats .', [['Anatomy', [[4, 9]]]]),
    doc('d2', 'a 𝛼 lung tumor grows .', [['Anatomy', [[5, 9]]]]),
  ],
};

const RUNS: Array<{ configuration: string; formats: string[] }> = [
  { configuration: 'all', formats: ['conv_term', 'multi_span', 'multi_triple'] },
  { configuration: 'only:conv_term', formats: ['conv_term'] },
];

/** Per format: how often a gold entity is dropped (out of 100), and whether spans drift. */
const BEHAVIOUR: Record<string, { drop: number; spurious: number; shift: boolean }> = {
  conv_term: { drop: 15, spurious: 10, shift: false },
  multi_triple: { drop: 30, spurious: 20, shift: false },
  multi_span: { drop: 20, spurious: 10, shift: true },
};

function predict(gold: GoldDocument, format: string, seed: number): RunPrediction {
  const rng = xoroshiro128plus(seed);
  const roll = () => uniformInt(rng, 0, 99);
  const b = BEHAVIOUR[format];
  const entities: Entity[] = [];
  const problems: Array<{ kind: string; message: string }> = [];
  for (const g of gold.entities) {
    if (roll() < b.drop) continue;
    if (b.shift && g.spans.length === 1 && roll() < 40) {
      const d = -uniformInt(rng, 1, 3);
      const [s, e] = g.spans[0];
      if (s + d >= 0) {
        entities.push(makeEntity(gold.text, g.type, [[s + d, e + d]]));
        continue;
      }
    }
    entities.push({ type: g.type, spans: g.spans, text: g.text });
  }
  if (roll() < b.spurious) {
    entities.push({ type: gold.entities[0]?.type ?? 'protein', spans: [], text: 'made up', grounded: false });
    problems.push({ kind: 'ungrounded', message: 'item 1 not found in the text' });
  }
  return { id: gold.id, entities, answers: [{ problems }] };
}

export function makeFixture(dir = FIXTURE_DIR): number {
  rmSync(path.join(dir, 'runs'), { recursive: true, force: true });
  let n = 0;
  let seed = 11;
  for (const model of ['tiny-a', 'tiny-b']) {
    for (const { configuration, formats } of RUNS) {
      for (const [dataset, gold] of Object.entries(DATASETS)) {
        for (const format of formats) {
          for (const draw of [0, 1]) {
            const predictions = gold.map((g) => predict(g, format, seed++ * (model === 'tiny-a' ? 1 : 7)));
            writeRun(dir, buildRun({ model, configuration, dataset, format, draw, gold, predictions }));
            n++;
          }
        }
      }
    }
  }
  return n;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  console.log(`${makeFixture()} runs written under ${FIXTURE_DIR}`);
}
