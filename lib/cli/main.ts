import { type ParseArgsOptionsConfig, parseArgs } from 'node:util';
import { loadConfig, loadStoreConfig } from '../config/config.ts';
import { ConfigError } from '../config/problems.ts';
import { DliAuthError } from '../dli/errors.ts';
import { JOB_ID_PATTERN, LABEL_KEY_PATTERN } from '../job.ts';
import { describeRecord } from '../job-view.ts';
import { DEFAULT_SEND_TIMEOUT_MS } from '../notify/delivery/retry-schedule.ts';
import { sendTestMessage } from '../notify/delivery/test-message.ts';
import { platforms } from '../notify/platforms/registry.ts';
import { runLoop } from '../run/run-loop.ts';
import { createWatcher } from '../run/watcher.ts';
import type { JobStore } from '../store/job-store.ts';
import { openStore } from '../store/open-store.ts';
import { StoreError } from '../store/store-error.ts';
import { createStderrLog, type Log } from '../util/log.ts';

/** What a command may touch of the process: injected so tests run commands in-process. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Record<string, string | undefined>;
  cwd: string;
  /** Aborted on SIGINT/SIGTERM by the bin script. */
  signal?: AbortSignal;
}

/** Bad usage: exit code 2, like a bad configuration. */
export class UsageError extends Error {}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

const HELP: Record<string, string> = {
  main: `dli-watch — tell your chat when Huawei Cloud DLI SQL jobs finish, fail or are cancelled

Usage: dli-watch <command> [options]

Commands:
  track <job-id>... [--label key=value]...   start watching jobs
  untrack <job-id>...                        stop watching jobs (drops what they still owe)
  list [--json]                              tracked jobs, their status and deliveries
  tick [--json] [--budget <seconds>]         run one cycle and print its summary
  run [--interval <seconds>]                 run a cycle every interval until SIGINT/SIGTERM
  test-destination [name]                    send a marked test message to one or all destinations
  demo                                       see it work against a local DLI simulator, no cloud account

Run 'dli-watch <command> --help' for a command's options. Configuration comes from environment
variables (see the README): DLI_REGION, DLI_PROJECT_ID, HUAWEICLOUD_SDK_AK/SK or DLI_AUTH_TOKEN,
DLI_WATCH_STORE, DLI_WATCH_CONFIG, DLI_WATCH_WEBHOOKS, ...

Exit codes: 0 done, 1 DLI rejected the credentials or the store is unusable, 2 bad usage or configuration.
`,
  track: `Usage: dli-watch track <job-id>... [--label key=value]... [--file <path>]

Starts watching DLI jobs. Tracking a job twice is harmless (the first labels stay).
A job id is 1-64 letters, digits and '-'.

Options:
  -l, --label key=value   a label stored with every job of this call, sent with its notifications
  -f, --file <path>       also read job ids from a file, one per line ('-' for standard input)
  -h, --help
`,
  untrack: `Usage: dli-watch untrack <job-id>...

Stops watching jobs. Deliveries they still owe are dropped with them.
`,
  list: `Usage: dli-watch list [--json]

Lists tracked jobs: id, last status (LOST when DLI stopped knowing the job), when it was last
polled, and its pending and dead-lettered deliveries.

Options:
  --json   one JSON array on stdout
`,
  tick: `Usage: dli-watch tick [--json] [--budget <seconds>]

Runs one cycle: polls the jobs that are due, sends what is owed, prints a summary.
Exits 0 when the cycle ran, even if some jobs or deliveries failed (they are retried later).

Options:
  --json               the summary as one JSON object on stdout
  --budget <seconds>   start no new job after this long (default 50); the rest waits for the next cycle
`,
  run: `Usage: dli-watch run [--interval <seconds>]

Runs a cycle every interval (default 60 s). SIGINT or SIGTERM stops it after the jobs under way
have finished and recorded what they did, so nothing is lost or sent twice.

Options:
  --interval <seconds>   time between cycle starts (default 60, at least 1)
`,
  'test-destination': `Usage: dli-watch test-destination [name]

Sends a clearly marked test message to the destination called <name>, or to every configured
destination, once and without retries, and prints what each platform really answered: accepted,
or its error code and text. Exits 0 when every destination accepted, 1 otherwise.
`,
  demo: `Usage: dli-watch demo

Starts a local DLI simulator and two local receivers (one Slack-like, one Standard Webhooks),
tracks a few jobs that end FINISHED, FAILED and CANCELLED, runs the loop and prints each message
as it arrives. Uses a temporary store; needs no configuration and no network.
`,
};

