#!/usr/bin/env -S node --max-semi-space-size=4 --max-old-space-size=128
// In development Node 24 runs the TypeScript sources directly (type stripping). `npm run build` bundles this
// file and all it imports into dist/dli-watch.js, the package's bin, and copies this first line into it.
// The heap flags above are explained in lib/cli/node-flags.ts (and read from here by the benchmark).

// Checked before the rest is loaded, hence the dynamic import below: on an older Node that rest fails with a
// stack trace (a .ts file it cannot run, node:sqlite it lacks) instead of saying what is wrong. Keep this in
// step with "engines" in package.json (test/cli/package.test.ts compares them).
const REQUIRED_NODE_MAJOR = 24;

if (Number(process.versions.node.split('.')[0]) < REQUIRED_NODE_MAJOR) {
  process.stderr.write(
    `dli-watch needs Node.js ${REQUIRED_NODE_MAJOR} or later; this is Node.js ${process.version}.\n`,
  );
  process.exitCode = 2;
} else {
  const { main } = await import('../lib/cli/main.ts');
  const { closedPipeSafeWriter } = await import('../lib/cli/stdout-pipe.ts');

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
    stdout: closedPipeSafeWriter(process.stdout, () => controller.abort()),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
    cwd: process.cwd(),
    signal: controller.signal,
  });
}
