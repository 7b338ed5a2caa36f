import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sharedFile } from '../helpers/shared.ts';

/** stories260K, the real trained model, or a skip reason. */
export const stories = sharedFile('models', 'stories260K.gguf');

/** Its published greedy continuation from BOS (../shared/models/stories260K.md). */
export const STORIES_GREEDY = 'Once upon a time, there was a little girl named Lily. She loved to play outside in the park.';

export function tempDir(prefix = 'mfner-test-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Tests pin one thread: the CI machine has 2 shared cores (see lib/native/threads.ts). */
export const THREADS = 1;
