/**
 * Mention replacement (lib/train/augment.ts): copies whose entities point at mentions of their
 * type from the same documents, offsets that hold, and documents it cannot rewrite left alone.
 */
import test from 'ava';
import fc from 'fast-check';
import { makeDocument, type CorpusDocument } from '../../lib/corpus/document.ts';
import { withReplacedMentions } from '../../lib/train/augment.ts';

const words = ['a', 'bb', 'ccc', 'd d', 'e-e', ' '];

/** Documents made of word runs, some runs marked as entities of type X or Y. */
const docArb = fc
  .array(fc.record({ text: fc.constantFrom(...words), type: fc.option(fc.constantFrom('X', 'Y'), { nil: undefined }) }), { minLength: 1, maxLength: 8 })
  .map((parts) => {
    let text = '';
    const raw: { type: string; spans: [number, number][] }[] = [];
    for (const p of parts) {
      if (text) text += ' ';
      if (p.type && p.text.trim()) raw.push({ type: p.type, spans: [[text.length, text.length + p.text.length]] });
      text += p.text;
    }
    return { text, raw };
  });

test('every copy keeps its entities on text of their own type drawn from the documents', (t) => {
  fc.assert(
    fc.property(fc.array(docArb, { minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 3 }), (specs, copies) => {
      const docs = specs.map((s, i) => makeDocument(`d${i}`, s.text, s.raw));
      const pool = new Map<string, Set<string>>();
      for (const d of docs) for (const e of d.entities) {
        if (!pool.has(e.type)) pool.set(e.type, new Set());
        pool.get(e.type)!.add(e.text);
      }
      const out = withReplacedMentions(docs, { copies, seed: 'test' });
      const originals = out.filter((d) => !d.id.includes('~mr'));
      if (JSON.stringify(originals) !== JSON.stringify(docs)) return false;
      for (const d of out.filter((x) => x.id.includes('~mr'))) {
        const source = docs.find((x) => x.id === d.id.split('~')[0])!;
        if (d.entities.length !== source.entities.length) return false;
        for (const [i, e] of d.entities.entries()) {
          if (d.text.slice(e.spans[0][0], e.spans[0][1]) !== e.text) return false;
          if (e.type !== source.entities[i].type || !pool.get(e.type)!.has(e.text)) return false;
        }
      }
      return true;
    }),
  );
  t.pass();
});

test('copies per document, a seeded draw, and documents it cannot rewrite kept as they are', (t) => {
  const docs: CorpusDocument[] = [
    makeDocument('plain', 'Patients with ataxia were seen .', [{ type: 'Disease', spans: [[14, 20]] }]),
    makeDocument('other', 'A case of cystic fibrosis .', [{ type: 'Disease', spans: [[10, 25]] }]),
    makeDocument('none', 'No mention here .', []),
    makeDocument('nested', 'breast cancer genes', [{ type: 'Disease', spans: [[0, 13]] }, { type: 'Disease', spans: [[7, 13]] }]),
    makeDocument('split', 'breast and ovarian cancer', [{ type: 'Disease', spans: [[0, 6], [19, 25]] }, { type: 'Disease', spans: [[11, 25]] }]),
  ];
  const out = withReplacedMentions(docs, { copies: 2, seed: 's' });
  t.deepEqual(out.map((d) => d.id), ['plain', 'plain~mr1', 'plain~mr2', 'other', 'other~mr1', 'other~mr2', 'none', 'nested', 'split']);
  const copy = out[1];
  t.true(['ataxia', 'cystic fibrosis'].includes(copy.entities[0].text));
  t.is(copy.text, `Patients with ${copy.entities[0].text} were seen .`);
  t.deepEqual(withReplacedMentions(docs, { copies: 2, seed: 's' }), out);
  // Over many draws both mentions of the pool turn up in the copies.
  const many = withReplacedMentions(docs.slice(0, 2), { copies: 40, seed: 's' });
  t.deepEqual([...new Set(many.filter((d) => d.id.startsWith('plain~')).map((d) => d.entities[0].text))].sort(), ['ataxia', 'cystic fibrosis']);
});
