import type { DliClient } from '../dli/client.ts';
import {
  DliAuthError,
  DliCancelledError,
  DliError,
  DliJobNotFoundError,
  DliProjectError,
} from '../dli/errors.ts';
import type { JobStatusResponse } from '../dli/schemas.ts';
import { type JobWindow, LIST_PAGE_SIZE, scanJobWindow } from '../dli/window-scan.ts';
import { isTerminalStatus, type JobRecord, type TerminalStatus } from '../job.ts';
import type { RoutingDestination } from '../notify/routing.ts';
import { runEndedAt, runKey, type StreakPlace } from '../streak.ts';
import { forEachBounded } from '../util/for-each-bounded.ts';
import { type Watch, watchListFilter, watchMatches } from '../watch.ts';
import { type CycleRun, duePages, stopRequested, writeRecord } from './cycle-run.ts';
import {
  DEFAULT_SCAN_OVERLAP_MS,
  openWatchRuns,
  saveWatchRuns,
  type TrackedByWatch,
  trackFound,
  type WatchRun,
} from './discovery.ts';
import {
  isNeverPolled,
  nextPollPosition,
  orderOneByOne,
  POLL_POSITION_KEY,
  readPollPosition,
} from './poll-position.ts';
import { planStatusReads, type StatusPlan, sliceWindow } from './status-plan.ts';
import { placeRun } from './streak-state.ts';
import { countError, emptyPollCounts, type PollCounts } from './summary.ts';
import { applyPoll, type PollOutcome } from './transitions.ts';

/** Window slices scanned at once, at most: each is one request at a time. */
const MAX_SLICES = 8;

/** List pages per slice the status window aims for: fewer slices cost fewer boundary pages, more finish sooner. */
const PAGES_PER_SLICE = 12;

export interface PollPhaseDependencies {
  dli: DliClient;
  projectId: string;
  /** What a job's events are routed by. */
  destinations: readonly RoutingDestination[];
  /** The long-running threshold (ms) of jobs that have none of their own; `null`: none. */
  warnAfterMs: number | null;
  /** What finds jobs nobody tracked. */
  watches: readonly Watch[];
  /** How far before a watch's cursor its scan starts ({@link DEFAULT_SCAN_OVERLAP_MS}). */
  scanOverlapMs?: number;
  /** `per-job`: one status call per job, never a window scan (the credentials may lack `dli:jobs:list`). */
  statusPlan: 'auto' | 'per-job';
  /** Jobs polled at once (each worker makes at most one DLI request at a time). */
  concurrency: number;
  /** Epoch ms after which no job is started: the rest of the budget belongs to sending. */
  pollDeadline: number;
  /**
   * How many jobs that ended in this phase may come out already holding their deliveries (see
   * {@link PollPhaseResult.ended}); past it, the delivery phase claims them from the store like any other.
   */
  maxEnded: number;
}

export interface PollPhaseResult {
  counts: PollCounts;
  /**
   * Set when DLI rejected the credentials or does not know the project: every other request would fail alike, so
   * the cycle stops after the work under way.
   */
  fatal: DliAuthError | DliProjectError | null;
  /**
   * Jobs that ended in this phase, as stored, with the deliveries they owe already leased to this cycle: written
   * with the status change, the lease costs no write of its own, and the delivery phase sends them first.
   */
  ended: JobRecord[];
}

/** A run of a key whose end this phase saw, waiting to be counted in its streak. */
interface KeyedEnd {
  record: JobRecord;
  outcome: PollOutcome;
  key: string;
  endedAt: number;
  status: TerminalStatus;
}

/** One span of the job list read in this cycle, page by page. */
interface Slice {
  window: JobWindow;
  coveredUpTo: number;
  complete: boolean;
}

/** A window of the job list read in this cycle, in one slice or several read at once. */
interface Scan {
  slices: Slice[];
  /** The watches whose windows this scan holds entirely: its progress is theirs. */
  watches: WatchRun[];
}

