/**
 * What every command shares: option-value parsers (commander calls them; a bad value is a usage
 * error naming the option), exit codes, coded failures, and Ctrl-C handling.
 */
import { CommanderError, InvalidArgumentError } from 'commander';
import { resolveThreads } from '../native/threads.ts';

export const EXIT = { ok: 0, failure: 1, usage: 2, interrupted: 130 } as const;

function numberOption(name: string, ok: (n: number) => boolean, what: string) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !ok(n)) throw new InvalidArgumentError(`${name} must be ${what}`);
    return n;
  };
}

export const positiveInt = (name: string) => numberOption(name, (n) => Number.isInteger(n) && n >= 1, 'a positive integer');
export const nonNegativeInt = (name: string) => numberOption(name, (n) => Number.isInteger(n) && n >= 0, 'an integer >= 0');
export const positiveNumber = (name: string) => numberOption(name, (n) => Number.isFinite(n) && n > 0, 'a number > 0');
export const nonNegativeNumber = (name: string) => numberOption(name, (n) => Number.isFinite(n) && n >= 0, 'a number >= 0');
export const fraction = (name: string) => numberOption(name, (n) => Number.isFinite(n) && n >= 0 && n < 1, 'in [0, 1)');

/**
 * `--threads`: a positive integer, capped at the CPUs here with one warning line on stderr
 * (the native layer caps API callers the same way, silently; lib/native/threads.ts).
 */
export const threadsOption = (name = '--threads') => {
  const parse = positiveInt(name);
  return (v: string): number =>
    resolveThreads(parse(v), { label: `${name} ${v.trim()}`, warn: (m) => process.stderr.write(`mfner: ${m}\n`) });
};

/** An option parser from a function that throws on a bad value: its message becomes the usage error. */
export function parsedBy<T>(parse: (v: string) => T): (v: string) => T {
  return (v: string) => {
    try {
      return parse(v);
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message);
    }
  };
}

/**
 * Runs a check of the arguments inside an action, before anything is loaded: whatever it throws
 * becomes a usage error (exit 2, `ERR_INVALID_ARG` unless the error carries a code), its
 * message prefixed with `option` when given.
 */
export function usageCheck<T>(check: () => T, option?: string): T {
  try {
    return check();
  } catch (err) {
    if (err instanceof CommanderError) throw err;
    const code = (err as { code?: unknown }).code;
    const message = (err as Error).message;
    fail(EXIT.usage, typeof code === 'string' ? code : 'ERR_INVALID_ARG', option && !message.includes(option) ? `${option}: ${message}` : message);
  }
}

/** Prints one coded line on stderr and ends the command with `exitCode`. */
export function fail(exitCode: number, code: string, message: string): never {
  process.stderr.write(`mfner: ${message} [${code}]\n`);
  throw new CommanderError(exitCode, code, message);
}

/**
 * An AbortSignal for SIGINT/SIGTERM: the first signal aborts (after `onFirst`, e.g. a note on
 * what is being saved), the second exits at once.
 */
export function interruptSignal(onFirst?: () => void): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(EXIT.interrupted);
    onFirst?.();
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