/** Runs one CLI invocation and returns its exit code. */
export async function main(argv: string[], io: CliIo): Promise<number> {
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
  const help = HELP[command];
  if (command === 'main' || help === undefined) {
    io.stderr(`dli-watch: unknown command '${command}'. Run 'dli-watch --help'.\n`);
    return EXIT_USAGE;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(help);
    return EXIT_OK;
  }
  try {
    switch (command) {
      case 'track':
        return await track(rest, io);
      case 'untrack':
        return await untrack(rest, io);
      case 'list':
        return await list(rest, io);
      case 'tick':
        return await tick(rest, io);
      case 'run':
        return await run(rest, io);
      case 'test-destination':
        return await testDestination(rest, io);
      default: {
        if (parse(rest, {}).positionals.length) usage('demo takes no arguments');
        // Loaded only here: the simulator and receivers are no part of the other commands.
        const { runDemo } = await import('./demo.ts');
        return await runDemo(io);
      }
    }
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
    return EXIT_FAILURE;
  }
  if (error instanceof StoreError) {
    io.stderr(`dli-watch: the store is unusable: ${error.message}\n`);
    return EXIT_FAILURE;
  }
  throw error;
}

function usage(message: string): never {
  throw new UsageError(message);
}

function parse<const T extends ParseArgsOptionsConfig>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true } as const);
  } catch (error) {
    // parseArgs explains well ("Unknown option '--x'"); only its code prefix is noise.
    return usage((error as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, ''));
  }
}

function logFor(io: CliIo, level: ReturnType<typeof loadStoreConfig>['logLevel']): Log {
  return createStderrLog({ level, write: io.stderr });
}

async function withStore<T>(io: CliIo, use: (store: JobStore) => Promise<T>): Promise<T> {
  const config = loadStoreConfig(io.env, { cwd: io.cwd });
  const store = await openStore(config.store);
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

/** Validates ids up front so that one bad id changes nothing. */
function jobIds(values: string[]): string[] {
  const bad = values.filter((id) => !JOB_ID_PATTERN.test(id));
  if (bad.length > 0) {
    const shown = bad
      .slice(0, 5)
      .map((id) => JSON.stringify(id.length > 80 ? `${id.slice(0, 80)}…` : id))
      .join(', ');
    usage(
      `${bad.length} invalid job id(s): ${shown}${bad.length > 5 ? ', …' : ''}. ` +
        'A job id is 1-64 letters, digits and "-". Nothing was changed.',
    );
  }
  return [...new Set(values)];
}

async function readIdFile(path: string, io: CliIo): Promise<string[]> {
  const { readFile } = await import('node:fs/promises');
  const { resolve } = await import('node:path');
  let text: string;
  try {
    text = path === '-' ? await readStdin() : await readFile(resolve(io.cwd, path), 'utf8');
  } catch (error) {
    return usage(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseLabels(values: string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const value of values) {
    const separator = value.indexOf('=');
    const key = value.slice(0, separator);
    if (separator <= 0 || !LABEL_KEY_PATTERN.test(key)) {
      usage(`--label ${JSON.stringify(value)}: expected key=value, the key 1-64 of letters, digits, _ . - /`);
    }
    labels[key] = value.slice(separator + 1);
  }
  return labels;
}

async function track(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, {
    label: { type: 'string', short: 'l', multiple: true },
    file: { type: 'string', short: 'f' },
  });
  const fromFile = values.file === undefined ? [] : await readIdFile(values.file, io);
  const ids = jobIds([...positionals, ...fromFile]);
  if (ids.length === 0) usage('give at least one job id');
  const labels = parseLabels(values.label ?? []);
  const result = await withStore(io, (store) =>
    store.track(
      ids.map((jobId) => ({ jobId, labels })),
      Date.now(),
    ),
  );
  io.stdout(
    `tracking ${result.added} new job(s)${result.existing ? `, ${result.existing} already tracked` : ''}\n`,
  );
  return EXIT_OK;
}

async function untrack(args: string[], io: CliIo): Promise<number> {
  const { positionals } = parse(args, {});
  const ids = jobIds(positionals);
  if (ids.length === 0) usage('give at least one job id');
  const removed = await withStore(io, (store) => store.untrack(ids));
  const removedIds = new Set(removed);
  const missing = ids.filter((id) => !removedIds.has(id));
  io.stdout(`untracked ${removed.length} job(s)\n`);
  // Named, since an id that was not tracked is most often a typo the user wants to see.
  if (missing.length > 0) io.stdout(`not tracked (left alone): ${abbreviatedList(missing)}\n`);
  return EXIT_OK;
}

/** At most `shown` items, then how many more: bounded output for a call with thousands of ids. */
function abbreviatedList(items: string[], shown = 20): string {
  const more = items.length - shown;
  return `${items.slice(0, shown).join(', ')}${more > 0 ? `, … and ${more} more` : ''}`;
}

async function list(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, { json: { type: 'boolean' } });
  if (positionals.length) usage('list takes no job ids');
  await withStore(io, async (store) => {
    let cursor: string | null = null;
    let first = true;
    if (values.json) io.stdout('[');
    else io.stdout(`${row('JOB ID', 'STATUS', 'LAST POLLED', 'ROUTED TO', 'PENDING', 'DEAD-LETTERED')}\n`);
    // Streamed page by page: the output can be as long as the store without the memory growing with it.
    do {
      const page = await store.list({ limit: 500, cursor });
      for (const record of page.items) {
        const described = describeRecord(record);
        if (values.json) {
          io.stdout(`${first ? '\n' : ',\n'}${JSON.stringify(described)}`);
        } else {
          io.stdout(
            `${row(
              described.job_id,
              described.status,
              described.last_polled_at?.replace(/\.\d{3}Z$/, 'Z') ?? '-',
              described.routed_to === null ? '-' : described.routed_to.join(',') || '(nobody)',
              described.pending_deliveries.map((delivery) => delivery.destination).join(',') || '-',
              described.dead_lettered_deliveries.map((delivery) => delivery.destination).join(',') || '-',
            )}\n`,
          );
        }
        first = false;
      }
      cursor = page.cursor;
    } while (cursor);
    if (values.json) io.stdout(first ? ']\n' : '\n]\n');
  });
  return EXIT_OK;
}

function row(
  id: string,
  status: string,
  polled: string,
  routed: string,
  pending: string,
  dead: string,
): string {
  return `${id.padEnd(38)} ${status.padEnd(12)} ${polled.padEnd(21)} ${routed.padEnd(24)} ${pending.padEnd(20)} ${dead}`.trimEnd();
}

function seconds(value: string | undefined, name: string, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < min || parsed > 86_400)
    usage(`--${name} must be a number of seconds from ${min} to 86400`);
  return parsed;
}

