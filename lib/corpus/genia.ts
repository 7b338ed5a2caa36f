/**
 * GENIA term corpus 3.02 (GPML XML), read with a streaming XML parser.
 *
 * A sentence's text is its character data as written (entities decoded). Each `<cons>` whose
 * `sem` maps to one of the five types (see genia-types.ts) is an entity over the characters it
 * encloses; nesting comes from nested `<cons>`. Coordinated terms (`sem="(AND …)"`, built from
 * `*` fragments) are dropped by default, as the standard benchmark does; with
 * `coordination: 'keep'` their members become (often discontinuous) entities.
 * Articles are assigned to train/dev/test by the standard document split; the article that the
 * corpus holds twice (MEDLINE:97218353) is kept once, in its later version.
 */
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { SaxesParser } from 'saxes';
import type { Span } from '../formats/entity.ts';
import { dropDuplicateEntities, makeDocument, type CorpusDocument } from './document.ts';
import { CorpusError, type SkipReport } from './errors.ts';
import { coordinationMembers, resolveMembers, type Fragment } from './genia-coordination.ts';
import { mapGeniaClass, parseCoordination } from './genia-types.ts';

export type SplitName = 'train' | 'dev' | 'test';
export const SPLITS: readonly SplitName[] = ['train', 'dev', 'test'];

export interface GeniaOptions {
  /** Folder with train.txt, dev.txt, test.txt (one MEDLINE id per line). */
  splitsDir: string;
  /** 'drop' (default, the benchmark's choice) or 'keep' coordinated members as entities. */
  coordination?: 'drop' | 'keep';
  /** Receives coordination members that could not be rebuilt (only with 'keep'). */
  report?: SkipReport;
}

export interface GeniaStats {
  articles: number;
  /** Articles seen more than once; only the last version is kept. */
  duplicateArticles: string[];
  /** Articles in no split file. */
  unassignedArticles: string[];
  /** Split ids with no article in the XML. */
  missingArticles: string[];
  sentences: number;
  droppedDuplicateEntities: number;
  coordinations: number;
  coordinationMembers: { kept: number; unresolved: number; otherType: number };
}

export interface GeniaCorpus {
  splits: Record<SplitName, CorpusDocument[]>;
  stats: GeniaStats;
}

interface OpenCons {
  start: number;
  sem?: string;
  lex?: string;
  /** Direct child cons, as candidate fragments of a coordination. */
  children: Fragment[];
}

interface Article {
  id: string;
  sentences: CorpusDocument[];
}

async function readSplits(dir: string): Promise<Map<string, SplitName>> {
  const bySplit = new Map<string, SplitName>();
  for (const split of SPLITS) {
    const file = path.join(dir, `${split}.txt`);
    const lines = (await readFile(file, 'utf8')).split(/\r?\n/);
    lines.forEach((raw, i) => {
      const id = raw.trim();
      if (id === '') return;
      if (!/^MEDLINE:\d+$/.test(id)) throw new CorpusError({ file: path.basename(file), line: i + 1 }, 'expected a MEDLINE:<id> line');
      if (bySplit.has(id)) throw new CorpusError({ file: path.basename(file), line: i + 1 }, `${id} is in two splits`);
      bySplit.set(id, split);
    });
  }
  return bySplit;
}

