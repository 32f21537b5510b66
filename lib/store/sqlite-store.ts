import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DatabaseSync, SQLOutputValue, StatementSync } from 'node:sqlite';
import {
  type DailySummary,
  type Delivery,
  earliestDeliveryAttemptAt,
  type JobEvent,
  type JobPhase,
  type JobRecord,
  type KeySource,
  newJobRecord,
  readStoredEvent,
  type TrackRequest,
} from '../job.ts';
import { isRecord } from '../util/is-record.ts';
import {
  assertStateKey,
  type DuePageQuery,
  MAX_GET_MANY,
  type Page,
  type PrunableJobStore,
  type PruneQuery,
  type PruneResult,
  type StoredState,
  type TrackResult,
} from './job-store.ts';
import { assertPageLimit, decodeDueCursor, decodeListCursor, encodeCursor } from './page-cursor.ts';
import { MissingStoreError, StoreError } from './store-error.ts';

/**
 * Schema migrations, oldest first. Migration `i` takes the database from `PRAGMA user_version` `i` to
 * `i + 1`. Append only: a released migration never changes, since databases out there already ran it.
 */
const MIGRATIONS: readonly string[] = [
  // 1: one row per job. The record lives as JSON; the columns beside it are derived from the record on
  // every write so that listing and due-finding can use indexes without parsing JSON.
  `
  CREATE TABLE jobs (
    job_id TEXT PRIMARY KEY NOT NULL,
    version INTEGER NOT NULL,
    phase TEXT NOT NULL,
    last_polled_at INTEGER,
    due_at INTEGER,
    tracked_at INTEGER NOT NULL,
    record TEXT NOT NULL
  );
  -- Serves listDue: only rows that can ever be due (active, or owing a delivery) are indexed, in the order
  -- listDue returns them. Terminal jobs whose deliveries are done, the bulk of an old store, stay out.
  CREATE INDEX jobs_due ON jobs (last_polled_at, job_id) WHERE phase = 'active' OR due_at IS NOT NULL;
  `,
  // 2: small values the cycle keeps between runs (watch cursors, where polling stands), versioned like jobs.
  `
  CREATE TABLE state (
    key TEXT PRIMARY KEY NOT NULL,
    version INTEGER NOT NULL,
    value TEXT NOT NULL
  );
  `,
];

/** The schema version this code writes; a database at a higher version came from a newer dli-watch. */
export const SQLITE_SCHEMA_VERSION = MIGRATIONS.length;

/** How long a statement waits for another process's write lock before failing. */
const BUSY_TIMEOUT_MS = 5000;

/** The part of a record that is stored as JSON: everything that has no column of its own. */
interface StoredRecordBody {
  status: string | null;
  /** Absent in rows written before it existed. */
  startTime?: number | null;
  labels: Record<string, string>;
  notFoundCount: number;
  statusChangedAt: number | null;
  /** These three are absent in rows written before jobs had thresholds, run keys and notices. */
  warnAfterMs?: number | null;
  keyFrom?: KeySource | null;
  notices?: JobEvent[];
  /** Only in a summary record. */
  summary?: DailySummary;
  event: JobEvent | null;
  deliveries: Delivery[];
}

/** The column values of one row, as written. (A type alias: it must fit SQLite's parameter records.) */
type JobRow = {
  job_id: string;
  version: number;
  phase: JobPhase;
  last_polled_at: number | null;
  due_at: number | null;
  tracked_at: number;
  record: string;
};

/** An update waiting for its batch to be committed. */
interface PendingUpdate {
  record: JobRecord;
  row: JobRow;
  expectedVersion: number;
  resolve(record: JobRecord | null): void;
  reject(error: unknown): void;
}

const JOB_PHASES: readonly string[] = ['active', 'terminal', 'lost'] satisfies JobPhase[];

const SELECT_COLUMNS = 'SELECT job_id, version, phase, last_polled_at, due_at, tracked_at, record FROM jobs';

const DUE_FILTER = `
  (phase = 'active' OR due_at IS NOT NULL)
  AND (
    (phase = 'active' AND :includePolls = 1 AND (last_polled_at IS NULL OR last_polled_at < :cycleStartedAt))
    OR (:includeDeliveries = 1 AND due_at IS NOT NULL AND due_at <= :now)
  )`;
// The first conjunct repeats the partial index's WHERE clause word for word: SQLite only uses a partial
// index when the query's WHERE visibly implies the index's.

const DUE_ORDER = 'ORDER BY last_polled_at ASC, job_id ASC LIMIT :limit';