/**
 * Reads the status of every active job and finds the jobs the watches want, then writes each change together with
 * the deliveries it owes (the outbox) in one compare-and-set update. A job whose status did not change costs no
 * write.
 *
 * Statuses come from scans of the job list where that costs fewer requests (`status-plan.ts`): 100 a request,
 * in ascending start-time order to a fixed end, with the watches' scans folded in where the window holds them.
 * What no scan saw gets its status call, least recently served first (`poll-position.ts`), `concurrency` at a
 * time. A job a watch finds is tracked with the watch's labels, and its row read as its first poll: a job that
 * started and ended between two cycles is notified once. A watch's cursor moves only past jobs already stored.
 *
 * One job's failure never stops the others; a failed list call leaves what it would have read to the status calls
 * and the next cycle; rejected credentials stop the phase.
 */
export async function pollPhase(run: CycleRun, deps: PollPhaseDependencies): Promise<PollPhaseResult> {
  const counts = emptyPollCounts();
  let fatal: DliAuthError | DliProjectError | null = null;
  const ended: JobRecord[] = [];
  const onStoreError = () => countError(counts.errors_by_kind, 'store');
  const mustStop = () => fatal !== null || stopRequested(run) || run.clock.now() >= deps.pollDeadline;
  const overlapMs = deps.scanOverlapMs ?? DEFAULT_SCAN_OVERLAP_MS;
  // Fixed for every scan of the cycle: jobs submitted after it wait for the next cycle, and no row moves meanwhile.
  const scanEnd = run.startedAt;
  const signalOption = run.signal ? { signal: run.signal } : {};

  const active = new Map<string, JobRecord>();
  for await (const page of duePages(run, 'polls'))
    for (const record of page) active.set(record.jobId, record);
  /** Jobs whose status this cycle has read (from a row or a status call), or that it tracked. */
  const served = new Set<string>();
  /** Rows already handled, from whichever scan. */
  const seen = new Set<string>();

  /**
   * Records a DLI failure: rejected credentials and an unknown project end the phase (`fatal`), a stop is counted
   * as cancelled, anything else as an error of its kind; the caller carries on without that answer.
   */
  function noteDliFailure(error: DliError, failed: string, what: Record<string, unknown>): void {
    if (error instanceof DliAuthError) {
      fatal ??= error;
      run.log.error('DLI rejected the credentials; stopping the cycle', { ...error.toLogAttributes() });
    } else if (error instanceof DliProjectError) {
      fatal ??= error;
      run.log.error('DLI does not know the project; stopping the cycle', { ...error.toLogAttributes() });
    } else if (error instanceof DliCancelledError) {
      // A stop cut the request short: the job is simply read next cycle.
      counts.cancelled += 1;
      run.log.info('DLI request cancelled by a stop', what);
    } else {
      countError(counts.errors_by_kind, error.kind);
      run.log.warn(`${failed}: ${error.message}`, { ...what, ...error.toLogAttributes() });
    }
  }

  /** Runs of a key seen ending in this phase: counted in end-time order once every status is read. */
  const keyedEnds: KeyedEnd[] = [];

  /**
   * Applies one status read (a row or a status call) to a job and writes it when something changed. The end of a
   * run that has a key waits in `keyedEnds`, because its streak count depends on the runs ending around it.
   */
  async function recordOutcome(record: JobRecord, outcome: PollOutcome): Promise<void> {
    if (outcome.kind === 'status' && isTerminalStatus(outcome.job.status)) {
      const key = runKey(record, outcome.job);
      if (key !== null) {
        const endedAt = runEndedAt(outcome.job, run.clock.now());
        keyedEnds.push({ record, outcome, key, endedAt, status: outcome.job.status });
        return;
      }
    }
    await writeOutcome(record, outcome, null);
  }

  /**
   * Counts the keyed runs that ended, each key's in the order they ended (keys side by side), and writes each end
   * with its streak. A run whose count cannot be stored is left for the next cycle, which polls it again.
   */
  async function recordKeyedEnds(): Promise<void> {
    const byKey = Map.groupBy(keyedEnds, (end) => end.key);
    await forEachBounded([...byKey.values()], Math.max(1, deps.concurrency), async (ends) => {
      ends.sort((a, b) => a.endedAt - b.endedAt || a.record.jobId.localeCompare(b.record.jobId));
      for (const end of ends) {
        let place: StreakPlace;
        try {
          place = await placeRun(run.store, end.key, {
            jobId: end.record.jobId,
            status: end.status,
            endedAt: end.endedAt,
          });
        } catch (error) {
          onStoreError();
          run.log.error('could not count a run in its streak; its end waits for the next cycle', {
            job_id: end.record.jobId,
            error: (error as Error).message,
          });
          continue;
        }
        await writeOutcome(end.record, end.outcome, place);
      }
    });
  }

  async function writeOutcome(
    record: JobRecord,
    outcome: PollOutcome,
    streak: StreakPlace | null,
  ): Promise<void> {
    counts.polled += 1;
    const transition = applyPoll(record, outcome, {
      now: run.clock.now(),
      projectId: deps.projectId,
      destinations: deps.destinations,
      warnAfterMs: deps.warnAfterMs,
      streak,
    });
    if (transition.unknownStatus) {
      run.log.warn('job has a status DLI does not document; treating it as in progress', {
        job_id: record.jobId,
        status: transition.record.status,
      });
    }
    if (!transition.changed) return;
    // Kept to a bound, so that a cycle in which thousands of jobs end keeps a bounded number of them in memory.
    const raised = transition.event !== null || transition.notices.length > 0;
    const holdsDeliveries = raised && ended.length < deps.maxEnded;
    const next = holdsDeliveries
      ? leaseNewDeliveries(transition.record, record, run.lease)
      : transition.record;
    const stored = await writeRecord(run, next, record.version, onStoreError);
    if (!stored) return;
    if (holdsDeliveries) ended.push(stored);
    if (stored.status !== record.status) counts.changed += 1;
    if (transition.becameLost) {
      counts.lost += 1;
      run.log.warn('DLI has not known this job for several polls; marking it lost', { job_id: record.jobId });
    }
    const { event } = transition;
    if (event) {
      const fields = {
        job_id: record.jobId,
        status: event.status,
        previous_status: event.previousStatus,
        ...(event.streak && { failures_in_a_row: event.streak.failures }),
      };
      if (event.routedTo.length === 0) run.log.debug('job ended; no destination wants it', fields);
      else run.log.info('job ended', { ...fields, routed_to: event.routedTo });
    }
    for (const notice of transition.notices) {
      counts.notices += 1;
      run.log.info(notice.type === 'LONG_RUNNING' ? 'job runs past its threshold' : 'job recovered', {
        job_id: record.jobId,
        event: notice.type,
        routed_to: notice.routedTo,
      });
    }
    if (transition.droppedWarnings > 0) {
      run.log.info('job ended before its long-running warning was sent; the warning is dropped', {
        job_id: record.jobId,
        dropped: transition.droppedWarnings,
      });
    }
  }

  async function pollOne(record: JobRecord): Promise<void> {
    let outcome: PollOutcome;
    counts.statusCalls += 1;
    try {
      outcome = { kind: 'status', job: await deps.dli.getJobStatus(record.jobId, { signal: run.signal }) };
    } catch (error) {
      if (error instanceof DliJobNotFoundError) {
        outcome = { kind: 'not-found' };
      } else if (error instanceof DliError) {
        noteDliFailure(error, 'could not poll job', { job_id: record.jobId });
        return;
      } else {
        throw error;
      }
    }
    await recordOutcome(record, outcome);
  }

  /** Reads the row of a job a watch just tracked as its first poll. */
  async function firstRead(added: TrackedByWatch): Promise<void> {
    counts.discovered += 1;
    served.add(added.record.jobId);
    run.log.info('watch found a job', { job_id: added.record.jobId, watch: added.watch.watch.name });
    await recordOutcome(added.record, { kind: 'status', job: added.row });
  }

  async function handleRows(rows: readonly JobStatusResponse[], watches: readonly WatchRun[]): Promise<void> {
    const reads: Promise<void>[] = [];
    const found: { row: JobStatusResponse; watch: WatchRun }[] = [];
    for (const row of rows) {
      if (seen.has(row.job_id)) continue;
      seen.add(row.job_id);
      const record = active.get(row.job_id);
      if (record !== undefined) {
        if (!served.has(row.job_id)) {
          served.add(row.job_id);
          reads.push(recordOutcome(record, { kind: 'status', job: row }));
        }
        continue;
      }
      const watch = watches.find(
        // A row always has its start time: the window is bounded by it. One without is taken as in the window.
        (candidate) =>
          (row.start_time ?? scanEnd) >= candidate.windowStart && watchMatches(candidate.watch, row),
      );
      if (watch) found.push({ row, watch });
    }
    await Promise.all(reads);
    if (found.length > 0) await trackFound(run, found, firstRead);
  }

  async function scanSlice(slice: Slice, watches: readonly WatchRun[]): Promise<void> {
    try {
      for await (const page of scanJobWindow(deps.dli, slice.window, signalOption)) {
        counts.listCalls += 1;
        try {
          await handleRows(page.rows, watches);
        } catch (error) {
          onStoreError();
          run.log.error('could not store what a scan found; its watches wait for the next cycle', {
            error: (error as Error).message,
          });
          return;
        }
        slice.coveredUpTo = page.coveredUpTo;
        slice.complete = page.complete;
        if (!page.complete && mustStop()) {
          counts.deferred = fatal === null;
          return;
        }
      }
    } catch (error) {
      if (!(error instanceof DliError)) throw error;
      counts.listCalls += 1;
      noteDliFailure(
        error,
        'could not read the job list; what it holds waits for status calls and the next cycle',
        {
          list_window_start: slice.window.start,
          list_window_end: slice.window.end,
        },
      );
    }
  }

  // Watches: where each one's scan starts this cycle.
  let watchRuns: WatchRun[] = [];
  try {
    watchRuns = await openWatchRuns(run.store, deps.watches, {
      cycleStartedAt: run.startedAt,
      scanEnd,
      overlapMs,
    });
  } catch (error) {
    // Without its cursor a watch would start afresh and skip what it has not seen yet: it waits instead.
    onStoreError();
    run.log.error('could not read the watches; they wait for the next cycle', {
      error: (error as Error).message,
    });
  }
  const scanning = watchRuns.filter((watch) => watch.windowStart < scanEnd);

  // The status plan: which active jobs a window scan reads, and which need their status call.
  const placed = [...active.values()]
    .filter((record) => record.startTime !== null && record.startTime <= scanEnd)
    .map((record) => record.startTime as number)
    .sort((a, b) => a - b);
  // Stays per job when the setting says so, or when sizing the window fails.
  let plan: StatusPlan = { kind: 'per-job', probes: 0 };
  try {
    if (deps.statusPlan === 'auto')
      plan = await planStatusReads(placed, async (start) => {
        counts.listCalls += 1;
        const answer = await deps.dli.listJobs(
          { start: Math.max(1, start - 1), end: scanEnd, order: 'start_time_asc', pageSize: 1 },
          signalOption,
        );
        return answer.job_count;
      });
  } catch (error) {
    if (!(error instanceof DliError)) throw error;
    noteDliFailure(error, 'could not size the job-list window; polling one job at a time', {});
  }
  counts.plan = plan.kind;

  // The scans: the status window (in slices), and a scan of its own for each watch the window does not hold.
  const scans: Scan[] = [];
  if (plan.kind === 'window') {
    const slices = Math.min(
      MAX_SLICES,
      Math.max(1, Math.floor(deps.concurrency / 2)),
      Math.ceil(plan.rows / (LIST_PAGE_SIZE * PAGES_PER_SLICE)),
    );
    scans.push({
      slices: sliceWindow(plan.start, scanEnd, slices).map((window) => ({
        window,
        coveredUpTo: Number.NEGATIVE_INFINITY,
        complete: false,
      })),
      watches: scanning.filter((watch) => watch.windowStart >= plan.start),
    });
  }
  const held = new Set(scans.flatMap((scan) => scan.watches));
  for (const watch of scanning) {
    if (held.has(watch)) continue;
    const window: JobWindow = {
      start: watch.windowStart,
      end: scanEnd,
      filter: watchListFilter(watch.watch),
    };
    scans.push({
      slices: [{ window, coveredUpTo: Number.NEGATIVE_INFINITY, complete: false }],
      watches: [watch],
    });
  }
  if (!mustStop()) {
    // Every watch sees every row, whichever scan brings it: a row is handled once.
    await forEachBounded(
      scans.flatMap((scan) => scan.slices),
      Math.max(1, Math.min(MAX_SLICES, deps.concurrency)),
      (slice) => scanSlice(slice, scanning),
    );
  }
  for (const scan of scans) {
    const reached = contiguousProgress(scan.slices);
    for (const watch of scan.watches) watch.coveredUpTo = Math.max(watch.coveredUpTo, reached);
  }

  // What no scan read: one status call each, taking up where the last cycle left off.
  const rest = [...active.values()].filter((record) => !served.has(record.jobId));
  let position: Awaited<ReturnType<typeof readPollPosition>> = { position: null, version: 0 };
  if (rest.length > 0) {
    try {
      position = await readPollPosition(run.store);
    } catch (error) {
      onStoreError();
      run.log.warn('could not read where polling stood; starting from the first job', {
        error: (error as Error).message,
      });
    }
  }
  const ordered = orderOneByOne(rest, position.position);
  counts.pollLagMs = pollLag(run.startedAt, active.size, ordered, position.position?.roundStartedAt ?? null);
  let started = 0;
  async function worker(): Promise<void> {
    while (started < ordered.length) {
      // A job not started is simply left in the store: the next cycle takes up from it.
      if (mustStop()) {
        counts.deferred = fatal === null;
        return;
      }
      const record = ordered[started++] as JobRecord;
      await pollOne(record);
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, deps.concurrency) }, worker));
  await recordKeyedEnds();

  if (ordered.length > 0) {
    const next = nextPollPosition(ordered, started, position.position, run.startedAt);
    try {
      await run.store.putState(POLL_POSITION_KEY, next, position.version);
    } catch (error) {
      onStoreError();
      run.log.warn('could not record where polling stands', { error: (error as Error).message });
    }
  }

  await saveWatchRuns(run, watchRuns, onStoreError);
  return { counts, fatal, ended };
}