export async function loadGenia(xmlFile: string, options: GeniaOptions): Promise<GeniaCorpus> {
  const name = path.basename(xmlFile);
  const keepCoordination = options.coordination === 'keep';
  const splitOf = await readSplits(options.splitsDir);
  const stats: GeniaStats = {
    articles: 0,
    duplicateArticles: [],
    unassignedArticles: [],
    missingArticles: [],
    sentences: 0,
    droppedDuplicateEntities: 0,
    coordinations: 0,
    coordinationMembers: { kept: 0, unresolved: 0, otherType: 0 },
  };
  const articles = new Map<string, Article>();

  const parser = new SaxesParser({ fileName: name, position: true });
  const fail = (reason: string): never => {
    throw new CorpusError({ file: name, line: parser.line }, reason);
  };
  let article: Article | undefined;
  let inBibliomisc = false;
  let bibliomisc = '';
  let sentence: { text: string; raw: { type: string; spans: Span[] }[]; line: number } | undefined;
  let stack: OpenCons[] = [];

  parser.on('opentag', (tag) => {
    const attr = (key: string) => {
      const v = tag.attributes[key];
      return typeof v === 'string' ? v : undefined;
    };
    switch (tag.name) {
      case 'article':
        article = { id: '', sentences: [] };
        break;
      case 'bibliomisc':
        inBibliomisc = true;
        bibliomisc = '';
        break;
      case 'sentence':
        if (!article) fail('<sentence> outside an <article>');
        if (sentence) fail('nested <sentence>');
        sentence = { text: '', raw: [], line: parser.line };
        stack = [];
        break;
      case 'cons':
        if (!sentence) fail('<cons> outside a <sentence>');
        stack.push({ start: sentence!.text.length, sem: attr('sem'), lex: attr('lex'), children: [] });
        break;
    }
  });

  parser.on('text', (text: string) => {
    if (inBibliomisc) bibliomisc += text;
    else if (sentence) sentence.text += text;
  });

  parser.on('closetag', (tag) => {
    switch (tag.name) {
      case 'bibliomisc':
        inBibliomisc = false;
        if (article) article.id = bibliomisc.trim();
        break;
      case 'cons': {
        const cons = stack.pop()!;
        const span: Span = [cons.start, sentence!.text.length];
        stack[stack.length - 1]?.children.push({ lex: cons.lex ?? '', span });
        const coordination = cons.sem ? parseCoordination(cons.sem) : undefined;
        if (coordination) {
          stats.coordinations++;
          if (keepCoordination) addMembers(cons, coordination.members, sentence!.raw, sentence!.line);
        } else if (cons.sem) {
          const type = mapGeniaClass(cons.sem);
          if (type && span[1] > span[0]) sentence!.raw.push({ type, spans: [span] });
        }
        break;
      }
      case 'sentence': {
        const s = sentence!;
        if (!article!.id) fail('<sentence> before the article\'s MEDLINE id');
        const doc = makeDocument(`${article!.id}-${article!.sentences.length}`, s.text, s.raw);
        const { kept, dropped } = dropDuplicateEntities(doc.entities);
        stats.droppedDuplicateEntities += dropped;
        article!.sentences.push({ ...doc, entities: kept });
        sentence = undefined;
        break;
      }
      case 'article': {
        const a = article!;
        if (!a.id) fail('<article> without a MEDLINE id');
        if (articles.has(a.id)) {
          stats.duplicateArticles.push(a.id);
          articles.delete(a.id); // re-inserted below: the later version, in its later position
        }
        articles.set(a.id, a);
        article = undefined;
        break;
      }
    }
  });

  function addMembers(cons: OpenCons, memberClasses: string[], raw: { type: string; spans: Span[] }[], line: number) {
    const lexes = cons.lex ? coordinationMembers(cons.lex) : undefined;
    if (!lexes || lexes.length !== memberClasses.length) {
      stats.coordinationMembers.unresolved += memberClasses.length;
      memberClasses.forEach((_, i) =>
        options.report?.add(
          new CorpusError({ file: name, line, annotation: `member ${i + 1}` }, 'coordination whose lex and sem list different member counts'),
        ),
      );
      return;
    }
    const spans = resolveMembers(lexes, cons.children);
    spans.forEach((memberSpans, i) => {
      const type = mapGeniaClass(memberClasses[i]);
      if (!type) {
        stats.coordinationMembers.otherType++;
        return;
      }
      if (!memberSpans) {
        stats.coordinationMembers.unresolved++;
        options.report?.add(
          new CorpusError({ file: name, line, annotation: `member ${i + 1}` }, 'coordination member not spelled by its fragments'),
        );
        return;
      }
      stats.coordinationMembers.kept++;
      raw.push({ type, spans: memberSpans });
    });
  }

  const stream = createReadStream(xmlFile, { encoding: 'utf8' });
  try {
    for await (const chunk of stream) parser.write(chunk as string);
    parser.close();
  } catch (err) {
    if (err instanceof CorpusError) throw err;
    // saxes prefixes "file:line:column: "; keep only its reason.
    const reason = String((err as Error).message).replace(/^.*?:\d+:\d+: /, '');
    throw new CorpusError({ file: name, line: parser.line }, `malformed XML: ${reason}`);
  } finally {
    stream.destroy();
  }

  const splits: Record<SplitName, CorpusDocument[]> = { train: [], dev: [], test: [] };
  for (const a of articles.values()) {
    stats.articles++;
    stats.sentences += a.sentences.length;
    const split = splitOf.get(a.id);
    if (!split) stats.unassignedArticles.push(a.id);
    else splits[split].push(...a.sentences);
  }
  for (const id of splitOf.keys()) if (!articles.has(id)) stats.missingArticles.push(id);
  return { splits, stats };
}
