/**
 * The `mfner` command line. Each area registers its commands from `commands/<area>.ts`;
 * this file only assembles them and turns errors into one clear line and an exit code.
 */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { registerCommands } from './commands/index.ts';
import { EXIT } from './options.ts';
import { readPackageVersion } from './util.ts';
import { defaultThreads } from '../native/threads.ts';

/** Commander's own exits that are not usage errors: --version, --help. */
const NOT_USAGE = new Set(['commander.version', 'commander.helpDisplayed', 'commander.executeSubCommandAsync']);

/**
 * The exit code of a CommanderError: commander's parse errors (bad or missing option values,
 * unknown options or commands, excess arguments, a group without its subcommand) exit 1 by
 * default; here every one of them is a usage error, exit 2. Help and version stay 0.
 */
export function exitCodeOf(err: CommanderError): number {
  if (err.exitCode !== 0 && err.code.startsWith('commander.') && !NOT_USAGE.has(err.code)) return EXIT.usage;
  return err.exitCode;
}

/** Every command's parse errors as one line: `mfner: <what> (mfner <command> --help)`. */
function oneLineErrors(cmd: Command, name: string): void {
  cmd.showHelpAfterError(false).configureOutput({
    outputError: (str, write) => write(`mfner: ${str.trim().replace(/^error: /u, '')} (see ${name} --help)\n`),
  });
  for (const sub of cmd.commands) oneLineErrors(sub, `${name} ${sub.name()}`);
}

/** The leaf commands (those that run an action), by their full names, e.g. `corpus sample`. */
export function leafCommands(program: Command): string[] {
  const out: string[] = [];
  const walk = (cmd: Command, prefix: string[]) => {
    for (const sub of cmd.commands) {
      const name = [...prefix, sub.name()];
      // A command with both an action and subcommands (bench) counts as a leaf too.
      if ((sub as unknown as { _actionHandler: unknown })._actionHandler) out.push(name.join(' '));
      walk(sub, name);
    }
  };
  walk(program, []);
  return out;
}

export function buildProgram(): Command {
  const program = new Command('mfner')
    .description('Biomedical NER with small LLMs in twelve output formats, offline.')
    .version(readPackageVersion())
    .exitOverride();
  registerCommands(program);
  oneLineErrors(program, 'mfner');
  // $MFNER_THREADS above the CPU count is capped like --threads, and said so once.
  program.hook('preAction', (_root, action) => {
    if (action.options.some((o) => o.long === '--threads') && action.getOptionValue('threads') === undefined) {
      defaultThreads({ warn: (m) => process.stderr.write(`mfner: ${m}\n`) });
    }
  });
  return program;
}

export async function main(argv: string[] = process.argv): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    // Thrown by an action (commander itself rethrows parse errors as plain CommanderErrors,
    // already printed): a bad argument found late, not yet printed.
    if (err instanceof InvalidArgumentError) {
      process.stderr.write(`mfner: ${err.message} [ERR_INVALID_ARG]\n`);
      return EXIT.usage;
    }
    if (err instanceof CommanderError) return exitCodeOf(err);
    const code = (err as { code?: unknown }).code;
    process.stderr.write(`mfner: ${(err as Error).message ?? String(err)}${typeof code === 'string' ? ` [${code}]` : ''}\n`);
    return code === 'ERR_INVALID_ARG' ? EXIT.usage : EXIT.failure;
  }
}