/** Rows `prune` may remove: finished before the cutoff, owing nothing pending (`due_at` is derived from that). */
const PRUNABLE = `phase IN ('terminal', 'lost') AND due_at IS NULL AND last_polled_at < :finishedBefore`;

/** Whether a row's record holds a dead-lettered delivery; read from the JSON, which has no column for it. */
const HAS_DEAD_LETTER = `EXISTS (
  SELECT 1 FROM json_each(jobs.record, '$.deliveries') WHERE json_extract(json_each.value, '$.state') = 'dead'
)`;

/**
 * Rows removed per `prune` transaction: each holds the write lock only briefly, so a cycle's writes waiting on it
 * stay far inside the busy timeout however large the store.
 */
const PRUNE_CHUNK = 500;

function toRow(record: JobRecord, version: number): JobRow {
  const body: StoredRecordBody = {
    status: record.status,
    startTime: record.startTime,
    labels: record.labels,
    notFoundCount: record.notFoundCount,
    statusChangedAt: record.statusChangedAt,
    warnAfterMs: record.warnAfterMs,
    keyFrom: record.keyFrom,
    notices: record.notices,
    // Left out of the JSON when undefined: a job's record stays as it was.
    summary: record.summary,
    event: record.event,
    deliveries: record.deliveries,
  };
  return {
    job_id: record.jobId,
    version,
    phase: record.phase,
    last_polled_at: record.lastPolledAt,
    due_at: earliestDeliveryAttemptAt(record.deliveries),
    tracked_at: record.trackedAt,
    record: JSON.stringify(body),
  };
}

/** Throws unless `expectedVersion` can be a state value's version (0 for "absent"). */
function assertExpectedStateVersion(expectedVersion: number): void {
  if (!Number.isSafeInteger(expectedVersion) || expectedVersion < 0) {
    throw new RangeError(`expectedVersion must be a non-negative integer, got ${expectedVersion}`);
  }
}

/** A state value as stored: JSON text. `undefined` (or a function) has none and is refused before any write. */
function stateText(value: unknown): string {
  const text = JSON.stringify(value);
  if (text === undefined) throw new TypeError('A state value must be JSON-serializable, got undefined');
  return text;
}

/** What a failure says about itself, without anything that came out of a record. */
function describeCause(error: unknown): string {
  // SQLite's own messages ("database is locked", "disk I/O error") carry no row values; anything else
  // (a JSON parse error, say) might quote stored data, so only its kind is named.
  if (isRecord(error) && error.code === 'ERR_SQLITE_ERROR' && typeof error.message === 'string') {
    return error.message;
  }
  return error instanceof Error ? error.name : 'unknown error';
}

/**
 * The job store in one SQLite file, for running dli-watch on a machine. Several processes (a scheduled
 * cycle and a `track` command, say) may open the same file at once: writes are serialized by SQLite and
 * every record update is compare-and-set on its version.
 */
export class SqliteStore implements PrunableJobStore {
  readonly path: string;
  readonly #db: DatabaseSync;
  #closed = false;
  #pendingUpdates: PendingUpdate[] = [];

  readonly #begin: StatementSync;
  readonly #commit: StatementSync;
  readonly #rollback: StatementSync;
  readonly #insertIfAbsent: StatementSync;
  readonly #deleteJob: StatementSync;
  readonly #selectJob: StatementSync;
  readonly #selectFirstPage: StatementSync;
  readonly #selectPageAfter: StatementSync;
  readonly #selectDueFirstPage: StatementSync;
  readonly #selectDueAfterNeverPolled: StatementSync;
  readonly #selectDueAfterPolled: StatementSync;
  readonly #compareAndSet: StatementSync;
  readonly #pruneChunk: StatementSync;
  readonly #countKeptDeadLetters: StatementSync;
  readonly #selectMany: StatementSync;
  readonly #selectState: StatementSync;
  readonly #selectStatesWithPrefix: StatementSync;
  readonly #insertState: StatementSync;
  readonly #replaceState: StatementSync;

