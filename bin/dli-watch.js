#!/usr/bin/env -S node --max-semi-space-size=4 --max-old-space-size=128
// Node 24 runs the TypeScript sources directly (type stripping): no build step for the CLI.
// The heap flags above are explained in lib/cli/node-flags.ts (and read from here by the benchmark).
import { main } from '../lib/cli/main.ts';

const controller = new AbortController();
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    // The first signal stops cleanly (work under way finishes and is recorded); a second one does not wait.
    if (stopping) process.exit(130);
    stopping = true;
    process.stderr.write(`dli-watch: ${signal} received, finishing the work under way (again to force)\n`);
    controller.abort();
  });
}

process.exitCode = await main(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  cwd: process.cwd(),
  signal: controller.signal,
});
