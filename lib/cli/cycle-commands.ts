import type { CycleSummary } from '../cycle/summary.ts';
import { runLoop } from '../run/run-loop.ts';
import { type CurrentWatcher, createWatcherProvider } from '../run/watcher.ts';
import { type CliIo, EXIT_OK, logFor, parse, seconds, usage } from './cli-io.ts';

/** Runs `use` with the watcher the configuration describes, and closes its store after. */
async function withWatcher<T>(io: CliIo, use: (current: CurrentWatcher) => Promise<T>): Promise<T> {
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
  const summary = await withWatcher(io, ({ watcher }) =>
    watcher.tick({ budgetMs: budgetSeconds * 1000, ...(io.signal ? { signal: io.signal } : {}) }),
  );
  if (values.json) io.stdout(`${JSON.stringify(summary)}\n`);
  else io.stdout(`${formatSummary(summary)}\n`);
  return EXIT_OK;
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
  const { values, positionals } = parse(args, { interval: { type: 'string' } });
  if (positionals.length) usage('run takes no arguments');
  const intervalSeconds = seconds(values.interval, 'interval', 60, 1);
  await withWatcher(io, ({ watcher, log }) =>
    runLoop(watcher, {
      intervalMs: intervalSeconds * 1000,
      log,
      ...(io.signal ? { signal: io.signal } : {}),
    }),
  );
  return EXIT_OK;
}
