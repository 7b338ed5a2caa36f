/**
 * multi_bio: one `Layer k: ` line of BIO labels per nesting depth, one label per token
 * (see tokens.ts). Entities are layered greedily in text order: each goes to the first layer
 * where it overlaps nothing already placed, so nested, crossing and same-span entities go deeper.
 */
import type { Entity } from './entity.ts';
import { makeEntity } from './entity.ts';
import { Problems, TypeResolver, answerStart, guarded } from './answer.ts';
import { emptyResult, typeList, typeToken } from './format-kit.ts';
import type { Placed } from './render-checks.ts';
import { checkTypes, fail, place } from './render-checks.ts';
import type { Token } from './tokens.ts';
import { tokenRange, tokenize } from './tokens.ts';
import type { Format } from './types.ts';

const BIO_RULES = { discontinuous: false, textCarried: false } as const;

type Layout = { layers: Array<Array<{ e: Placed; first: number; last: number }>>; tokens: Token[] };

function layout(text: string, entities: readonly Entity[]): Layout | { reason: string; entity?: number } {
  const r = place(text, entities, BIO_RULES);
  if ('obstacle' in r) return r.obstacle;
  const tokens = tokenize(text);
  const starts = new Map(tokens.map((t, i) => [t.start, i]));
  const ends = new Map(tokens.map((t, i) => [t.end, i]));
  const layers: Layout['layers'] = [];
  const occupied: Uint8Array[] = [];
  for (const e of r.placed) {
    const range = tokenRange(tokens, e.spans[0], starts, ends);
    if (!range) {
      return { reason: `entity ${e.index} begins or ends inside a token, which BIO labels cannot express`, entity: e.index };
    }
    const [first, last] = range;
    let k = 0;
    while (k < layers.length && occupied[k].subarray(first, last + 1).some((x) => x === 1)) k++;
    if (k === layers.length) {
      layers.push([]);
      occupied.push(new Uint8Array(tokens.length));
    }
    layers[k].push({ e, first, last });
    occupied[k].fill(1, first, last + 1);
  }
  return { layers, tokens };
}

export const multiBio: Format = {
  name: 'multi_bio',
  capabilities: { nested: true, discontinuous: false, offsets: true, perType: false, multiTurn: false },
  instruction(types) {
    return (
      `Label every entity of the types ${typeList(types)} mentioned in the text with BIO labels. Split the text at ` +
      'whitespace and split off each punctuation mark or symbol, except one standing between two letters or digits. ' +
      'Answer with one line per nesting level, "Layer 1: ", "Layer 2: ", and so on, each followed by one label per ' +
      'token separated by spaces: B-<type> on the first token of a mention, I-<type> on the next ones, O elsewhere. ' +
      'A mention overlapping one already labelled goes to the next layer.'
    );
  },
  render(text, entities, types) {
    const l = layout(text, entities);
    if (!('layers' in l)) fail('multi_bio', l);
    checkTypes('multi_bio', l.layers.flat().map((x) => x.e), types);
    const layers = l.layers.length ? l.layers : [[]];
    return layers
      .map((layer, k) => {
        const labels = new Array<string>(l.tokens.length).fill('O');
        for (const { e, first, last } of layer) {
          const t = typeToken(e.type);
          labels[first] = `B-${t}`;
          for (let j = first + 1; j <= last; j++) labels[j] = `I-${t}`;
        }
        return `Layer ${k + 1}:${labels.length ? ' ' : ''}${labels.join(' ')}`;
      })
      .join('\n');
  },
  parse(answer, text, types) {
    return guarded(() => {
      const problems = new Problems();
      const resolver = new TypeResolver(types);
      const tokens = tokenize(text);
      const src = String(answer);
      const lines = src.slice(answerStart(src)).split(/\r?\n/u);
      const layerLine = /^\s*\**\s*layer\s*(\d+)\s*\**\s*:(.*)$/iu;
      const entities: Entity[] = [];
      let layers = 0;
      for (const line of lines) {
        const m = layerLine.exec(line);
        if (!m) continue;
        const layer = layers++;
        const labels = m[2].split(/\s+/u).filter((x) => x.length > 0 && !/^\*+$/u.test(x)); // `**Layer 1:**`
        if (labels.length !== tokens.length) {
          problems.add(
            'label-count',
            `layer ${layer + 1} has ${labels.length} label(s) for ${tokens.length} token(s)` +
              (labels.length > tokens.length ? '; the extra labels were ignored' : ''),
            layer,
          );
        }
        decodeLayer(labels.slice(0, tokens.length), layer, tokens, text, resolver, problems, entities);
      }
      if (layers === 0) problems.add('no-answer', 'no "Layer k:" line found in the answer');
      return { entities, problems: problems.list };
    }, emptyResult);
  },
  canRender: (text, entities) => 'layers' in layout(text, entities),
};

const LABEL = /^([BI])[-_](.+)$/iu;

function decodeLayer(
  labels: readonly string[],
  layer: number,
  tokens: readonly Token[],
  text: string,
  resolver: TypeResolver,
  problems: Problems,
  out: Entity[],
): void {
  let cur: { type: string; first: number; last: number } | undefined;
  const close = () => {
    if (cur) out.push(makeEntity(text, cur.type, [[tokens[cur.first].start, tokens[cur.last].end]]));
    cur = undefined;
  };
  labels.forEach((label, j) => {
    if (/^o$/iu.test(label)) return close();
    const m = LABEL.exec(label);
    if (!m) {
      problems.add('malformed-item', `layer ${layer + 1}, label ${j} is not a BIO label`, j);
      return close();
    }
    const type = resolver.resolve(m[2]);
    if (type === undefined) {
      problems.add('unknown-type', `layer ${layer + 1}, label ${j} has a type not among the requested types; dropped`, j);
      return close();
    }
    if (m[1].toUpperCase() === 'I' && cur && cur.type === type) {
      cur.last = j;
      return;
    }
    if (m[1].toUpperCase() === 'I') {
      problems.add('bio-sequence', `layer ${layer + 1}, label ${j} is I- without a B- of its type; read as B-`, j);
    }
    close();
    cur = { type, first: j, last: j };
  });
  close();
}