async function tick(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, { json: { type: 'boolean' }, budget: { type: 'string' } });
  if (positionals.length) usage('tick takes no arguments');
  const budgetSeconds = seconds(values.budget, 'budget', 50, 1);
  const config = loadConfig(io.env, { cwd: io.cwd });
  const log = logFor(io, config.logLevel);
  const store = await openStore(config.store);
  try {
    const watcher = createWatcher(config, { store, log });
    const summary = await watcher.tick({
      budgetMs: budgetSeconds * 1000,
      ...(io.signal ? { signal: io.signal } : {}),
    });
    if (values.json) io.stdout(`${JSON.stringify(summary)}\n`);
    else io.stdout(`${formatSummary(summary)}\n`);
    return EXIT_OK;
  } finally {
    await store.close();
  }
}

/** One line a person reads after a cycle. */
export function formatSummary(
  summary: Awaited<ReturnType<ReturnType<typeof createWatcher>['tick']>>,
): string {
  const parts = [
    `polled ${summary.polled}`,
    `changed ${summary.changed}`,
    `notified ${summary.notified}`,
    `delivery failures ${summary.delivery_failures}`,
    `dead-lettered ${summary.dead_lettered}`,
    `lost ${summary.lost}`,
    `errors ${summary.errors}`,
  ];
  return `${parts.join(', ')} in ${summary.duration_ms} ms${summary.deferred ? ' (more work left for the next cycle)' : ''}`;
}

async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, { interval: { type: 'string' } });
  if (positionals.length) usage('run takes no arguments');
  const intervalSeconds = seconds(values.interval, 'interval', 60, 1);
  const config = loadConfig(io.env, { cwd: io.cwd });
  const log = logFor(io, config.logLevel);
  const store = await openStore(config.store);
  try {
    const watcher = createWatcher(config, { store, log });
    await runLoop(watcher, {
      intervalMs: intervalSeconds * 1000,
      log,
      ...(io.signal ? { signal: io.signal } : {}),
    });
    return EXIT_OK;
  } finally {
    await store.close();
  }
}

async function testDestination(args: string[], io: CliIo): Promise<number> {
  const { positionals } = parse(args, {});
  if (positionals.length > 1) usage('give at most one destination name');
  const config = loadConfig(io.env, { cwd: io.cwd });
  const [name] = positionals;
  const chosen =
    name === undefined ? config.destinations : config.destinations.filter((d) => d.name === name);
  if (chosen.length === 0) {
    const known = config.destinations.map((destination) => destination.name).join(', ') || 'none';
    usage(
      name === undefined
        ? 'no destination is configured'
        : `no destination is called ${name} (configured: ${known})`,
    );
  }
  const render = { region: config.dli.region, consoleUrlTemplate: config.consoleUrlTemplate };
  const results = await Promise.all(
    chosen.map((destination) =>
      sendTestMessage(destination, {
        platforms,
        render,
        projectId: config.dli.projectId,
        now: Date.now(),
        timeoutMs: DEFAULT_SEND_TIMEOUT_MS,
      }),
    ),
  );
  for (const { destination, type, host, outcome } of results) {
    const verdict =
      outcome.kind === 'delivered'
        ? 'accepted'
        : `${outcome.kind === 'reject' ? 'rejected' : 'not delivered (would be retried)'}: ${outcome.reason}`;
    io.stdout(`${destination} (${type}, ${host}): ${verdict}\n`);
  }
  return results.every((result) => result.outcome.kind === 'delivered') ? EXIT_OK : EXIT_FAILURE;
}
