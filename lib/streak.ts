/**
 * Runs of one logical job and their failure streaks. DLI job ids are per run, so a run key (from a tag, a label or
 * the SQL fingerprint) ties the runs together; the history of a key's recent runs says which failure in a row a
 * run is, and whether a success ends a streak. No I/O: the cycle keeps the history in the store's state values.
 */
import type { DliJob, JobRecord, KeySource, StreakFacts, TerminalStatus } from './job.ts';
import { sqlFingerprint } from './util/sql-fingerprint.ts';

/** One run of a key, as its streak history holds it. */
export interface StreakRun {
  jobId: string;
  status: TerminalStatus;
  /** Epoch ms: DLI's start time plus duration, or when dli-watch saw the end when DLI told neither. */
  endedAt: number;
  /** Failed runs in a row ending with this one: 0 when it FINISHED, the streak carried on when it was CANCELLED. */
  failures: number;
  /** Epoch ms when the first failure of the streak at this run ended; `null` when `failures` is 0. */
  since: number | null;
}

/** A key's recent runs, oldest end first. */
export interface StreakHistory {
  runs: StreakRun[];
}

/**
 * Runs kept per key. Each run carries the streak count up to itself, so dropping the oldest loses no count; the
 * history only needs to be long enough to place a run that is seen late among the runs that ended around it.
 */
export const STREAK_HISTORY_LENGTH = 50;

/** Where a run sits in its key's history: its own entry, and the run that ended just before it. */
export interface StreakPlace {
  key: string;
  run: StreakRun;
  previous: StreakRun | null;
}

/**
 * Adds a run to a key's history in end-time order and counts its streak: a failure adds one to the streak it
 * follows, a success ends it, a cancellation neither adds nor ends (somebody stopped the run; it says nothing of
 * whether the job works). Runs that ended after it are counted again. Adding a run already there changes
 * nothing and returns its place as it was, so a cycle that crashed after counting and the one that repeats the
 * poll agree.
 */
export function addRun(
  history: StreakHistory,
  key: string,
  run: Pick<StreakRun, 'jobId' | 'status' | 'endedAt'>,
): { history: StreakHistory; place: StreakPlace } {
  const existing = history.runs.findIndex((entry) => entry.jobId === run.jobId);
  if (existing !== -1) return { history, place: placeAt(history.runs, key, existing) };
  const runs = [...history.runs];
  let at = runs.length;
  while (at > 0 && (runs[at - 1] as StreakRun).endedAt > run.endedAt) at -= 1;
  runs.splice(at, 0, { ...run, failures: 0, since: null });
  for (let index = at; index < runs.length; index += 1) {
    runs[index] = counted(runs[index] as StreakRun, runs[index - 1] ?? null);
  }
  const dropped = Math.max(0, runs.length - STREAK_HISTORY_LENGTH);
  const kept = runs.slice(dropped);
  const place = placeAt(runs, key, at);
  return { history: { runs: kept }, place };
}

function counted(run: StreakRun, previous: StreakRun | null): StreakRun {
  const carried = previous && previous.failures > 0 ? previous : null;
  if (run.status === 'FINISHED') return { ...run, failures: 0, since: null };
  if (run.status === 'CANCELLED') {
    return { ...run, failures: carried?.failures ?? 0, since: carried?.since ?? null };
  }
  return { ...run, failures: (carried?.failures ?? 0) + 1, since: carried?.since ?? run.endedAt };
}

function placeAt(runs: readonly StreakRun[], key: string, index: number): StreakPlace {
  return { key, run: runs[index] as StreakRun, previous: runs[index - 1] ?? null };
}

/** What the events of a run's end say about its streak: FAILED counts, a FINISHED after failures recovers. */
export function streakFacts(place: StreakPlace): { failed?: StreakFacts; recovered?: StreakFacts } {
  const { key, run, previous } = place;
  if (run.status === 'FAILED')
    return { failed: { key, failures: run.failures, since: run.since ?? run.endedAt } };
  if (run.status === 'FINISHED' && previous && previous.failures > 0) {
    return { recovered: { key, failures: previous.failures, since: previous.since ?? previous.endedAt } };
  }
  return {};
}

/** Reads a stored history; anything that is not one counts as no history. */
export function readStreakHistory(value: unknown): StreakHistory {
  const runs = (value as { runs?: unknown } | null)?.runs;
  return Array.isArray(runs) ? { runs: runs as StreakRun[] } : { runs: [] };
}

/**
 * The run key of a job that ended, or `null` when the record has no key source or the job lacks what it names (no
 * such tag, no such label, no statement). Prefixed by the source, so a tag and a label of the same text differ.
 */
export function runKey(record: Pick<JobRecord, 'keyFrom' | 'labels'>, job: DliJob): string | null {
  const source: KeySource | null = record.keyFrom;
  if (source === null) return null;
  switch (source.from) {
    case 'tag': {
      const tag = job.tags?.find((candidate) => candidate.key === source.name);
      return tag ? `tag:${source.name}=${tag.value}` : null;
    }
    case 'label': {
      const value = record.labels[source.name];
      return value === undefined ? null : `label:${source.name}=${value}`;
    }
    case 'sql': {
      const statement = job.statement?.trim();
      return statement ? `sql:${sqlFingerprint(statement)}` : null;
    }
  }
}

/** When a run ended: DLI's start time plus its duration where DLI told both, else `seenAt`. */
export function runEndedAt(job: DliJob, seenAt: number): number {
  return typeof job.start_time === 'number' && typeof job.duration === 'number'
    ? job.start_time + job.duration
    : seenAt;
}
