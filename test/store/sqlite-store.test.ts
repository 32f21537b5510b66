import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore as openConfiguredStore } from '../../lib/store/open-store.ts';
import { SQLITE_SCHEMA_VERSION, SqliteStore } from '../../lib/store/sqlite-store.ts';
import { MissingStoreError, StoreError } from '../../lib/store/store-error.ts';
import { describeJobStoreContract, MINUTE, NOW, pendingDelivery } from '../support/job-store-contract.ts';

describeJobStoreContract('SqliteStore', async () => {
  const directory = await mkdtemp(join(tmpdir(), 'dli-watch-store-contract-'));
  const store = SqliteStore.open(join(directory, 'jobs.db'));
  return {
    store,
    async cleanup() {
      await store.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
});

/** Runs `action` and returns what it threw, failing the test if it threw nothing. */
function thrownBy(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error, nothing was thrown');
}

/** Opens the file the way a second program would, bypassing the store. */
function withRawDatabase<T>(path: string, use: (db: DatabaseSync) => T): T {
  const db = new DatabaseSync(path);
  try {
    return use(db);
  } finally {
    db.close();
  }
}

function rawUserVersion(path: string): number {
  return withRawDatabase(path, (db) => Number(db.prepare('PRAGMA user_version').get()?.user_version));
}

describe('SqliteStore', () => {
  let directory: string;
  const opened: SqliteStore[] = [];

  /** Opens a store that is closed after the test even when the test fails. */
  function openStore(path: string, options: { mustExist?: boolean } = {}): SqliteStore {
    const store = SqliteStore.open(path, options);
    opened.push(store);
    return store;
  }

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'dli-watch-sqlite-store-'));
  });

  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close();
    await rm(directory, { recursive: true, force: true });
  });

  it('creates the parent directories and the database file on first use', async () => {
    const path = join(directory, 'state', 'nested', 'jobs.db');

    const store = openStore(path);
    await store.track([{ jobId: 'job-a' }], NOW);

    expect(existsSync(path)).toBe(true);
    expect(rawUserVersion(path)).toBe(SQLITE_SCHEMA_VERSION);
  });

  it('with mustExist, refuses a missing file and creates nothing, neither the file nor its directory', async () => {
    const path = join(directory, 'state', 'jobs.db');

    const error = thrownBy(() => SqliteStore.open(path, { mustExist: true }));
    const viaConfig = await openConfiguredStore({ kind: 'sqlite', path }, { mustExist: true }).catch(
      (caught: unknown) => caught,
    );

    for (const refused of [error, viaConfig]) {
      expect(refused).toBeInstanceOf(MissingStoreError);
      expect(refused).toBeInstanceOf(StoreError);
      expect((refused as MissingStoreError).location).toBe(path);
      expect((refused as Error).message).toContain(path);
    }
    expect(existsSync(join(directory, 'state'))).toBe(false);
    // Once the store is there, mustExist opens it like any other.
    await openStore(path).track([{ jobId: 'job-a' }], NOW);
    expect((await openStore(path, { mustExist: true }).get('job-a'))?.jobId).toBe('job-a');
  });

  it('prunes far more finished jobs than one transaction removes, keeping the rest in place', async () => {
    const store = openStore(join(directory, 'jobs.db'));
    const jobIds = Array.from({ length: 1234 }, (_, index) => `job-${String(index).padStart(4, '0')}`);
    await store.track(
      jobIds.map((jobId) => ({ jobId })),
      NOW - 60 * MINUTE,
    );
    const kept = new Set<string>();
    for (const [index, jobId] of jobIds.entries()) {
      const record = await store.get(jobId);
      if (record === null) throw new Error(`${jobId} not tracked`);
      // Every seventh one still owes a delivery, every eleventh holds a dead-lettered one: spread over the chunks.
      const deliveries =
        index % 7 === 0 ? [pendingDelivery()] : index % 11 === 0 ? [pendingDelivery({ state: 'dead' })] : [];
      if (deliveries.length > 0) kept.add(jobId);
      await store.update(
        { ...record, phase: 'terminal', status: 'FINISHED', lastPolledAt: NOW - 30 * MINUTE, deliveries },
        record.version,
      );
    }

    const result = await store.prune({ finishedBefore: NOW });

    const deadLettered = jobIds.filter((_, index) => index % 7 !== 0 && index % 11 === 0).length;
    expect(result).toEqual({ removed: jobIds.length - kept.size, keptDeadLettered: deadLettered });
    const left = (await store.list({ limit: 2000 })).items.map((record) => record.jobId);
    expect(new Set(left)).toEqual(kept);
  });

  it('puts the database in WAL mode so that readers and a writer can share it', () => {
    const path = join(directory, 'jobs.db');
    openStore(path);

    const journalMode = withRawDatabase(path, (db) => db.prepare('PRAGMA journal_mode').get()?.journal_mode);

    expect(journalMode).toBe('wal');
  });

  it('keeps every job across close and reopen', async () => {
    const path = join(directory, 'jobs.db');
    const first = SqliteStore.open(path);
    await first.track([{ jobId: 'job-a', labels: { team: 'データ' } }, { jobId: 'job-b' }], NOW);
    const jobA = await first.get('job-a');
    if (jobA === null) throw new Error('job-a not tracked');
    const stored = await first.update({ ...jobA, status: 'RUNNING', lastPolledAt: NOW }, jobA.version);
    await first.close();

    const reopened = openStore(path);

    expect(await reopened.get('job-a')).toStrictEqual(stored);
    expect((await reopened.list({ limit: 10 })).items.map((record) => record.jobId)).toEqual([
      'job-a',
      'job-b',
    ]);
  });

  it('lists jobs in id order and breaks ties in listDue by id', async () => {
    const store = openStore(join(directory, 'jobs.db'));
    await store.track(
      ['job-c', 'job-a', 'job-d', 'job-b'].map((jobId) => ({ jobId })),
      NOW,
    );
    for (const jobId of ['job-d', 'job-b']) {
      const record = await store.get(jobId);
      if (record === null) throw new Error(`${jobId} not tracked`);
      await store.update({ ...record, status: 'RUNNING', lastPolledAt: NOW - 1000 }, record.version);
    }

    const listed = await store.list({ limit: 10 });
    const due = await store.listDue({ cycleStartedAt: NOW, now: NOW, limit: 10 });

    expect(listed.items.map((record) => record.jobId)).toEqual(['job-a', 'job-b', 'job-c', 'job-d']);
    expect(due.items.map((record) => record.jobId)).toEqual(['job-a', 'job-c', 'job-b', 'job-d']);
  });

  it('lets two stores on one file (as two processes would) see each other and only one update win', async () => {
    const path = join(directory, 'jobs.db');
    const cycleA = openStore(path);
    const cycleB = openStore(path);
    await cycleA.track([{ jobId: 'job-a' }], NOW);
    const seenByA = await cycleA.get('job-a');
    const seenByB = await cycleB.get('job-a');
    if (seenByA === null || seenByB === null) throw new Error('job-a not visible to both stores');

    const fromA = await cycleA.update(
      { ...seenByA, phase: 'terminal', status: 'FINISHED', lastPolledAt: NOW },
      1,
    );
    const fromB = await cycleB.update(
      { ...seenByB, phase: 'terminal', status: 'FAILED', lastPolledAt: NOW },
      1,
    );

    expect(fromA?.status).toBe('FINISHED');
    expect(fromB).toBeNull();
    expect(await cycleB.get('job-a')).toStrictEqual(fromA);
    expect(await cycleB.track([{ jobId: 'job-a' }], NOW)).toEqual({
      added: 0,
      addedIds: [],
      existing: 1,
    });
  });

  it('is at schema version 2: the jobs table, then the state table', () => {
    expect(SQLITE_SCHEMA_VERSION).toBe(2);
  });

  it('migrates a database at schema version 1 to 2, keeping its rows and reading their start time as unknown', async () => {
    const path = join(directory, 'jobs.db');
    // Exactly what migration 1 created, with a row as a dli-watch of that time wrote it (no startTime).
    const oldBody = {
      status: 'RUNNING',
      labels: { team: 'data' },
      notFoundCount: 0,
      statusChangedAt: NOW - MINUTE,
      event: null,
      deliveries: [],
    };
    withRawDatabase(path, (db) => {
      db.exec(`
        CREATE TABLE jobs (
          job_id TEXT PRIMARY KEY NOT NULL,
          version INTEGER NOT NULL,
          phase TEXT NOT NULL,
          last_polled_at INTEGER,
          due_at INTEGER,
          tracked_at INTEGER NOT NULL,
          record TEXT NOT NULL
        );
        CREATE INDEX jobs_due ON jobs (last_polled_at, job_id) WHERE phase = 'active' OR due_at IS NOT NULL;
        PRAGMA user_version = 1;
      `);
      db.prepare(
        `INSERT INTO jobs (job_id, version, phase, last_polled_at, due_at, tracked_at, record)
         VALUES ('job-old', 3, 'active', ?, NULL, ?, ?)`,
      ).run(NOW - MINUTE, NOW - 60 * MINUTE, JSON.stringify(oldBody));
    });

    const store = openStore(path);

    expect(rawUserVersion(path)).toBe(2);
    const old = await store.get('job-old');
    expect(old).toStrictEqual({
      jobId: 'job-old',
      version: 3,
      phase: 'active',
      status: 'RUNNING',
      labels: { team: 'data' },
      notFoundCount: 0,
      trackedAt: NOW - 60 * MINUTE,
      startTime: null,
      lastPolledAt: NOW - MINUTE,
      statusChangedAt: NOW - MINUTE,
      warnAfterMs: null,
      keyFrom: null,
      event: null,
      notices: [],
      deliveries: [],
    });
    expect(await store.getMany(['job-old'])).toStrictEqual([old]);
    expect((await store.listDue({ cycleStartedAt: NOW, now: NOW, limit: 10 })).items).toStrictEqual([old]);
    expect(await store.putState('watch:etl', { cursor: 1 }, 0)).toBe(1);
    if (old === null) throw new Error('job-old not kept');
    expect((await store.update({ ...old, startTime: NOW - 2 * MINUTE }, old.version))?.startTime).toBe(
      NOW - 2 * MINUTE,
    );
    await store.close();
    // Opening again migrates nothing more and loses nothing.
    const reopened = openStore(path);
    expect(rawUserVersion(path)).toBe(2);
    expect((await reopened.get('job-old'))?.startTime).toBe(NOW - 2 * MINUTE);
    expect((await reopened.getState('watch:etl'))?.value).toEqual({ cursor: 1 });
  });

  it('keeps state values across close and reopen, and shares them between two stores on one file', async () => {
    const path = join(directory, 'jobs.db');
    const first = openStore(path);
    const second = openStore(path);
    expect(await first.putState('watch:etl', 'a', 0)).toBe(1);
    expect(await second.putState('watch:etl', 'b', 0)).toBeNull();
    expect(await second.putState('watch:etl', 'b', 1)).toBe(2);
    expect(await first.putState('watch:etl', 'c', 1)).toBeNull();
    await first.close();

    expect(await openStore(path).getState('watch:etl')).toEqual({ key: 'watch:etl', version: 2, value: 'b' });
  });

  it('reports a damaged state value as a StoreError without quoting it', async () => {
    const path = join(directory, 'jobs.db');
    const store = openStore(path);
    await store.putState('watch:etl', { cursor: 1 }, 0);
    withRawDatabase(path, (db) =>
      db.prepare('UPDATE state SET value = ? WHERE key = ?').run('{"cursor":"do-not-echo', 'watch:etl'),
    );

    const error = await store.getState('watch:etl').catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(StoreError);
    expect((error as Error).message).toContain('watch:etl');
    expect((error as Error).message).not.toContain('do-not-echo');
    await expect(store.listStates('watch:')).rejects.toBeInstanceOf(StoreError);
  });

  it('refuses a database from a newer dli-watch, naming it and both versions, and leaves it untouched', async () => {
    const path = join(directory, 'jobs.db');
    const store = SqliteStore.open(path);
    await store.track([{ jobId: 'job-a', labels: { team: 'data' } }], NOW);
    const before = await store.get('job-a');
    await store.close();
    const newer = SQLITE_SCHEMA_VERSION + 1;
    withRawDatabase(path, (db) => db.exec(`PRAGMA user_version = ${newer}`));

    const error = thrownBy(() => SqliteStore.open(path));

    expect(error).toBeInstanceOf(StoreError);
    expect((error as Error).message).toContain(path);
    expect((error as Error).message).toContain(`version ${newer}`);
    expect((error as Error).message).toContain(`version ${SQLITE_SCHEMA_VERSION}`);
    expect(rawUserVersion(path)).toBe(newer);
    withRawDatabase(path, (db) => db.exec(`PRAGMA user_version = ${SQLITE_SCHEMA_VERSION}`));
    expect(await openStore(path).get('job-a')).toStrictEqual(before);
  });

  it('refuses a file that is not a SQLite database, naming it, and leaves its bytes alone', async () => {
    const path = join(directory, 'notes.db');
    const garbage = Buffer.from('these are my notes, not a database\n'.repeat(200));
    await writeFile(path, garbage);

    const error = thrownBy(() => SqliteStore.open(path));

    expect(error).toBeInstanceOf(StoreError);
    expect((error as Error).message).toContain(path);
    expect((error as Error).cause).toBeInstanceOf(Error);
    expect(await readFile(path)).toEqual(garbage);
  });

  it('reports a location it cannot create as a StoreError naming it', async () => {
    const blocker = join(directory, 'not-a-directory');
    await writeFile(blocker, 'a file where a directory should be');
    const path = join(blocker, 'jobs.db');

    const error = thrownBy(() => SqliteStore.open(path));

    expect(error).toBeInstanceOf(StoreError);
    expect((error as Error).message).toContain(path);
  });

  it('rejects work on a closed store with a StoreError', async () => {
    const store = SqliteStore.open(join(directory, 'jobs.db'));
    await store.close();

    await expect(store.get('job-a')).rejects.toBeInstanceOf(StoreError);
    await expect(store.track([{ jobId: 'job-a' }], NOW)).rejects.toBeInstanceOf(StoreError);
    await expect(store.getMany(['job-a'])).rejects.toBeInstanceOf(StoreError);
    await expect(store.getState('watch:etl')).rejects.toBeInstanceOf(StoreError);
    await expect(store.listStates('watch:')).rejects.toBeInstanceOf(StoreError);
    await expect(store.putState('watch:etl', 1, 0)).rejects.toBeInstanceOf(StoreError);
    // A bad key is the caller's mistake, told as such even then.
    await expect(store.putState('bad key', 1, 0)).rejects.toBeInstanceOf(RangeError);
  });

  it('reports a damaged record without quoting what it holds, and leaves other jobs readable', async () => {
    const path = join(directory, 'jobs.db');
    const store = openStore(path);
    await store.track([{ jobId: 'job-a' }, { jobId: 'job-b' }], NOW);
    withRawDatabase(path, (db) =>
      db
        .prepare('UPDATE jobs SET record = ? WHERE job_id = ?')
        .run('{"labels":{"team":"do-not-echo', 'job-a'),
    );

    const error = await store.get('job-a').catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(StoreError);
    expect((error as Error).message).toContain('job-a');
    expect((error as Error).message).not.toContain('do-not-echo');
    expect((await store.get('job-b'))?.jobId).toBe('job-b');
  });

  it('rolls back a whole track call that fails part way', async () => {
    const path = join(directory, 'jobs.db');
    const store = openStore(path);
    // A job whose labels cannot be stored (a BigInt cannot become JSON) makes the call fail after others.
    const unstorable = { jobId: 'job-bad', labels: { size: 1n } as unknown as Record<string, string> };

    await expect(store.track([{ jobId: 'job-a' }, unstorable], NOW)).rejects.toBeInstanceOf(StoreError);

    expect(await store.get('job-a')).toBeNull();
    expect(await store.track([{ jobId: 'job-a' }], NOW)).toEqual({
      added: 1,
      addedIds: ['job-a'],
      existing: 0,
    });
  });
});
