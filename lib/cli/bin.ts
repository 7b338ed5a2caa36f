#!/usr/bin/env node
import { main } from './main.ts';

// `mfner … | head`: once the reader has gone, the rest of the output has nowhere to go. End as
// the command would have, without an unhandled EPIPE stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(process.exitCode ?? 0);
});

process.exitCode = await main();