/** How far a scan got without a gap: through every complete slice, and into the first that is not. */
function contiguousProgress(slices: readonly Slice[]): number {
  let reached = Number.NEGATIVE_INFINITY;
  for (const slice of slices) {
    if (!slice.complete) return Math.max(reached, slice.coveredUpTo);
    reached = slice.window.end;
  }
  return reached;
}

/**
 * How long the job served longest ago had waited when the cycle began: since it was tracked, for a job never
 * polled; since the round of one-by-one polls under way began, for the others left to status calls. `null` when no
 * job is active; 0 when every active job is read by a scan.
 */
function pollLag(
  startedAt: number,
  activeJobs: number,
  oneByOne: readonly JobRecord[],
  roundStartedAt: number | null,
): number | null {
  if (activeJobs === 0) return null;
  let lag = 0;
  for (const record of oneByOne) {
    const since = isNeverPolled(record)
      ? record.trackedAt
      : (roundStartedAt ?? record.lastPolledAt ?? record.trackedAt);
    lag = Math.max(lag, startedAt - since);
  }
  return lag;
}

/** `next` with the deliveries it adds to `previous` leased until `lease`. */
function leaseNewDeliveries(next: JobRecord, previous: JobRecord, lease: number): JobRecord {
  const owed = new Set(previous.deliveries);
  return {
    ...next,
    deliveries: next.deliveries.map((delivery) =>
      owed.has(delivery) ? delivery : { ...delivery, leaseUntil: lease },
    ),
  };
}