  private constructor(path: string, db: DatabaseSync) {
    this.path = path;
    this.#db = db;
    // IMMEDIATE takes the write lock up front (waiting up to the busy timeout); a deferred transaction that
    // reads first could fail to upgrade when another process committed in between.
    this.#begin = db.prepare('BEGIN IMMEDIATE');
    this.#commit = db.prepare('COMMIT');
    this.#rollback = db.prepare('ROLLBACK');
    this.#insertIfAbsent = db.prepare(
      `INSERT INTO jobs (job_id, version, phase, last_polled_at, due_at, tracked_at, record)
       VALUES (:job_id, :version, :phase, :last_polled_at, :due_at, :tracked_at, :record)
       ON CONFLICT (job_id) DO NOTHING`,
    );
    this.#deleteJob = db.prepare('DELETE FROM jobs WHERE job_id = ?');
    this.#selectJob = db.prepare(`${SELECT_COLUMNS} WHERE job_id = ?`);
    this.#selectFirstPage = db.prepare(`${SELECT_COLUMNS} ORDER BY job_id LIMIT :limit`);
    this.#selectPageAfter = db.prepare(
      `${SELECT_COLUMNS} WHERE job_id > :afterJobId ORDER BY job_id LIMIT :limit`,
    );
    this.#selectDueFirstPage = db.prepare(`${SELECT_COLUMNS} WHERE ${DUE_FILTER} ${DUE_ORDER}`);
    // NULLs sort first, so after a never-polled job come the never-polled with a larger id, then every
    // polled job.
    this.#selectDueAfterNeverPolled = db.prepare(
      `${SELECT_COLUMNS} WHERE ${DUE_FILTER}
         AND ((last_polled_at IS NULL AND job_id > :afterJobId) OR last_polled_at IS NOT NULL)
       ${DUE_ORDER}`,
    );
    // A row value comparison with a NULL is never true, so never-polled jobs stay behind the cursor.
    this.#selectDueAfterPolled = db.prepare(
      `${SELECT_COLUMNS} WHERE ${DUE_FILTER}
         AND (last_polled_at, job_id) > (:afterPolledAt, :afterJobId)
       ${DUE_ORDER}`,
    );
    this.#compareAndSet = db.prepare(
      `UPDATE jobs
       SET version = :version, phase = :phase, last_polled_at = :last_polled_at, due_at = :due_at,
           tracked_at = :tracked_at, record = :record
       WHERE job_id = :job_id AND version = :expected_version`,
    );
    // Walks the primary key from where the previous chunk ended, so the whole prune reads each row once. The
    // conditions are checked by the DELETE itself, under the write lock: a row changed meanwhile is judged as it
    // now is.
    this.#pruneChunk = db.prepare(
      `DELETE FROM jobs WHERE job_id IN (
         SELECT job_id FROM jobs
         WHERE job_id > :afterJobId AND ${PRUNABLE} AND (:includeDeadLettered = 1 OR NOT ${HAS_DEAD_LETTER})
         ORDER BY job_id LIMIT :limit
       ) RETURNING job_id`,
    );
    this.#countKeptDeadLetters = db.prepare(
      `SELECT count(*) AS kept FROM jobs WHERE ${PRUNABLE} AND ${HAS_DEAD_LETTER}`,
    );
    this.#selectMany = db.prepare(`${SELECT_COLUMNS} WHERE job_id IN (SELECT value FROM json_each(?))`);
    this.#selectState = db.prepare('SELECT key, version, value FROM state WHERE key = ?');
    // substr rather than LIKE: a key may hold `_`, which LIKE would take for a wildcard.
    this.#selectStatesWithPrefix = db.prepare(
      'SELECT key, version, value FROM state WHERE substr(key, 1, length(:prefix)) = :prefix ORDER BY key',
    );
    this.#insertState = db.prepare(
      'INSERT INTO state (key, version, value) VALUES (:key, 1, :value) ON CONFLICT (key) DO NOTHING',
    );
    this.#replaceState = db.prepare(
      'UPDATE state SET version = version + 1, value = :value WHERE key = :key AND version = :expected',
    );
  }

  /**
   * Opens the store at `path`, creating the directory and the database on first use and bringing an older
   * schema up to date. With `mustExist`, a missing file is an error and nothing is created, neither the file
   * nor its directory: for commands that only mean something on a store jobs were tracked in.
   *
   * @throws MissingStoreError with `mustExist`, when there is no file at `path`.
   * @throws StoreError when the file cannot be created or opened, is not a SQLite database, or was written
   *   by a newer dli-watch (its schema version is higher than {@link SQLITE_SCHEMA_VERSION}).
   */
  static open(path: string, options: { mustExist?: boolean } = {}): SqliteStore {
    if (options.mustExist) {
      // SQLite itself would create the file; node:sqlite offers no open flag to stop it short of read-only.
      if (!existsSync(path)) throw new MissingStoreError(path);
    } else {
      try {
        mkdirSync(dirname(path), { recursive: true });
      } catch (error) {
        throw new StoreError(
          `Cannot create the directory for the job store ${path}: ${describeCause(error)}`,
          {
            cause: error,
          },
        );
      }
    }
    let db: DatabaseSync;
    try {
      // Loaded when a store is opened, not imported: a bundle that imported it at the top would fail to load on a
      // Node without `node:sqlite`, before it could say which Node it needs.
      const { DatabaseSync } = process.getBuiltinModule('node:sqlite');
      db = new DatabaseSync(path, { timeout: BUSY_TIMEOUT_MS });
    } catch (error) {
      throw new StoreError(`Cannot open the job store ${path}: ${describeCause(error)}`, { cause: error });
    }
    try {
      // Reading the header first: a file that is not a database, or one from a newer dli-watch, is left
      // exactly as it was (switching its journal mode would already write to it).
      const version = SqliteStore.#readSchemaVersion(db, path);
      SqliteStore.#assertNotNewer(version, path);
      db.exec('PRAGMA journal_mode = WAL');
      // With WAL, NORMAL syncs only at checkpoints: a crash of dli-watch itself loses nothing, while a power
      // loss may drop the last few commits. That costs at worst a repeated notification (the job is polled
      // again and its transition re-detected), never a missed one, and saves an fsync on every update.
      db.exec('PRAGMA synchronous = NORMAL');
      if (version < SQLITE_SCHEMA_VERSION) SqliteStore.#migrate(db, path);
      return new SqliteStore(path, db);
    } catch (error) {
      db.close();
      if (error instanceof StoreError) throw error;
      throw new StoreError(`Cannot open the job store ${path}: ${describeCause(error)}`, { cause: error });
    }
  }

  static #readSchemaVersion(db: DatabaseSync, path: string): number {
    try {
      const row = db.prepare('PRAGMA user_version').get();
      return Number(row?.user_version ?? 0);
    } catch (error) {
      throw new StoreError(`The job store ${path} is not a SQLite database: ${describeCause(error)}`, {
        cause: error,
      });
    }
  }

  static #assertNotNewer(version: number, path: string): void {
    if (version > SQLITE_SCHEMA_VERSION) {
      throw new StoreError(
        `The job store ${path} has schema version ${version}, written by a newer dli-watch; ` +
          `this one only knows up to version ${SQLITE_SCHEMA_VERSION}. Upgrade dli-watch.`,
      );
    }
  }

  static #migrate(db: DatabaseSync, path: string): void {
    db.exec('BEGIN IMMEDIATE');
    try {
      // Read again under the write lock: another process may have migrated while this one waited.
      const version = SqliteStore.#readSchemaVersion(db, path);
      SqliteStore.#assertNotNewer(version, path);
      for (let next = version; next < SQLITE_SCHEMA_VERSION; next++) {
        db.exec(MIGRATIONS[next] ?? '');
        db.exec(`PRAGMA user_version = ${next + 1}`);
      }
      db.exec('COMMIT');
    } catch (error) {
      if (db.isTransaction) db.exec('ROLLBACK');
      throw error;
    }
  }

  async track(jobs: TrackRequest[], now: number): Promise<TrackResult> {
    return this.#run('track jobs', () =>
      this.#inWriteTransaction(() => {
        const addedIds: string[] = [];
        for (const job of jobs) {
          const record = newJobRecord(job, now);
          const { changes } = this.#insertIfAbsent.run(toRow(record, 1));
          if (Number(changes) > 0) addedIds.push(job.jobId);
        }
        return { added: addedIds.length, addedIds, existing: jobs.length - addedIds.length };
      }),
    );
  }

  async create(record: JobRecord): Promise<boolean> {
    return this.#run('create a record', () =>
      this.#inWriteTransaction(() => Number(this.#insertIfAbsent.run(toRow(record, 1)).changes) > 0),
    );
  }

  async untrack(jobIds: string[]): Promise<string[]> {
    return this.#run('untrack jobs', () =>
      this.#inWriteTransaction(() =>
        jobIds.filter((jobId) => Number(this.#deleteJob.run(jobId).changes) > 0),
      ),
    );
  }

  async prune(query: PruneQuery): Promise<PruneResult> {
    return this.#run('prune jobs', () => {
      const parameters = {
        finishedBefore: query.finishedBefore,
        includeDeadLettered: query.includeDeadLettered ? 1 : 0,
        limit: PRUNE_CHUNK,
      };
      let removed = 0;
      // '' sorts before every job id.
      let afterJobId = '';
      for (;;) {
        const rows = this.#inWriteTransaction(() => this.#pruneChunk.all({ ...parameters, afterJobId }));
        removed += rows.length;
        if (rows.length < PRUNE_CHUNK) break;
        for (const row of rows) if (String(row.job_id) > afterJobId) afterJobId = String(row.job_id);
      }
      const kept = query.includeDeadLettered
        ? 0
        : Number(this.#countKeptDeadLetters.get({ finishedBefore: query.finishedBefore })?.kept ?? 0);
      return { removed, keptDeadLettered: kept };
    });
  }

  async get(jobId: string): Promise<JobRecord | null> {
    return this.#run('read a job', () => {
      const row = this.#selectJob.get(jobId);
      return row === undefined ? null : this.#toRecord(row);
    });
  }

  async getMany(jobIds: readonly string[]): Promise<JobRecord[]> {
    if (jobIds.length > MAX_GET_MANY) {
      throw new RangeError(`getMany takes at most ${MAX_GET_MANY} ids, got ${jobIds.length}`);
    }
    if (jobIds.length === 0) return [];
    return this.#run('read jobs', () =>
      this.#selectMany.all(JSON.stringify([...new Set(jobIds)])).map((row) => this.#toRecord(row)),
    );
  }

  async getState(key: string): Promise<StoredState | null> {
    assertStateKey(key);
    return this.#run('read a state value', () => {
      const row = this.#selectState.get(key);
      return row === undefined ? null : this.#toState(row);
    });
  }

  async listStates(prefix: string): Promise<StoredState[]> {
    return this.#run('read state values', () =>
      this.#selectStatesWithPrefix.all({ prefix }).map((row) => this.#toState(row)),
    );
  }

  async putState(key: string, value: unknown, expectedVersion: number): Promise<number | null> {
    assertStateKey(key);
    assertExpectedStateVersion(expectedVersion);
    const text = stateText(value);
    return this.#run('write a state value', () => {
      if (expectedVersion === 0) {
        return Number(this.#insertState.run({ key, value: text }).changes) > 0 ? 1 : null;
      }
      const { changes } = this.#replaceState.run({ key, value: text, expected: expectedVersion });
      return Number(changes) > 0 ? expectedVersion + 1 : null;
    });
  }

  async list(options: { limit: number; cursor?: string | null }): Promise<Page<JobRecord>> {
    assertPageLimit(options.limit);
    const after = options.cursor == null ? null : decodeListCursor(options.cursor);
    return this.#run('list jobs', () => {
      // One row more than asked tells whether another page follows.
      const limit = options.limit + 1;
      const rows =
        after === null
          ? this.#selectFirstPage.all({ limit })
          : this.#selectPageAfter.all({ afterJobId: after.jobId, limit });
      const items = rows.slice(0, options.limit).map((row) => this.#toRecord(row));
      const last = items.at(-1);
      const cursor =
        rows.length > options.limit && last ? encodeCursor({ kind: 'all', jobId: last.jobId }) : null;
      return { items, cursor };
    });
  }

  async listDue(query: DuePageQuery): Promise<Page<JobRecord>> {
    assertPageLimit(query.limit);
    const after = query.cursor == null ? null : decodeDueCursor(query.cursor);
    return this.#run('list due jobs', () => {
      const parameters = {
        cycleStartedAt: query.cycleStartedAt,
        now: query.now,
        includePolls: query.only === 'deliveries' ? 0 : 1,
        includeDeliveries: query.only === 'polls' ? 0 : 1,
        limit: query.limit + 1,
      };
      // The cursor is the sort key of the last row handed out, not an offset: rows the caller updates or
      // removes meanwhile drop out without shifting the rows still to come.
      let rows: Record<string, SQLOutputValue>[];
      if (after === null) {
        rows = this.#selectDueFirstPage.all(parameters);
      } else if (after.lastPolledAt === null) {
        rows = this.#selectDueAfterNeverPolled.all({ ...parameters, afterJobId: after.jobId });
      } else {
        rows = this.#selectDueAfterPolled.all({
          ...parameters,
          afterPolledAt: after.lastPolledAt,
          afterJobId: after.jobId,
        });
      }
      const items = rows.slice(0, query.limit).map((row) => this.#toRecord(row));
      const last = items.at(-1);
      const cursor =
        rows.length > query.limit && last
          ? encodeCursor({ kind: 'due', lastPolledAt: last.lastPolledAt, jobId: last.jobId })
          : null;
      return { items, cursor };
    });
  }

  /**
   * Compare-and-set. Updates that arrive in the same turn of the event loop (a cycle's workers finishing their
   * polls together) are written in one transaction — one commit instead of one each, the cycle's main cost —
   * while every statement still decides its own compare-and-set.
   */
  update(next: JobRecord, expectedVersion: number): Promise<JobRecord | null> {
    if (this.#closed) return Promise.reject(this.#closedError('update a job'));
    return new Promise((resolve, reject) => {
      this.#pendingUpdates.push({
        record: next,
        row: toRow(next, expectedVersion + 1),
        expectedVersion,
        resolve,
        reject,
      });
      if (this.#pendingUpdates.length === 1) setImmediate(() => this.#flushUpdates());
    });
  }

  #flushUpdates(): void {
    const batch = this.#pendingUpdates;
    this.#pendingUpdates = [];
    if (batch.length === 0) return;
    let results: (JobRecord | null)[];
    try {
      results = this.#run('update jobs', () =>
        this.#inWriteTransaction(() =>
          batch.map(({ record, row, expectedVersion }) => {
            const { changes } = this.#compareAndSet.run({ ...row, expected_version: expectedVersion });
            // Zero rows: the version moved on or the job was untracked. Either way the caller's view is stale.
            return Number(changes) === 0 ? null : { ...record, version: row.version };
          }),
        ),
      );
    } catch (error) {
      // Rolled back as a whole: no update of the batch happened.
      for (const pending of batch) pending.reject(error);
      return;
    }
    batch.forEach((pending, index) => {
      pending.resolve(results[index] ?? null);
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#flushUpdates();
    this.#closed = true;
    try {
      this.#db.close();
    } catch (error) {
      throw new StoreError(`Cannot close the job store ${this.path}: ${describeCause(error)}`, {
        cause: error,
      });
    }
  }

  /** Runs `work`, turning anything SQLite throws into a StoreError that names the store and operation. */
  #run<T>(operation: string, work: () => T): T {
    if (this.#closed) throw this.#closedError(operation);
    try {
      return work();
    } catch (error) {
      if (error instanceof StoreError) throw error;
      throw new StoreError(`Cannot ${operation} in the job store ${this.path}: ${describeCause(error)}`, {
        cause: error,
      });
    }
  }

  #closedError(operation: string): StoreError {
    return new StoreError(`Cannot ${operation}: the job store ${this.path} is closed`);
  }

  #inWriteTransaction<T>(work: () => T): T {
    this.#begin.run();
    try {
      const result = work();
      this.#commit.run();
      return result;
    } catch (error) {
      if (this.#db.isTransaction) this.#rollback.run();
      throw error;
    }
  }

  #toState(row: Record<string, SQLOutputValue>): StoredState {
    const key = String(row.key);
    try {
      return { key, version: Number(row.version), value: JSON.parse(String(row.value)) };
    } catch (error) {
      throw new StoreError(`The stored value ${key} in ${this.path} is not valid JSON`, { cause: error });
    }
  }

  #toRecord(row: Record<string, SQLOutputValue>): JobRecord {
    const jobId = row.job_id;
    const phase = row.phase;
    if (typeof jobId !== 'string' || typeof phase !== 'string' || !JOB_PHASES.includes(phase)) {
      throw new StoreError(`The job store ${this.path} holds a row that dli-watch did not write`);
    }
    let body: StoredRecordBody;
    try {
      body = JSON.parse(String(row.record)) as StoredRecordBody;
    } catch (error) {
      throw new StoreError(`The stored record of job ${jobId} in ${this.path} is not valid JSON`, {
        cause: error,
      });
    }
    return {
      jobId,
      version: Number(row.version),
      phase: phase as JobPhase,
      status: body.status,
      labels: body.labels,
      notFoundCount: body.notFoundCount,
      trackedAt: Number(row.tracked_at),
      startTime: typeof body.startTime === 'number' ? body.startTime : null,
      lastPolledAt: row.last_polled_at === null ? null : Number(row.last_polled_at),
      statusChangedAt: body.statusChangedAt,
      warnAfterMs: body.warnAfterMs ?? null,
      keyFrom: body.keyFrom ?? null,
      event: body.event === null ? null : readStoredEvent(body.event),
      notices: (body.notices ?? []).map(readStoredEvent),
      ...(body.summary === undefined ? {} : { summary: body.summary }),
      deliveries: body.deliveries,
    };
  }
}
