import packageJson from '../../package.json' with { type: 'json' };
import { ConfigError } from '../config/problems.ts';
import { DliAuthError, DliProjectError } from '../dli/errors.ts';
import { MissingStoreError, StoreError } from '../store/store-error.ts';
import { check } from './check-command.ts';
import {
  type CliIo,
  EXIT_CREDENTIALS,
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_STORE,
  EXIT_USAGE,
  parse,
  UsageError,
  usage,
} from './cli-io.ts';
import { run, tick } from './cycle-commands.ts';
import { liftGlobalOptions } from './global-options.ts';
import { HELP } from './help.ts';
import { list, track, untrack } from './job-commands.ts';
import { prune, redeliver, show } from './operate-commands.ts';
import { testDestination } from './test-destination.ts';
import { watches } from './watch-commands.ts';

/** Every command but `demo`, which is loaded only when asked for, by the name it is called with. */
const COMMANDS: Readonly<Record<string, (args: string[], io: CliIo) => Promise<number>>> = {
  track,
  untrack,
  list,
  show,
  redeliver,
  prune,
  tick,
  run,
  'test-destination': testDestination,
  check,
  watches,
};

/** Runs one CLI invocation and returns its exit code. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  let lifted: ReturnType<typeof liftGlobalOptions>;
  try {
    lifted = liftGlobalOptions(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr(`dli-watch: ${error.message}. Run 'dli-watch --help'.\n`);
    return EXIT_USAGE;
  }
  // `--store` and `--config` win over DLI_WATCH_STORE and DLI_WATCH_CONFIG: whoever typed the flag meant it for
  // this call, while the variable may come from a profile set up long ago.
  const commandIo: CliIo = { ...io, env: { ...io.env, ...lifted.env } };
  return dispatch(lifted.argv, commandIo);
}

async function dispatch(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined) {
    // A usage error like any other: stdout, which scripts capture, stays empty.
    io.stderr(HELP.main ?? '');
    return EXIT_USAGE;
  }
  if (command === '--help' || command === '-h' || command === 'help') {
    io.stdout(HELP.main ?? '');
    return EXIT_OK;
  }
  if (command === '--version' || command === '-v') {
    io.stdout(`${packageJson.version}\n`);
    return EXIT_OK;
  }
  const help = Object.hasOwn(HELP, command) ? HELP[command] : undefined;
  if (command === 'main' || help === undefined) {
    io.stderr(`dli-watch: unknown command '${command}'. Run 'dli-watch --help'.\n`);
    return EXIT_USAGE;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(help);
    return EXIT_OK;
  }
  try {
    const runCommand = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
    if (runCommand) return await runCommand(rest, io);
    if (parse(rest, {}).positionals.length) usage('demo takes no arguments');
    // Loaded only here: the simulator and receivers are no part of the other commands.
    const { runDemo } = await import('./demo.ts');
    return await runDemo(io);
  } catch (error) {
    return reportFailure(error, command, io);
  }
}

function reportFailure(error: unknown, command: string, io: CliIo): number {
  if (error instanceof UsageError) {
    io.stderr(`dli-watch ${command}: ${error.message}\nRun 'dli-watch ${command} --help'.\n`);
    return EXIT_USAGE;
  }
  if (error instanceof ConfigError) {
    io.stderr(`dli-watch: the configuration has ${error.problems.length} problem(s):\n`);
    for (const problem of error.problems) io.stderr(`  - ${problem}\n`);
    return EXIT_USAGE;
  }
  if (error instanceof DliAuthError) {
    const requestId = error.requestId ? ` (request id ${error.requestId})` : '';
    io.stderr(
      `dli-watch: ${error.message}${requestId}. Check HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK ` +
        '(plus HUAWEICLOUD_SDK_SECURITY_TOKEN for temporary credentials), or DLI_AUTH_TOKEN.\n',
    );
    return EXIT_CREDENTIALS;
  }
  if (error instanceof DliProjectError) {
    // The configuration's to fix, like a bad setting.
    io.stderr(
      `dli-watch: ${error.message}. Check DLI_PROJECT_ID (in serverless.yml, the dliProjectId parameter).\n`,
    );
    return EXIT_USAGE;
  }
  // Before StoreError, which it is: a store that is not there yet is no broken store, and may be there later.
  if (error instanceof MissingStoreError) {
    io.stderr(
      `dli-watch ${command}: there is no store at ${error.location}, so no job is tracked there. ` +
        `Point DLI_WATCH_STORE or --store at the store jobs were tracked in (sqlite:<path> or ` +
        `dynamodb:<table>); 'dli-watch track' creates one. Nothing was created.\n`,
    );
    return EXIT_FAILURE;
  }
  if (error instanceof StoreError) {
    io.stderr(`dli-watch: the store is unusable: ${error.message}\n`);
    return EXIT_STORE;
  }
  throw error;
}
