import type { Command } from 'commander';
import { register as registerBench } from './bench.ts';
import { register as registerCorpus } from './corpus.ts';
import { register as registerFormats } from './formats.ts';
import { register as registerMetrics } from './metrics.ts';
import { register as registerNative } from './native.ts';
import { register as registerPipeline } from './pipeline.ts';
import { register as registerQueue } from './queue.ts';
import { register as registerTrain } from './train.ts';

/**
 * One line per area; each module adds its own subcommands to the program.
 * Keep the list in the order they should appear in `mfner --help`.
 */
const registrations: Array<(program: Command) => void> = [
  registerCorpus,
  registerFormats,
  registerMetrics,
  registerNative,
  registerPipeline,
  registerTrain,
  registerQueue,
  registerBench,
];

export function registerCommands(program: Command): void {
  for (const register of registrations) register(program);
}
