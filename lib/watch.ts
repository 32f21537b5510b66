/**
 * Watches: jobs found without registration. A watch names the jobs it wants by the fields of DLI's job list; every
 * job it finds is tracked like one tracked by id, with the watch's labels. Pure: no I/O here.
 */
import type { KeySource } from './job.ts';
import { anyPairMatches, anyValueMatches, wildcardMatches } from './util/wildcard.ts';

export interface Watch {
  /** Unique among the watches; also the `watch` label of every job it finds. */
  name: string;
  /** Each list, when set, needs one matching entry (`*` wildcards, as in destination routing); `null`: any. */
  queues: string[] | null;
  owners: string[] | null;
  jobTypes: string[] | null;
  /** `key=value` entries, matched against DLI's job tags. */
  tags: string[] | null;
  /** A case-insensitive fragment of the SQL statement, with `*` wildcards. */
  sqlPattern: string | null;
  /** Labels given to every job the watch finds, besides `watch=<name>`. */
  labels: Record<string, string>;
  /** Where a new watch starts instead of at its first cycle: a backfill. `null`: at its first cycle. */
  since: WatchSince | null;
  /** The long-running threshold (ms) of the jobs it finds; `null`: the configured default, if any. */
  warnAfterMs: number | null;
  /** Where the run key of the jobs it finds comes from; `null`: their runs are not tied together. */
  keyFrom: KeySource | null;
}

/** A watch named `name` with the given filters and options; what is not given matches any job, as in a file. */
export function createWatch(name: string, options: Partial<Omit<Watch, 'name'>> = {}): Watch {
  return {
    name,
    queues: null,
    owners: null,
    jobTypes: null,
    tags: null,
    sqlPattern: null,
    labels: {},
    since: null,
    warnAfterMs: null,
    keyFrom: null,
    ...options,
  };
}

/** An instant (`2026-11-30T08:00:00Z`) or a time before the watch's first cycle (`6h`). */
export type WatchSince = { kind: 'at'; at: number } | { kind: 'before-first-cycle'; ms: number };

/** The label every job a watch finds carries, naming the watch. */
export const WATCH_LABEL = 'watch';

/** The fields of a job-list row a watch looks at. */
export interface WatchableJob {
  queue_name?: string | undefined;
  owner?: string | undefined;
  job_type?: string | undefined;
  statement?: string | undefined;
  tags?: readonly { key: string; value: string }[] | undefined;
}

/** Whether a job is one the watch wants: every filter that is set matches. */
export function watchMatches(watch: Watch, job: WatchableJob): boolean {
  if (watch.queues !== null && !anyValueMatches(watch.queues, job.queue_name)) return false;
  if (watch.owners !== null && !anyValueMatches(watch.owners, job.owner)) return false;
  if (watch.jobTypes !== null && !anyValueMatches(watch.jobTypes, job.job_type)) return false;
  if (watch.tags !== null && !anyPairMatches(watch.tags, job.tags ?? [])) return false;
  if (watch.sqlPattern !== null) {
    const statement = (job.statement ?? '').toLowerCase();
    if (!wildcardMatches(`*${watch.sqlPattern.toLowerCase()}*`, statement)) return false;
  }
  return true;
}

/**
 * The job list's own filters that narrow a watch's scan exactly: a list of one entry with no wildcard. Everything
 * else is matched on the client ({@link watchMatches}): DLI's `tags` filter is fuzzy, and it takes one queue, one
 * owner and one type at most.
 */
export function watchListFilter(watch: Watch): { queue?: string; owner?: string; jobType?: string } {
  const exact = (list: string[] | null) =>
    list?.length === 1 && !list[0]?.includes('*') ? list[0] : undefined;
  const queue = exact(watch.queues);
  const owner = exact(watch.owners);
  const jobType = exact(watch.jobTypes);
  return {
    ...(queue !== undefined && { queue }),
    ...(owner !== undefined && { owner }),
    ...(jobType !== undefined && { jobType }),
  };
}

/** The labels a job found by `watch` is tracked with. */
export function watchLabels(watch: Watch): Record<string, string> {
  return { ...watch.labels, [WATCH_LABEL]: watch.name };
}

/** Epoch ms where a watch without a cursor starts, when its first cycle begins at `firstCycleAt`. */
export function watchStartsAt(watch: Watch, firstCycleAt: number): number {
  if (watch.since === null) return firstCycleAt;
  return watch.since.kind === 'at' ? watch.since.at : firstCycleAt - watch.since.ms;
}
