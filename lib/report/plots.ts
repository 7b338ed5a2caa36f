/**
 * SVG plots through vega-lite, rendered headless by vega (no browser, no canvas). Specs are
 * built from the same aggregates as the tables.
 */
import * as vega from 'vega';
import * as vl from 'vega-lite';
import { healthShares, emptyHealth, mergeHealth } from '../metrics/health.ts';
import { compareConfigurations, distinct, summarizePrf } from './aggregate.ts';
import { shiftRows } from './analysis-tables.ts';
import type { MatchMode } from '../metrics/types.ts';
import type { RunFile } from './run-file.ts';

type Spec = vl.TopLevelSpec;

export async function renderSvg(spec: Spec): Promise<string> {
  const compiled = vl.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** Mean F1 per format with ±1 sample std error bars; one panel per model, a colour per configuration. */
export function f1ByFormatSpec(runs: readonly RunFile[], mode: MatchMode): Spec {
  const values: Array<Record<string, string | number>> = [];
  for (const model of distinct(runs.map((r) => r.model))) {
    for (const configuration of distinct(runs.map((r) => r.configuration), compareConfigurations)) {
      for (const format of distinct(runs.map((r) => r.format))) {
        const s = summarizePrf(runs.filter((r) => r.model === model && r.configuration === configuration && r.format === format), mode);
        if (!s) continue;
        const sd = s.f1.std ?? 0;
        values.push({ model, configuration, format, f1: s.f1.mean, low: Math.max(0, s.f1.mean - sd), high: Math.min(1, s.f1.mean + sd) });
      }
    }
  }
  const configOrder = distinct(runs.map((r) => r.configuration), compareConfigurations);
  const x = { field: 'format', type: 'nominal', title: 'format' } as const;
  const color = { field: 'configuration', type: 'nominal', sort: configOrder } as const;
  const xOffset = { field: 'configuration', type: 'nominal', sort: configOrder } as const;
  return {
    $schema: SCHEMA,
    title: `F1 per format (${mode} matching; bars: ±1 std over draws)`,
    data: { values },
    facet: { column: { field: 'model', type: 'nominal', title: null } },
    spec: {
      width: 360,
      height: 220,
      layer: [
        { mark: { type: 'point', filled: true }, encoding: { x, xOffset, color, y: { field: 'f1', type: 'quantitative', title: 'F1', scale: { domain: [0, 1] } } } },
        { mark: 'rule', encoding: { x, xOffset, color, y: { field: 'low', type: 'quantitative' }, y2: { field: 'high' } } },
      ],
    },
  } as Spec;
}

export function spanShiftSpec(runs: readonly RunFile[]): Spec {
  const values: Array<Record<string, string | number>> = [];
  for (const r of shiftRows(runs)) {
    for (const [source, h] of [['near miss', r.nearMisses], ['parser repaired', r.repaired]] as const) {
      for (const side of ['start', 'end'] as const) {
        for (const [shift, count] of Object.entries(h[side])) {
          values.push({ panel: `${r.model} · ${r.format}`, series: `${side} (${source})`, shift: Number(shift), count });
        }
      }
    }
  }
  return {
    $schema: SCHEMA,
    title: 'Span shifts of near misses (predicted − gold, code points)',
    data: { values },
    facet: { row: { field: 'panel', type: 'nominal', title: null } },
    spec: {
      width: 360,
      height: 120,
      mark: 'bar',
      encoding: {
        x: { field: 'shift', type: 'ordinal', title: 'shift', scale: { domain: [-5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5] } },
        xOffset: { field: 'series', type: 'nominal' },
        color: { field: 'series', type: 'nominal', title: null },
        y: { field: 'count', type: 'quantitative', title: 'predictions' },
      },
    },
  } as Spec;
}

export function healthSpec(runs: readonly RunFile[]): Spec {
  const values: Array<Record<string, string | number>> = [];
  for (const model of distinct(runs.map((r) => r.model))) {
    for (const format of distinct(runs.map((r) => r.format))) {
      const sel = runs.filter((r) => r.model === model && r.format === format);
      if (sel.length === 0) continue;
      const h = emptyHealth();
      for (const r of sel) mergeHealth(h, r.scores.health);
      const s = healthShares(h);
      values.push({ model, format, measure: 'answers with parse problems', share: s.problemShare });
      values.push({ model, format, measure: 'entities not grounded', share: s.ungroundedShare });
    }
  }
  return {
    $schema: SCHEMA,
    title: 'Answer health per format',
    data: { values },
    facet: { column: { field: 'model', type: 'nominal', title: null } },
    spec: {
      width: 360,
      height: 220,
      mark: 'bar',
      encoding: {
        x: { field: 'format', type: 'nominal' },
        xOffset: { field: 'measure', type: 'nominal' },
        color: { field: 'measure', type: 'nominal', title: null },
        y: { field: 'share', type: 'quantitative', title: 'share', scale: { domain: [0, 1] }, axis: { format: '%' } },
      },
    },
  } as Spec;
}
