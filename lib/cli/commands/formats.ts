/**
 * `mfner formats list|render|parse`. Offsets on stdin and stdout count code points, as
 * every file and answer does; the library's JS indices never cross the process boundary.
 */
import { Option, type Command } from 'commander';
import { EXIT, fail } from '../options.ts';
import { readFileSync } from 'node:fs';
import type { Entity } from '../../formats/index.ts';
import { FORMAT_NAMES, OffsetMap, entityToCodePoints, entityToJs, getFormat } from '../../formats/index.ts';
import { parseList, printJson, readStdin } from '../util.ts';

export function register(program: Command): void {
  const formats = program.command('formats').description('the twelve output formats: list, render, parse');

  formats
    .command('list')
    .description('print every format with what it can represent (JSON)')
    .action(() => {
      printJson(FORMAT_NAMES.map((name) => ({ name, ...getFormat(name).capabilities })));
    });

  formats
    .command('render')
    .description('read {"text", "entities"} (code-point spans) on stdin; print the target answer (JSON)')
    .addOption(new Option('--format <name>', 'output format').choices([...FORMAT_NAMES]).makeOptionMandatory())
    .requiredOption('--types <a,b,c>', 'entity types, in prompt order')
    .action(async (opts: { format: string; types: string }) => {
      const format = getFormat(opts.format);
      const types = parseList(opts.types);
      const { text, entities } = readDocument(await readStdin());
      const answer =
        format.capabilities.perType && !format.capabilities.multiTurn && types.length !== 1
          ? types.map((type) => format.render(text, entities, [type]) as string)
          : format.render(text, entities, types);
      printJson({ format: format.name, types, instruction: format.instruction(types), answer });
    });

  formats
    .command('parse')
    .description('read a model answer on stdin (conv_term: a JSON list of answers); print entities and problems (JSON)')
    .addOption(new Option('--format <name>', 'output format').choices([...FORMAT_NAMES]).makeOptionMandatory())
    .requiredOption('--types <a,b,c>', 'entity types, in prompt order')
    .option('--text <text>', 'the input text')
    .option('--text-file <path>', 'read the input text from a UTF-8 file instead')
    .action(async (opts: { format: string; types: string; text?: string; textFile?: string }) => {
      const format = getFormat(opts.format);
      const text = opts.textFile !== undefined ? readFileSync(opts.textFile, 'utf8') : opts.text;
      if (text === undefined) fail(EXIT.usage, 'ERR_INVALID_ARG', 'give the input text with --text or --text-file');
      const raw = await readStdin();
      const answer = format.capabilities.multiTurn ? readAnswerList(raw) : raw;
      const result = format.parse(answer, text, parseList(opts.types));
      const map = new OffsetMap(text);
      printJson({ entities: result.entities.map((e) => entityToCodePoints(map, e)), problems: result.problems });
    });
}

function readAnswerList(raw: string): string[] {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new Error('conv_term answers must be a JSON list of strings on stdin');
  }
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new Error('conv_term answers must be a JSON list of strings on stdin');
  }
  return value;
}

/** `{text, entities}` with code-point spans, checked without echoing any of the text. */
function readDocument(raw: string): { text: string; entities: Entity[] } {
  let doc: unknown;
  try {
    doc = JSON.parse(raw);
  } catch {
    throw new Error('stdin must hold one JSON object {"text", "entities"}');
  }
  const { text, entities } = (doc ?? {}) as { text?: unknown; entities?: unknown };
  if (typeof text !== 'string' || !Array.isArray(entities)) {
    throw new Error('stdin must hold one JSON object {"text": string, "entities": [...]}');
  }
  const map = new OffsetMap(text);
  return {
    text,
    entities: entities.map((e: unknown, i: number) => {
      const ent = e as Partial<Entity>;
      const spansOk =
        Array.isArray(ent?.spans) &&
        ent.spans.every((s) => Array.isArray(s) && s.length === 2 && s.every((n) => Number.isInteger(n)));
      if (typeof ent?.type !== 'string' || !spansOk) {
        throw new Error(`entity ${i} must be {"type": string, "spans": [[start, end], ...]}`);
      }
      const spans = ent.spans!.map(([s, end]) => [s, end] as [number, number]);
      try {
        return entityToJs(map, { type: ent.type, spans, text: '' });
      } catch (err) {
        throw new Error(`entity ${i}: ${(err as Error).message}`);
      }
    }),
  };
}
