/**
 * `mfner … | head`: the reader closes stdout before the command has written everything. The
 * command ends with its own exit code and nothing on stderr, not an EPIPE stack trace.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');

test('a closed stdout ends the command quietly (exit 0, empty stderr)', async (t) => {
  // The reader is gone before the child (a node + tsx start-up, well over a second) writes.
  const child = spawn(process.execPath, ['--import=tsx', path.join(root, 'lib/cli/bin.ts'), 'formats', 'list'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy();
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  t.is(stderr, '');
  t.is(code, 0);
});
