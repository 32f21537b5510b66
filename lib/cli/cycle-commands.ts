import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { CycleFailedError, type CycleSummary } from '../cycle/summary.ts';
import { runLoop } from '../run/run-loop.ts';
import { type CurrentWatcher, createWatcherProvider } from '../run/watcher.ts';
import { type CliIo, EXIT_FAILURE, EXIT_OK, logFor, parse, seconds, usage } from './cli-io.ts';

/** Runs `use` with the watcher the configuration describes, and closes its store after. */
async function withWatcher(io: CliIo, use: (current: CurrentWatcher) => Promise<number>): Promise<number> {
  const watchers = createWatcherProvider({ env: io.env, cwd: io.cwd, log: (level) => logFor(io, level) });
  try {
    return await use(await watchers.current());
  } finally {
    await watchers.close();
  }
}

export async function tick(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, { json: { type: 'boolean' }, budget: { type: 'string' } });
  if (positionals.length) usage('tick takes no arguments');
  const budgetSeconds = seconds(values.budget, 'budget', 50, 1);
  return withWatcher(io, async ({ watcher, config }) => {
    const warnings = config.destinations.length === 0 ? ['no destination is configured'] : [];
    let summary: CycleSummary;
    let failure: string | null = null;
    try {
      summary = await watcher.tick({
        budgetMs: budgetSeconds * 1000,
        ...(io.signal ? { signal: io.signal } : {}),
      });
    } catch (error) {
      if (!(error instanceof CycleFailedError)) throw error;
      summary = error.summary;
      failure = error.message;
    }
    if (values.json) io.stdout(`${JSON.stringify({ ...summary, failure, warnings })}\n`);
    else io.stdout(`${formatSummary(summary)}\n`);
    if (failure === null) return EXIT_OK;
    io.stderr(`dli-watch: the cycle failed: ${failure}\n`);
    return EXIT_FAILURE;
  });
}

/** One line a person reads after a cycle. */
export function formatSummary(summary: CycleSummary): string {
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

export async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, {
    interval: { type: 'string' },
    'health-file': { type: 'string' },
  });
  if (positionals.length) usage('run takes no arguments');
  const intervalSeconds = seconds(values.interval, 'interval', 60, 1);
  const healthFile = values['health-file'] === undefined ? undefined : resolve(io.cwd, values['health-file']);
  return withWatcher(io, async ({ watcher, config, log }) => {
    log.info('watching', {
      store:
        config.store.kind === 'sqlite' ? `sqlite:${config.store.path}` : `dynamodb:${config.store.table}`,
      destinations: config.destinations.length,
      interval_s: intervalSeconds,
      ...(healthFile === undefined ? {} : { health_file: healthFile }),
    });
    await runLoop(watcher, {
      intervalMs: intervalSeconds * 1000,
      log,
      ...(io.signal ? { signal: io.signal } : {}),
      // Rewritten after each cycle that did its job: a supervisor reads its age (README, "Run as a service").
      ...(healthFile === undefined
        ? {}
        : { onCycle: () => writeFile(healthFile, `${new Date().toISOString()}\n`) }),
    });
    return EXIT_OK;
  });
}
