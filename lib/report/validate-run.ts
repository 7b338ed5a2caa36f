/**
 * A hand-written validator for run files: results directories are written by long training
 * jobs and read much later, so a damaged or foreign file must fail with the field that is wrong,
 * never be half-read. Messages name fields and files, never document text.
 */
import { MATCH_MODES } from '../metrics/types.ts';
import { RUN_SCHEMA, type RunFile } from './run-file.ts';

export class RunFileError extends Error {
  constructor(where: string, what: string) {
    super(`${where}: ${what}`);
    this.name = 'RunFileError';
  }
}

type Json = unknown;

function fail(path: string, what: string): never {
  throw new RunFileError(path, what);
}

function obj(v: Json, path: string): Record<string, Json> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(path, 'expected an object');
  return v as Record<string, Json>;
}

function arr(v: Json, path: string): Json[] {
  if (!Array.isArray(v)) fail(path, 'expected an array');
  return v;
}

function str(v: Json, path: string): string {
  if (typeof v !== 'string' || v.length === 0) fail(path, 'expected a non-empty string');
  return v;
}

function count(v: Json, path: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) fail(path, 'expected a non-negative integer');
  return v;
}

function counts(v: Json, path: string): void {
  const o = obj(v, path);
  for (const k of ['tp', 'fp', 'fn']) count(o[k], `${path}.${k}`);
}

function histogram(v: Json, path: string, integerKeys: boolean): void {
  const o = obj(v, path);
  for (const [k, n] of Object.entries(o)) {
    if (integerKeys && !/^-?\d+$/.test(k)) fail(`${path}.${k}`, 'expected an integer key');
    count(n, `${path}.${k}`);
  }
}

function shiftHistogram(v: Json, path: string): void {
  const o = obj(v, path);
  const pairs = count(o.pairs, `${path}.pairs`);
  for (const side of ['start', 'end']) {
    histogram(o[side], `${path}.${side}`, true);
    const total = Object.values(o[side] as Record<string, number>).reduce((a, b) => a + b, 0);
    if (total !== pairs) fail(`${path}.${side}`, `sums to ${total}, not pairs = ${pairs}`);
  }
}

function scoreSet(v: Json, path: string, mode: string, documents: number): void {
  const o = obj(v, path);
  if (o.mode !== mode) fail(`${path}.mode`, `expected "${mode}"`);
  counts(o.counts, `${path}.counts`);
  const perType = obj(o.perType, `${path}.perType`);
  for (const [k, c] of Object.entries(perType)) counts(c, `${path}.perType.${k}`);
  const complex = obj(o.complex, `${path}.complex`);
  for (const k of ['nested', 'discontinuous', 'simple']) {
    const r = obj(complex[k], `${path}.complex.${k}`);
    const gold = count(r.gold, `${path}.complex.${k}.gold`);
    if (count(r.found, `${path}.complex.${k}.found`) > gold) fail(`${path}.complex.${k}.found`, 'exceeds gold');
  }
  const docs = arr(o.documents, `${path}.documents`);
  if (docs.length !== documents) fail(`${path}.documents`, `has ${docs.length} entries for ${documents} gold documents`);
  const sum = { tp: 0, fp: 0, fn: 0 };
  docs.forEach((d, i) => {
    const p = `${path}.documents[${i}]`;
    str(obj(d, p).id, `${p}.id`);
    counts(d, p);
    const c = d as { tp: number; fp: number; fn: number };
    sum.tp += c.tp;
    sum.fp += c.fp;
    sum.fn += c.fn;
  });
  const total = o.counts as { tp: number; fp: number; fn: number };
  if (sum.tp !== total.tp || sum.fp !== total.fp || sum.fn !== total.fn) {
    fail(`${path}.counts`, 'differs from the sum of per-document counts');
  }
}

function prediction(v: Json, path: string): void {
  const o = obj(v, path);
  str(o.id, `${path}.id`);
  arr(o.entities, `${path}.entities`).forEach((e, i) => {
    const p = `${path}.entities[${i}]`;
    const eo = obj(e, p);
    str(eo.type, `${p}.type`);
    if (typeof eo.text !== 'string') fail(`${p}.text`, 'expected a string');
    if (eo.grounded !== undefined && typeof eo.grounded !== 'boolean') fail(`${p}.grounded`, 'expected a boolean');
    arr(eo.spans, `${p}.spans`).forEach((s, k) => {
      const sp = arr(s, `${p}.spans[${k}]`);
      if (sp.length !== 2) fail(`${p}.spans[${k}]`, 'expected [start, end]');
      const a = count(sp[0], `${p}.spans[${k}][0]`);
      if (count(sp[1], `${p}.spans[${k}][1]`) <= a) fail(`${p}.spans[${k}]`, 'end must exceed start');
    });
  });
  arr(o.answers, `${path}.answers`).forEach((a, i) => {
    const p = `${path}.answers[${i}]`;
    arr(obj(a, p).problems, `${p}.problems`).forEach((q, k) => {
      const qo = obj(q, `${p}.problems[${k}]`);
      str(qo.kind, `${p}.problems[${k}].kind`);
      if (typeof qo.message !== 'string') fail(`${p}.problems[${k}].message`, 'expected a string');
    });
  });
}

/** Checks a parsed run file; returns it typed, or throws {@link RunFileError} naming the field. */
export function validateRun(value: Json, where = 'run'): RunFile {
  const o = obj(value, where);
  if (o.schema !== RUN_SCHEMA) fail(`${where}.schema`, `expected "${RUN_SCHEMA}"`);
  for (const k of ['model', 'configuration', 'dataset', 'format']) str(o[k], `${where}.${k}`);
  count(o.draw, `${where}.draw`);
  const preds = arr(o.predictions, `${where}.predictions`);
  preds.forEach((p, i) => prediction(p, `${where}.predictions[${i}]`));
  const scores = obj(o.scores, `${where}.scores`);
  const gold = obj(scores.gold, `${where}.scores.gold`);
  const documents = count(gold.documents, `${where}.scores.gold.documents`);
  for (const k of ['entities', 'nested', 'discontinuous']) count(gold[k], `${where}.scores.gold.${k}`);
  if (preds.length !== documents) fail(`${where}.predictions`, `has ${preds.length} entries for ${documents} gold documents`);
  for (const mode of MATCH_MODES) scoreSet(scores[mode], `${where}.scores.${mode}`, mode, documents);
  const health = obj(scores.health, `${where}.scores.health`);
  for (const k of ['answers', 'answersWithProblems', 'entities', 'ungrounded']) count(health[k], `${where}.scores.health.${k}`);
  histogram(health.problemKinds, `${where}.scores.health.problemKinds`, false);
  const shifts = obj(scores.spanShifts, `${where}.scores.spanShifts`);
  shiftHistogram(shifts.nearMisses, `${where}.scores.spanShifts.nearMisses`);
  shiftHistogram(shifts.repaired, `${where}.scores.spanShifts.repaired`);
  if (o.threshold !== undefined) {
    const t = obj(o.threshold, `${where}.threshold`);
    if (typeof t.minConfidence !== 'number' || !(t.minConfidence >= 0 && t.minConfidence <= 1)) fail(`${where}.threshold.minConfidence`, 'expected a number in [0, 1]');
    count(t.devDocuments, `${where}.threshold.devDocuments`);
    counts(t.dev, `${where}.threshold.dev`);
    counts(t.devUnfiltered, `${where}.threshold.devUnfiltered`);
  }
  return value as RunFile;
}
