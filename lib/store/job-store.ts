import type { JobRecord, TrackRequest } from '../job.ts';

export interface TrackResult {
  added: number;
  /** The jobs this call added, in the order asked: only this caller created them. */
  addedIds: string[];
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
  /**
   * Stores `record` as it is (at version 1) unless a record with its id is stored already; `true` when this call
   * stored it. How a message that belongs to no job (a daily summary) is raised once however many cycles race to:
   * its record's id names it, and only one of them can create it.
   */
  create(record: JobRecord): Promise<boolean>;
  get(jobId: string): Promise<JobRecord | null>;
  /** The tracked ones among `jobIds` (at most {@link MAX_GET_MANY} of them), in no particular order. */
  getMany(jobIds: readonly string[]): Promise<JobRecord[]>;
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
  /** A value the cycle keeps between runs (a watch's cursor, say), or `null` when none was stored. */
  getState(key: string): Promise<StoredState | null>;
  /** Every stored value whose key starts with `prefix`, by key. */
  listStates(prefix: string): Promise<StoredState[]>;
  /**
   * Stores `value` under `key` by compare-and-set: `expectedVersion` 0 creates it (when absent), any other replaces
   * the value stored at that version. Returns the new version, or `null` when somebody else created or changed it
   * first. `value` must survive a JSON round trip.
   */
  putState(key: string, value: unknown, expectedVersion: number): Promise<number | null>;
  close(): Promise<void>;
}

/** Most ids one {@link JobStore.getMany} call takes: one DynamoDB BatchGetItem. */
export const MAX_GET_MANY = 100;

/** State keys: letters, digits and `_ . : / -`, up to 200; a watch name fits in one. */
export const STATE_KEY_PATTERN = /^[A-Za-z0-9_.:/-]{1,200}$/;

/** A value kept in the store beside the jobs, versioned for compare-and-set like a job record. */
export interface StoredState {
  key: string;
  /** 1 once created; every successful {@link JobStore.putState} adds one. */
  version: number;
  value: unknown;
}

/** Throws unless `key` is a valid state key (both stores check alike). */
export function assertStateKey(key: string): void {
  if (!STATE_KEY_PATTERN.test(key)) {
    throw new RangeError(`A state key is 1-200 letters, digits and _ . : / -, got ${JSON.stringify(key)}`);
  }
}

export interface PruneQuery {
  /**
   * Epoch ms: finished jobs whose last poll (the one that saw them end, or marked them lost: finished jobs are never
   * polled again) is before this instant are removed.
   */
  finishedBefore: number;
  /**
   * Also remove jobs that hold a dead-lettered delivery. Off by default: such a delivery is the only trace of a
   * notification that was never sent, and `redeliver` needs it.
   */
  includeDeadLettered?: boolean;
}

export interface PruneResult {
  /** Jobs removed. */
  removed: number;
  /** Finished before the cutoff, owing nothing pending, but kept for their dead-lettered deliveries. */
  keptDeadLettered: number;
}

/**
 * A store an operator can also clean up: both backends. Kept apart from {@link JobStore} so that wrappers serving
 * only a cycle (the benchmarks' timing and counting stores) need not forward it.
 */
export interface PrunableJobStore extends JobStore {
  /**
   * Removes finished jobs (terminal or lost) that owe no pending delivery and finished before
   * `query.finishedBefore`. Each removal is decided against the stored record at the moment it is removed, so a
   * job that a concurrent writer changes (a delivery redelivered, say) is left alone.
   */
  prune(query: PruneQuery): Promise<PruneResult>;
}
