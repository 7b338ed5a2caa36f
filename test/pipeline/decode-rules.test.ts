/**
 * Which decoding rules evaluation turns on for a dataset: letter-or-digit edges are read from the
 * training split alone (test gold never decides how the test is decoded).
 */
import test from 'ava';
import { flagEntities } from '../../lib/corpus/document.ts';
import type { CorpusDocument, LoadedDataset } from '../../lib/corpus/index.ts';
import { hasAlnumEdges } from '../../lib/pipeline/evaluate.ts';

function doc(text: string, mentions: string[]): CorpusDocument {
  const entities = flagEntities(
    mentions.map((m) => {
      const at = text.indexOf(m);
      return { type: 'Disease', spans: [[at, at + m.length]], text: m };
    }),
  );
  return { id: text, text, entities };
}

function dataset(train: CorpusDocument[], testDocs: CorpusDocument[] = []): LoadedDataset {
  return { spec: { name: 'toy' }, splits: { train, dev: [], test: testDocs }, hasDiscontinuous: false } as unknown as LoadedDataset;
}

test('alnum edges: on when (nearly) every training mention starts and ends with a letter or digit', (t) => {
  const clean = Array.from({ length: 200 }, (_, i) => doc(`case ${i} of ataxia - telangiectasia ( A - T ) .`, ['ataxia - telangiectasia', 'A - T']));
  t.true(hasAlnumEdges(dataset(clean)));
  // One bad edge in 401 mentions is under the 1 % allowance; ten are not.
  t.true(hasAlnumEdges(dataset([...clean, doc('a ( TCL ) b', ['( TCL'])])));
  const messy = Array.from({ length: 10 }, (_, i) => doc(`x ${i} T - PLL . y`, ['PLL .']));
  t.false(hasAlnumEdges(dataset([...clean, ...messy])));
  // Combining marks may end a mention; test gold is not read; no mention at all: off.
  t.true(hasAlnumEdges(dataset([doc('in Cafe\u0301 syndrome', ['Cafe\u0301'])], messy)));
  t.false(hasAlnumEdges(dataset([doc('nothing here', [])])));
});
