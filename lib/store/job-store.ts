import type { JobStatusResponse, TerminalStatus } from '../dli/schemas.ts';

/**
 * What a job is to dli-watch:
 * - `active`: still polled (never polled yet, or last seen in progress or in an unknown status);
 * - `terminal`: reached FINISHED, FAILED or CANCELLED; never polled again;
 * - `lost`: DLI said "no such job" on three polls in a row; never polled again.
 */
export type JobPhase = 'active' | 'terminal' | 'lost';

/** The terminal transition of one job, frozen when it was seen: what every destination is told. */
export interface JobEvent {
  /** Stable across every retry and every destination: Standard Webhooks' `webhook-id`. */
  id: string;
  status: TerminalStatus;
  /** `null` when the job was already terminal at its first poll. */
  previousStatus: string | null;
  /** Epoch ms when dli-watch saw the transition. */
  occurredAt: number;
  projectId: string;
  labels: Record<string, string>;
  /** The full status response, unknown fields included. */
  job: JobStatusResponse;
  /** The destinations that wanted it when it happened (by `events` and routing); empty: nobody is told. */
  routedTo: string[];
}

/**
 * One message owed to one destination. Lives inside its job's record, so the status change and the
 * deliveries it owes are written in one compare-and-set update (the outbox).
 */
export interface Delivery {
  /** Destination name from the configuration. */
  destination: string;
  state: 'pending' | 'dead';
  /** Attempts made so far (each HTTP request counts). */
  attempts: number;
  /** Epoch ms when the delivery was created (the 24 h give-up clock starts here). */
  createdAt: number;
  /** Epoch ms before which nobody may try again. */
  nextAttemptAt: number;
  /**
   * Epoch ms until which one cycle holds the delivery while it sends. Another cycle that reads the record
   * meanwhile leaves it alone; after a crash the lease runs out and a later cycle sends it.
   */
  leaseUntil: number | null;
  /** Last failure, already scrubbed of secrets (no URL, only what the platform answered). */
  lastError: string | null;
}

/**
 * The earliest moment any pending delivery may be attempted: for each, the later of its next attempt and the end of
 * its lease. `null` when nothing is pending (dead deliveries are never attempted again). Stores index on it; the
 * cycle takes what is due by it.
 */
export function earliestDeliveryAttemptAt(deliveries: readonly Delivery[]): number | null {
  let earliest: number | null = null;
  for (const delivery of deliveries) {
    if (delivery.state !== 'pending') continue;
    const attemptAt = Math.max(delivery.nextAttemptAt, delivery.leaseUntil ?? Number.NEGATIVE_INFINITY);
    if (earliest === null || attemptAt < earliest) earliest = attemptAt;
  }
  return earliest;
}

/** The record of a job just tracked: active, never polled, owing nothing. Every store creates it the same way. */
export function newJobRecord(job: TrackRequest, now: number): JobRecord {
  return {
    jobId: job.jobId,
    version: 1,
    phase: 'active',
    status: null,
    labels: { ...(job.labels ?? {}) },
    notFoundCount: 0,
    trackedAt: now,
    lastPolledAt: null,
    statusChangedAt: null,
    event: null,
    deliveries: [],
  };
}

/** One tracked job: one record in the store. */
export interface JobRecord {
  jobId: string;
  /** Incremented by every successful update; updates are compare-and-set on it. */
  version: number;
  phase: JobPhase;
  /** Last status DLI reported, `null` before the first successful poll. */
  status: string | null;
  labels: Record<string, string>;
  /** Consecutive "job does not exist" answers. */
  notFoundCount: number;
  trackedAt: number;
  lastPolledAt: number | null;
  /** Epoch ms when `status` last changed. */
  statusChangedAt: number | null;
  /** The terminal event, once there is one. */
  event: JobEvent | null;
  deliveries: Delivery[];
}

export interface TrackRequest {
  jobId: string;
  labels?: Record<string, string>;
}

export interface TrackResult {
  added: number;
  /** Already tracked: left as they were (tracking is idempotent). */
  existing: number;
}

export interface Page<T> {
  items: T[];
  /** Pass back to get the next page; `null` when this was the last one. */
  cursor: string | null;
}

export interface DuePageQuery {
  /** Jobs polled at or after this instant (epoch ms) are skipped: they were handled in this cycle already. */
  cycleStartedAt: number;
  /** Deliveries whose `nextAttemptAt` and `leaseUntil` are at or before this instant are due. */
  now: number;
  limit: number;
  cursor?: string | null;
  /**
   * `polls`: only active jobs to poll; `deliveries`: only jobs owing a due delivery; default: both (in one order).
   */
  only?: 'polls' | 'deliveries';
}

/**
 * Where tracked jobs live. Every implementation keeps one job in one record and updates it only by
 * compare-and-set on `version`, so two cycles that overlap can never both write the same transition or both
 * take the same delivery.
 */
export interface JobStore {
  /** Adds jobs not tracked yet; leaves already tracked ones untouched. */
  track(jobs: TrackRequest[], now: number): Promise<TrackResult>;
  /** Forgets jobs, with any deliveries they still owe. Returns the ids that were tracked. */
  untrack(jobIds: string[]): Promise<string[]>;
  get(jobId: string): Promise<JobRecord | null>;
  /** Every tracked job, by id. */
  list(options: { limit: number; cursor?: string | null }): Promise<Page<JobRecord>>;
  /**
   * Jobs that need work now: active jobs not yet polled in this cycle, and jobs with a pending delivery that
   * is due and not leased. Least recently polled first (never polled before all), so a cycle cut short by
   * its time budget leaves the most recently served jobs for later and nothing starves.
   */
  listDue(query: DuePageQuery): Promise<Page<JobRecord>>;
  /**
   * Replaces the record if its stored version is still `expectedVersion` (the stored version then becomes
   * `expectedVersion + 1`). Returns the record as stored on success, `null` when somebody else changed or
   * removed it first: the caller's view is stale and it must not act on it.
   */
  update(next: JobRecord, expectedVersion: number): Promise<JobRecord | null>;
  close(): Promise<void>;
}
