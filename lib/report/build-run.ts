import { OffsetMap, entityToCodePoints, type Entity } from '../formats/entity.ts';
import { withComplexity } from '../metrics/complexity.ts';
import { addAnswer, addEntities, emptyHealth } from '../metrics/health.ts';
import { pairDocuments, scoreDocuments } from '../metrics/score.ts';
import { addShift, emptyShiftHistogram, mergeShiftHistograms, nearMisses, repairedShifts } from '../metrics/span-shift.ts';
import type { GoldDocument, Problem } from '../metrics/types.ts';
import { RUN_SCHEMA, type RunFile, type RunIdentity, type StoredPrediction } from './run-file.ts';

/** What evaluation hands over for one document: entities in JS indices, as parse returns them. */
export interface RunPrediction {
  id: string;
  entities: Entity[];
  answers?: Array<{ problems: Problem[]; raw?: string | string[] }>;
}

export interface BuildRunInput extends RunIdentity {
  gold: readonly GoldDocument[];
  predictions: readonly RunPrediction[];
}

/** Scores a run in both matching modes and packs it for {@link writeRun}. */
export function buildRun(input: BuildRunInput): RunFile {
  const { gold, predictions } = input;
  const pairs = pairDocuments(gold, predictions);
  const answersById = new Map(predictions.map((p) => [p.id, p.answers ?? []]));
  const health = emptyHealth();
  const near = emptyShiftHistogram();
  const repaired = emptyShiftHistogram();
  const stored: StoredPrediction[] = [];
  let entities = 0, nested = 0, discontinuous = 0;

  for (const { gold: g, pred } of pairs) {
    const answers = answersById.get(g.id) ?? [];
    for (const a of answers) {
      addAnswer(health, a.problems);
      mergeShiftHistograms(repaired, repairedShifts(a.problems));
    }
    addEntities(health, pred.entities);
    for (const s of nearMisses(g.text, g.entities, pred.entities)) addShift(near, s.start, s.end);
    const flagged = withComplexity(g.entities);
    entities += flagged.length;
    nested += flagged.filter((e) => e.nested).length;
    discontinuous += flagged.filter((e) => e.discontinuous).length;
    const map = new OffsetMap(g.text);
    stored.push({
      id: g.id,
      entities: pred.entities.map((e) => {
        const cp = entityToCodePoints(map, e);
        const out: StoredPrediction['entities'][number] = { type: cp.type, spans: cp.spans, text: cp.text };
        if (e.grounded !== undefined) out.grounded = e.grounded;
        return out;
      }),
      answers: answers.map((a) => (a.raw === undefined ? { problems: a.problems } : { problems: a.problems, raw: a.raw })),
    });
  }

  return {
    schema: RUN_SCHEMA,
    model: input.model,
    configuration: input.configuration,
    dataset: input.dataset,
    format: input.format,
    draw: input.draw,
    predictions: stored,
    scores: {
      text: scoreDocuments(gold, predictions, 'text'),
      strict: scoreDocuments(gold, predictions, 'strict'),
      gold: { documents: gold.length, entities, nested, discontinuous },
      health,
      spanShifts: { nearMisses: near, repaired },
    },
  };
}
