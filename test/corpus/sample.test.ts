import test from 'ava';
import fc from 'fast-check';
import { FORMAT_NAMES, getFormat, type FormatName } from '../../lib/formats/index.ts';
import { sampleIndices, sampleKey, sampleSplit, SAMPLE_CAPS } from '../../lib/corpus/sample.ts';
import { loadDataset } from '../../lib/corpus/registry.ts';
import { buildPromptExamples } from '../../lib/prompt/examples.ts';
import { datasetInfo } from '../../lib/prompt/prepare.ts';
import { getStub } from '../prompt/stub-formats.ts';
import { corporaRoot, withCorpora } from './corpora.ts';

test('a draw is a uniform sample without replacement, ascending, the same for the same key', (t) => {
  fc.assert(
    fc.property(fc.nat(400), fc.nat(450), fc.string(), (n, cap, key) => {
      const a = sampleIndices(n, cap, key);
      if (a.length !== Math.min(n, cap)) return false;
      if (a.some((x, i) => x < 0 || x >= n || (i > 0 && x <= a[i - 1]))) return false;
      return JSON.stringify(a) === JSON.stringify(sampleIndices(n, cap, key));
    }),
  );
  // Pinned values: the same seed gives the same sample on any machine.
  t.deepEqual(sampleIndices(1765, 200, sampleKey('GENIA', 'dev', 1)).slice(0, 8), [1, 7, 18, 22, 24, 29, 34, 60]);
  t.deepEqual(sampleIndices(1732, 300, sampleKey('GENIA', 'test', 2)).slice(0, 5), [6, 9, 10, 19, 29]);
  t.notDeepEqual(sampleIndices(1000, 300, sampleKey('X', 'test', 1)), sampleIndices(1000, 300, sampleKey('X', 'test', 2)));
  t.deepEqual(SAMPLE_CAPS, { train: 10000, dev: 200, test: 300 });
  t.throws(() => sampleSplit([1, 2], 'X', 'dev', 0), { instanceOf: RangeError });
});

function formatsAvailable(): boolean {
  try {
    FORMAT_NAMES.forEach((n) => getFormat(n));
    return true;
  } catch {
    return false;
  }
}
const lookup = formatsAvailable() ? getFormat : getStub;
const NO_DISCONTINUOUS: FormatName[] = ['single_tag', 'multi_tag', 'multi_bio', 'single_span', 'multi_span'];

withCorpora(`no example reaches a format that cannot render it (${lookup === getFormat ? 'real' : 'stub'} formats)`, async (t) => {
  for (const name of ['PGxCorpus', 'GENIA', 'CADEC']) {
    const loaded = await loadDataset(name, { root: corporaRoot });
    const info = datasetInfo(loaded);
    for (const split of ['dev', 'test'] as const) {
      const sample = sampleSplit(loaded.splits[split], info.name, split, 1);
      t.is(sample.length, Math.min(SAMPLE_CAPS[split], loaded.splits[split].length));
      const byId = new Map(sample.map((d) => [d.id, d]));
      const built = buildPromptExamples(sample, { dataset: info, configuration: 'all', split, draw: 1, getFormat: lookup });
      const again = buildPromptExamples(sample, { dataset: info, configuration: 'all', split, draw: 1, getFormat: lookup });
      t.deepEqual(built, again, 'deterministic');
      for (const ex of built.examples) {
        if (info.hasDiscontinuous && NO_DISCONTINUOUS.includes(ex.format)) t.fail(`${name}: ${ex.format} got a discontinuous dataset`);
        const d = byId.get(ex.documentId)!;
        const ok = lookup(ex.format).canRender(d.text, d.entities);
        if (split !== 'test' && !ok) t.fail(`${ex.id} cannot be rendered`);
        t.is(ex.renderable, ok);
        t.is(ex.messages.some((m) => m.target), ok);
      }
      if (split === 'test') {
        const allowed = FORMAT_NAMES.filter((f) => !info.hasDiscontinuous || !NO_DISCONTINUOUS.includes(f));
        t.deepEqual(Object.keys(built.report.byFormat).sort(), [...allowed].sort());
        // Every allowed format sees every test document.
        for (const f of allowed) t.is(new Set(built.examples.filter((e) => e.format === f).map((e) => e.documentId)).size, sample.length);
      } else {
        t.is(new Set(built.examples.map((e) => e.documentId)).size + built.report.noFormat, sample.length);
      }
      t.log(name, split, JSON.stringify(built.report));
    }
  }
});
