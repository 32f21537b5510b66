/**
 * `npm run bench:import [-- --runs 15] [--json]`
 *
 * How long a cold start spends importing each Lambda bundle. Packages the service as `serverless package` does
 * for a deployment (offline), unpacks each function's zip into a directory of its own, then imports its handler
 * `--runs` times, each time in a fresh Node process with the function's `NODE_OPTIONS` from the template, the
 * functions alternating. It reports the zip and bundle sizes and the import time's min, median and max.
 *
 * The time is that of `await import(handler)` alone: module loading and everything a handler module builds at
 * its top level (here a logger, metrics, a store client), as in Lambda's init phase. Node's own start-up is not
 * in it. This is a script, not a test: it asserts no timing.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { functionEnvironment, packageService, type Template } from '../test/support/serverless-package.ts';
import { extractZip } from '../test/support/zip.ts';
import { commandLine, machineDescription, median } from './bench-common.ts';

const run = promisify(execFile);

const FUNCTIONS = [
  { name: 'poll', logicalId: 'PollLambdaFunction' },
  { name: 'api', logicalId: 'ApiLambdaFunction' },
] as const;

/** Imports the handler named on the command line and prints how long the import took, in ms. */
const IMPORT_TIMER =
  'const started = performance.now(); await import(process.argv[1]); ' +
  'process.stdout.write(String(performance.now() - started));';

interface FunctionResult {
  name: string;
  zipKb: number;
  bundleKb: number;
  importMs: { min: number; median: number; max: number; runs: number[] };
}

function parseOptions(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: { runs: { type: 'string', default: '15' }, json: { type: 'boolean', default: false } },
  });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1)
    throw new Error(`--runs must be a positive integer, got ${values.runs}`);
  return { runs, json: values.json };
}

/** The function's environment as the template sets it, plus what Lambda itself sets that the import reads. */
function lambdaEnvironment(template: Template, logicalId: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    ...functionEnvironment(template.Resources[logicalId]),
    AWS_REGION: 'eu-west-1',
    AWS_LAMBDA_FUNCTION_NAME: `dli-watch-bench-${logicalId}`,
  };
}

async function timeImport(handlerPath: string, cwd: string, env: NodeJS.ProcessEnv): Promise<number> {
  const { stdout } = await run(
    process.execPath,
    ['--input-type=module', '-e', IMPORT_TIMER, pathToFileURL(handlerPath).href],
    { cwd, env, timeout: 60_000 },
  );
  const ms = Number(stdout.trim());
  if (!Number.isFinite(ms)) throw new Error(`importing ${handlerPath} printed ${JSON.stringify(stdout)}`);
  return ms;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const options = parseOptions(argv);
  const directory = await mkdtemp(join(tmpdir(), 'dli-watch-bench-import-'));
  try {
    process.stderr.write('dli-watch bench:import: packaging (serverless package, offline)\n');
    const template = await packageService(directory, 'bench');
    const functions = await Promise.all(
      FUNCTIONS.map(async ({ name, logicalId }) => {
        const root = join(directory, name);
        extractZip(join(directory, `${name}.zip`), root);
        const handlerPath = join(root, 'handlers', `${name}.mjs`);
        return {
          name,
          root,
          handlerPath,
          env: lambdaEnvironment(template, logicalId),
          zipKb: (await stat(join(directory, `${name}.zip`))).size / 1024,
          bundleKb: (await stat(handlerPath)).size / 1024,
          runs: [] as number[],
        };
      }),
    );
    process.stderr.write(
      `dli-watch bench:import: ${options.runs} cold import(s) per function, alternating\n`,
    );
    for (let index = 0; index < options.runs; index += 1)
      for (const fn of functions) fn.runs.push(await timeImport(fn.handlerPath, fn.root, fn.env));

    const results: FunctionResult[] = functions.map((fn) => ({
      name: fn.name,
      zipKb: Math.round(fn.zipKb),
      bundleKb: Math.round(fn.bundleKb),
      importMs: {
        min: Math.round(Math.min(...fn.runs)),
        median: Math.round(median(fn.runs)),
        max: Math.round(Math.max(...fn.runs)),
        runs: fn.runs.map((ms) => Math.round(ms)),
      },
    }));
    const machine = machineDescription();
    const command = commandLine('bench:import', 'scripts/bench-import.ts', argv);
    if (options.json) {
      process.stdout.write(`${JSON.stringify({ machine, command, results }, null, 2)}\n`);
      return;
    }
    const lines = [
      `machine: ${machine.cpu}, ${machine.cores} cores, ${machine.totalMemoryGb} GB, Node ${machine.node} (${machine.platform})`,
      `command: ${command}`,
      '',
      'function  zip KB  bundle KB  import ms: min  median  max',
      ...results.map(
        (result) =>
          `${result.name.padEnd(8)}  ${String(result.zipKb).padStart(6)}  ${String(result.bundleKb).padStart(9)}` +
          `  ${String(result.importMs.min).padStart(14)}  ${String(result.importMs.median).padStart(6)}` +
          `  ${String(result.importMs.max).padStart(4)}`,
      ),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

await main();
