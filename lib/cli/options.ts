/**
 * What every command shares: option-value parsers (commander calls them; a bad value is a usage
 * error naming the option), exit codes, coded failures, and Ctrl-C handling.
 */
import { CommanderError, InvalidArgumentError } from 'commander';

export const EXIT = { ok: 0, failure: 1, usage: 2, interrupted: 130 } as const;

function numberOption(name: string, ok: (n: number) => boolean, what: string) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !ok(n)) throw new InvalidArgumentError(`${name} must be ${what}`);
    return n;
  };
}

export const positiveInt = (name: string) => numberOption(name, (n) => Number.isInteger(n) && n >= 1, 'a positive integer');
export const positiveNumber = (name: string) => numberOption(name, (n) => Number.isFinite(n) && n > 0, 'a number > 0');
export const nonNegativeNumber = (name: string) => numberOption(name, (n) => Number.isFinite(n) && n >= 0, 'a number >= 0');
export const fraction = (name: string) => numberOption(name, (n) => Number.isFinite(n) && n >= 0 && n < 1, 'in [0, 1)');

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
