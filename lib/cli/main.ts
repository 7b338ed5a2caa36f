/**
 * The `mfner` command line. Each area registers its commands from `commands/<area>.ts`;
 * this file only assembles them and turns errors into one clear line and an exit code.
 */
import { Command, CommanderError } from 'commander';
import { registerCommands } from './commands/index.ts';
import { readPackageVersion } from './util.ts';

export function buildProgram(): Command {
  const program = new Command('mfner')
    .description('Biomedical NER with small LLMs in twelve output formats, offline.')
    .version(readPackageVersion())
    .showHelpAfterError()
    .exitOverride();
  registerCommands(program);
  return program;
}

export async function main(argv: string[] = process.argv): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    const code = (err as { code?: unknown }).code;
    process.stderr.write(`mfner: ${(err as Error).message ?? String(err)}${typeof code === 'string' ? ` [${code}]` : ''}\n`);
    return 1;
  }
}
