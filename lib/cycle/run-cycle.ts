import type { DliClient } from '../dli/client.ts';
import type { DestinationThrottle } from '../notify/delivery/destination-throttle.ts';
import { DEFAULT_SEND_TIMEOUT_MS, deliveryLeaseMs } from '../notify/delivery/retry-schedule.ts';
import type { Destination, PlatformRegistry } from '../notify/platforms/registry.ts';
import type { RenderContext } from '../notify/render/job-facts.ts';
import type { JobStore } from '../store/job-store.ts';
import { type Clock, systemClock } from '../util/clock.ts';
import type { Log } from '../util/log.ts';
import type { Watch } from '../watch.ts';
import type { CycleRun } from './cycle-run.ts';
import { raiseDailySummaries } from './daily-summaries.ts';
import { deliveryPhase } from './delivery-phase.ts';
import { pollPhase } from './poll-phase.ts';
import { CycleFailedError, type CycleSummary, cycleFailure, summarize } from './summary.ts';

export type { CycleSummary } from './summary.ts';

export interface CycleDependencies {
  store: JobStore;
  dli: DliClient;
  projectId: string;
  destinations: readonly Destination[];
  /** What finds jobs nobody tracked; none by default. */
  watches?: readonly Watch[];
  /** The long-running threshold (ms) of jobs with none of their own (`DLI_WATCH_WARN_AFTER`); none by default. */
  warnAfterMs?: number | null;
  /** How far before a watch's cursor its scan starts (default 2 min): DLI's clock may be behind ours. */
  scanOverlapMs?: number;
  /** `per-job`: never read statuses from the job list (default `auto`: whichever costs fewer requests). */
  statusPlan?: 'auto' | 'per-job';
  platforms: PlatformRegistry;
  /** Per destination URL rate limits and pauses; share one across cycles (the watcher does). */
  throttle: DestinationThrottle;
  render: Omit<RenderContext, 'now'>;
  log: Log;
  /** Jobs polled at once (each worker makes at most one DLI request at a time). */
  concurrency: number;
  clock?: Clock;
  random?: () => number;
  /** Jobs read from the store at a time: what bounds the cycle's memory (and the largest digest). */
  pageSize?: number;
  /** Per-attempt timeout of a chat or webhook request. */
  sendTimeoutMs?: number;
}

export interface CycleOptions {
  /** No job is started once this much time has passed; work under way finishes. */
  budgetMs: number;
  /** Stops starting new work (a clean shutdown); work under way finishes and records what it did. */
  signal?: AbortSignal;
}

/**
 * One tick, in two phases. First it polls every active job that is due and writes each change together with the
 * deliveries it owes (the outbox: `poll-phase.ts`), and raises the daily summaries owed now (`daily-summaries.ts`).
 * Then it sends what is due — new and retried deliveries alike
 * (`delivery-phase.ts`). One job's failure never stops the others; rejected DLI credentials and a project DLI
 * does not know stop the whole cycle (after the work under way) by rejecting with that `DliError`. A cycle in which
 * DLI answered no poll at all still sends, then rejects with a {@link CycleFailedError}.
 */
export async function runCycle(deps: CycleDependencies, options: CycleOptions): Promise<CycleSummary> {
  const clock = deps.clock ?? systemClock;
  const sendTimeoutMs = deps.sendTimeoutMs ?? DEFAULT_SEND_TIMEOUT_MS;
  const pageSize = deps.pageSize ?? 100;
  const startedAt = clock.now();
  const run: CycleRun = {
    store: deps.store,
    log: deps.log,
    clock,
    startedAt,
    deadline: startedAt + options.budgetMs,
    pageSize,
    lease: startedAt + options.budgetMs + deliveryLeaseMs(sendTimeoutMs),
    ...(options.signal ? { signal: options.signal } : {}),
  };
  const poll = await pollPhase(run, {
    dli: deps.dli,
    projectId: deps.projectId,
    destinations: deps.destinations,
    watches: deps.watches ?? [],
    warnAfterMs: deps.warnAfterMs ?? null,
    ...(deps.scanOverlapMs === undefined ? {} : { scanOverlapMs: deps.scanOverlapMs }),
    statusPlan: deps.statusPlan ?? 'auto',
    concurrency: deps.concurrency,
    // Polling leaves a quarter of the budget (up to 15 s) to sending, so a cycle busy polling thousands of jobs
    // still delivers.
    pollDeadline: run.deadline - Math.min(options.budgetMs / 4, 15_000),
    // A few pages: enough for the jobs that end in a busy minute, with memory still bounded.
    maxEnded: 5 * pageSize,
  });
  if (poll.fatal) throw poll.fatal;
  const summariesRaised = await raiseDailySummaries(
    run,
    { destinations: deps.destinations, projectId: deps.projectId, warnAfterMs: deps.warnAfterMs ?? null },
    poll.counts.errors_by_kind,
  );
  const delivery = await deliveryPhase(
    run,
    {
      destinations: deps.destinations,
      platforms: deps.platforms,
      throttle: deps.throttle,
      render: deps.render,
      random: deps.random ?? Math.random,
      sendTimeoutMs,
    },
    poll.ended,
  );
  const summary = summarize(poll.counts, summariesRaised, delivery, clock.now() - startedAt);
  const failure = cycleFailure(summary);
  if (failure !== null) throw new CycleFailedError(failure, summary);
  return summary;
}

/**
 * Room kept after the last message's lease for writing its result: a Lambda killed at its timeout between a send
 * and its record would send that message again.
 */
export const RECORD_RESERVE_MS = 5_000;

/**
 * The budget to give a cycle that must be completely done within `remainingMs`: what is left after reserving
 * the longest a job started at the last moment can take (a DLI request with its retries, then its deliveries
 * under their lease, then writing their results) — and never more than `capMs`, so that on a one-minute schedule
 * one cycle ends before the next begins.
 */
export function cycleBudgetMs(
  remainingMs: number,
  limits: { dliTimeoutMs: number; sendTimeoutMs?: number; dliAttempts?: number; capMs?: number },
): number {
  const dliWorstCase = limits.dliTimeoutMs * (limits.dliAttempts ?? 3) + 6_000;
  const reserve =
    dliWorstCase + deliveryLeaseMs(limits.sendTimeoutMs ?? DEFAULT_SEND_TIMEOUT_MS) + RECORD_RESERVE_MS;
  return Math.max(0, Math.min(remainingMs - reserve, limits.capMs ?? 50_000));
}
