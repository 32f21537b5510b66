import { loadDeliveryConfig } from '../config/config.ts';
import { readWatchStates, type WatchState } from '../cycle/watch-state.ts';
import { describeKeySource } from '../track-request.ts';
import type { Watch } from '../watch.ts';
import { type CliIo, EXIT_OK, parse, usage } from './cli-io.ts';
import { shortTime, withStore } from './job-commands.ts';
import { createTextTable } from './text-table.ts';

/** One watch as `watches` shows it. */
export interface WatchView {
  name: string;
  /** `false` for a watch the store remembers but the configuration no longer declares. */
  configured: boolean;
  filters: {
    queues: string[] | null;
    owners: string[] | null;
    job_types: string[] | null;
    tags: string[] | null;
    sql_pattern: string | null;
  } | null;
  labels: Record<string, string> | null;
  /** The long-running threshold of the jobs it finds, in ms; `null`: the default, if any. */
  warn_after_ms: number | null;
  /** Where the run key of the jobs it finds comes from (`tag:<name>`, `label:<name>`, `sql`). */
  key_from: string | null;
  /** ISO time: every job it wants that started up to then has been found; `null` before its first cycle. */
  cursor: string | null;
  found: number;
  last_run_at: string | null;
  last_found_at: string | null;
}

const iso = (ms: number | null | undefined) =>
  ms === null || ms === undefined ? null : new Date(ms).toISOString();

function describeWatch(watch: Watch | undefined, name: string, state: WatchState | undefined): WatchView {
  return {
    name,
    configured: watch !== undefined,
    filters:
      watch === undefined
        ? null
        : {
            queues: watch.queues,
            owners: watch.owners,
            job_types: watch.jobTypes,
            tags: watch.tags,
            sql_pattern: watch.sqlPattern,
          },
    labels: watch === undefined ? null : watch.labels,
    warn_after_ms: watch?.warnAfterMs ?? null,
    key_from: describeKeySource(watch?.keyFrom ?? null),
    cursor: iso(state?.cursor),
    found: state?.found ?? 0,
    last_run_at: iso(state?.lastRunAt),
    last_found_at: iso(state?.lastFoundAt),
  };
}

/** `queues=etl_*,bi owners=fin_*`: a watch's filters on one line; `(whole project)` without any. */
function filterSummary(filters: NonNullable<WatchView['filters']>): string {
  const parts = Object.entries(filters)
    .filter(([, value]) => value !== null)
    .map(([key, value]) => `${key}=${Array.isArray(value) ? value.join(',') : value}`);
  return parts.join(' ') || '(whole project)';
}

/**
 * `dli-watch watches`: each watch of the configuration with its cursor, how many jobs it found and when it last
 * ran; then any watch the store still remembers that the configuration no longer has.
 */
export async function watches(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, { json: { type: 'boolean' } });
  if (positionals.length) usage('watches takes no arguments');
  const config = loadDeliveryConfig(io.env, { cwd: io.cwd });
  const states = await withStore(io, readWatchStates, { mustExist: true });
  const configured = new Map(config.watches.map((watch) => [watch.name, watch]));
  const views = [
    ...config.watches.map((watch) => describeWatch(watch, watch.name, states.get(watch.name))),
    ...[...states]
      .filter(([name]) => !configured.has(name))
      .map(([name, state]) => describeWatch(undefined, name, state)),
  ];
  if (values.json) {
    io.stdout(`${JSON.stringify(views, null, 2)}\n`);
    return EXIT_OK;
  }
  if (views.length === 0) {
    io.stdout('no watches: list them under "watches" in the configuration file, or set DLI_WATCH_QUEUES\n');
    return EXIT_OK;
  }
  const table = createTextTable(['WATCH', 'FILTERS', 'CURSOR', 'FOUND', 'LAST RUN', 'LAST FOUND'], io.stdout);
  for (const view of views) {
    table.row([
      view.name,
      view.filters === null ? '(no longer configured)' : filterSummary(view.filters),
      view.cursor === null ? '(not run yet)' : shortTime(view.cursor),
      String(view.found),
      shortTime(view.last_run_at),
      shortTime(view.last_found_at),
    ]);
  }
  table.end();
  return EXIT_OK;
}
