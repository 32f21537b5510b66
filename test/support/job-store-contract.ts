import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { placeRun, streakStateKey } from '../../lib/cycle/streak-state.ts';
import { summaryRecord } from '../../lib/daily-summary.ts';
import type { Delivery, JobEvent, JobRecord } from '../../lib/job.ts';
import { type JobStore, MAX_GET_MANY, type Page, type PrunableJobStore } from '../../lib/store/job-store.ts';
import { redeliverDeadLettered } from '../../lib/store/redeliver.ts';
import { UPDATE_RECORD_TRIES, updateRecord } from '../../lib/store/update-record.ts';
import { readStreakHistory } from '../../lib/streak.ts';
import { hugeDailySummary } from './events.ts';
import { forwardingStore } from './forwarding-store.ts';

/** What a contract run needs: a fresh, empty store, and a way to throw it away afterwards. */
export interface OpenedStore {
  store: PrunableJobStore;
  cleanup(): Promise<void>;
}

/** A fixed clock: every test reasons about instants relative to this one (the backends' own tests too). */
export const NOW = 1_750_000_000_000;
export const MINUTE = 60_000;

/** A delivery waiting for its first attempt, due a minute before {@link NOW}. */
export function pendingDelivery(overrides: Partial<Delivery> = {}): Delivery {
  return {
    destination: 'team-chat',
    state: 'pending',
    attempts: 0,
    createdAt: NOW - 10 * MINUTE,
    nextAttemptAt: NOW - MINUTE,
    leaseUntil: null,
    lastError: null,
    ...overrides,
  };
}

function finishedEvent(jobId: string): JobEvent {
  return {
    id: `evt-${jobId}`,
    type: 'FINISHED',
    status: 'FINISHED',
    previousStatus: 'RUNNING',
    occurredAt: NOW - 10 * MINUTE,
    projectId: 'project-1',
    labels: {},
    job: { job_id: jobId, status: 'FINISHED' },
    routedTo: ['alerts'],
  };
}

/** Tracks `jobId` if needed and writes `changes` over its record the way the cycle would (by CAS). */
async function putJob(store: JobStore, jobId: string, changes: Partial<JobRecord> = {}): Promise<JobRecord> {
  await store.track([{ jobId }], NOW - 60 * MINUTE);
  const current = await store.get(jobId);
  if (current === null) throw new Error(`test setup: ${jobId} was not tracked`);
  const stored = await store.update({ ...current, ...changes, jobId }, current.version);
  if (stored === null) throw new Error(`test setup: update of ${jobId} lost its compare-and-set`);
  return stored;
}

/** Writes a job that reached a terminal status at its poll at `lastPolledAt`, owing `deliveries`. */
function putTerminalJob(
  store: JobStore,
  jobId: string,
  deliveries: Delivery[],
  lastPolledAt = NOW - 30 * MINUTE,
): Promise<JobRecord> {
  return putJob(store, jobId, {
    phase: 'terminal',
    status: 'FINISHED',
    lastPolledAt,
    statusChangedAt: lastPolledAt,
    event: finishedEvent(jobId),
    deliveries,
  });
}

/** Follows cursors to the end, failing instead of looping forever if a store never returns `null`. */
async function collectPages(
  fetchPage: (cursor: string | null) => Promise<Page<JobRecord>>,
  maxPages = 1000,
): Promise<{ items: JobRecord[]; pages: number }> {
  const items: JobRecord[] = [];
  let cursor: string | null = null;
  for (let pages = 1; pages <= maxPages; pages++) {
    const page = await fetchPage(cursor);
    items.push(...page.items);
    if (page.cursor === null) return { items, pages };
    cursor = page.cursor;
  }
  throw new Error(`still paging after ${maxPages} pages`);
}

function ids(records: readonly JobRecord[]): string[] {
  return records.map((record) => record.jobId);
}

/**
 * The behaviour every {@link JobStore} backend must have. Call it from a backend's test file with a function
 * that opens a fresh, empty store; each test gets its own and cleans it up afterwards.
 */
export function describeJobStoreContract(name: string, open: () => Promise<OpenedStore>): void {
  describe(`JobStore contract: ${name}`, () => {
    let store: PrunableJobStore;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      const opened = await open();
      store = opened.store;
      cleanup = () => opened.cleanup();
    });

    afterEach(async () => {
      await cleanup();
    });

    describe('track', () => {
      it('starts a new job active and never polled, with its labels and nothing owed', async () => {
        const result = await store.track(
          [{ jobId: 'job-a', labels: { team: 'data' } }, { jobId: 'job-b' }],
          NOW,
        );

        expect(result).toEqual({ added: 2, addedIds: ['job-a', 'job-b'], existing: 0 });
        expect(await store.get('job-a')).toStrictEqual({
          jobId: 'job-a',
          version: 1,
          phase: 'active',
          status: null,
          labels: { team: 'data' },
          notFoundCount: 0,
          trackedAt: NOW,
          startTime: null,
          lastPolledAt: null,
          statusChangedAt: null,
          warnAfterMs: null,
          keyFrom: null,
          event: null,
          notices: [],
          deliveries: [],
        });
        expect((await store.get('job-b'))?.labels).toStrictEqual({});
      });

      it('keeps the threshold and the run key a job was tracked with', async () => {
        await store.track([{ jobId: 'job-a', warnAfterMs: 90 * MINUTE, keyFrom: { from: 'sql' } }], NOW);
        await store.track([{ jobId: 'job-b', keyFrom: { from: 'label', name: 'pipeline' } }], NOW);
        expect(await store.get('job-a')).toMatchObject({
          warnAfterMs: 90 * MINUTE,
          keyFrom: { from: 'sql' },
        });
        expect(await store.get('job-b')).toMatchObject({
          warnAfterMs: null,
          keyFrom: { from: 'label', name: 'pipeline' },
        });
      });

      it('is idempotent: a job tracked again keeps its first labels and counts as existing', async () => {
        await store.track([{ jobId: 'job-a', labels: { team: 'data' } }], NOW);

        const again = await store.track(
          [
            { jobId: 'job-a', labels: { team: 'other' } },
            { jobId: 'job-b', labels: { team: 'other' } },
          ],
          NOW + MINUTE,
        );

        expect(again).toEqual({ added: 1, addedIds: ['job-b'], existing: 1 });
        const jobA = await store.get('job-a');
        expect(jobA?.labels).toStrictEqual({ team: 'data' });
        expect(jobA?.trackedAt).toBe(NOW);
        expect(jobA?.version).toBe(1);
      });

      it('does not reset a job that is already being worked on', async () => {
        const polled = await putJob(store, 'job-a', { status: 'RUNNING', lastPolledAt: NOW - MINUTE });

        expect(await store.track([{ jobId: 'job-a' }], NOW)).toEqual({ added: 0, addedIds: [], existing: 1 });
        expect(await store.get('job-a')).toStrictEqual(polled);
      });

      it('accepts 1500 ids in one call', async () => {
        const jobIds = Array.from({ length: 1500 }, (_, index) => `job-${String(index).padStart(4, '0')}`);

        const result = await store.track(
          jobIds.map((jobId) => ({ jobId })),
          NOW,
        );

        expect(result).toEqual({ added: 1500, addedIds: jobIds, existing: 0 });
        const { items } = await collectPages((cursor) => store.list({ limit: 400, cursor }));
        expect(new Set(ids(items))).toEqual(new Set(jobIds));
        expect(items).toHaveLength(1500);
        expect(await store.track([{ jobId: 'job-0000' }, { jobId: 'job-1499' }], NOW)).toEqual({
          added: 0,
          addedIds: [],
          existing: 2,
        });
      });
    });

    describe('create: a record that belongs to no job', () => {
      const DAY = 24 * 60 * MINUTE;
      // As large as a cycle builds one (its queue names are DLI's, at most 128 characters), not larger.
      const full = hugeDailySummary();
      const onQueue = <T extends { queue?: string }>(entry: T) => ({
        ...entry,
        queue: `q${'x'.repeat(127)}`,
      });
      const summaryAt = (occurredAt: number, counts = { FINISHED: 3, FAILED: 1, CANCELLED: 0 }) =>
        summaryRecord(
          {
            ...full,
            id: 'summary:ops:2026-12-03',
            occurredAt,
            counts,
            queues: full.queues.map(onQueue),
            failures: full.failures.map(onQueue),
            runningLong: full.runningLong.map(onQueue),
            longest: full.longest.map(onQueue),
          },
          occurredAt + DAY / 2,
        );

      it('stores it whole, once: a second create under the same id changes nothing', async () => {
        const first = summaryAt(NOW);
        expect(await store.create(first)).toBe(true);
        expect(await store.get(first.jobId)).toEqual(first);
        expect(await store.create(summaryAt(NOW + MINUTE, { FINISHED: 9, FAILED: 9, CANCELLED: 9 }))).toBe(
          false,
        );
        expect(await store.get(first.jobId)).toEqual(first);
      });

      it('lets exactly one of two racing creators win', async () => {
        const results = await Promise.all([store.create(summaryAt(NOW)), store.create(summaryAt(NOW + 1))]);
        expect(results.filter(Boolean)).toHaveLength(1);
      });

      it('never replaces a tracked job', async () => {
        await store.track([{ jobId: 'summary:ops:2026-12-03' }], NOW);
        expect(await store.create(summaryAt(NOW))).toBe(false);
        expect((await store.get('summary:ops:2026-12-03'))?.summary).toBeUndefined();
      });

      it('owes its delivery like a job does: due at once, and kept by prune until the day it is owed on ends', async () => {
        const record = summaryAt(NOW);
        await store.create(record);
        const due = await store.listDue({ cycleStartedAt: NOW, now: NOW, limit: 10, only: 'deliveries' });
        expect(ids(due.items)).toEqual([record.jobId]);
        const polls = await store.listDue({ cycleStartedAt: NOW, now: NOW, limit: 10, only: 'polls' });
        expect(polls.items).toEqual([]);
        // Delivered: it owes nothing, and a prune of everything finished up to now still keeps it.
        const current = await store.get(record.jobId);
        if (!current) throw new Error('not stored');
        await store.update({ ...current, deliveries: [] }, current.version);
        expect((await store.prune({ finishedBefore: NOW + MINUTE })).removed).toBe(0);
        expect((await store.prune({ finishedBefore: NOW + DAY })).removed).toBe(1);
      });
    });

    describe('get and untrack', () => {
      it('returns null for a job that was never tracked', async () => {
        expect(await store.get('never-tracked')).toBeNull();
      });

      it('forgets tracked jobs with the deliveries they owe and reports which ids were tracked', async () => {
        await putTerminalJob(store, 'job-owing', [pendingDelivery()]);
        await store.track([{ jobId: 'job-kept' }], NOW);

        const removed = await store.untrack(['job-owing', 'never-tracked']);

        expect(removed).toEqual(['job-owing']);
        expect(await store.get('job-owing')).toBeNull();
        expect(await store.get('job-kept')).not.toBeNull();
        const due = await store.listDue({ cycleStartedAt: NOW, now: NOW, limit: 10 });
        expect(ids(due.items)).toEqual(['job-kept']);
        expect(await store.untrack(['job-owing'])).toEqual([]);
      });
    });

    describe('list', () => {
      it('returns one empty last page for an empty store', async () => {
        expect(await store.list({ limit: 10 })).toEqual({ items: [], cursor: null });
      });

      it('pages through every tracked job exactly once', async () => {
        const jobIds = Array.from({ length: 11 }, (_, index) => `job-${index}`);
        await store.track(
          jobIds.map((jobId) => ({ jobId })),
          NOW,
        );

        const { items, pages } = await collectPages((cursor) => store.list({ limit: 3, cursor }));

        expect(items).toHaveLength(11);
        expect(new Set(ids(items))).toEqual(new Set(jobIds));
        expect(pages).toBeGreaterThanOrEqual(4);
        const onePage = await store.list({ limit: 20 });
        expect(onePage.items).toHaveLength(11);
        expect(onePage.cursor).toBeNull();
      });
    });

    describe('listDue', () => {
      const cycleStartedAt = NOW - MINUTE;
      const allDue = async (limit = 2) =>
        (await collectPages((cursor) => store.listDue({ cycleStartedAt, now: NOW, limit, cursor }))).items;

      it('returns never-polled jobs first, then the least recently polled', async () => {
        await putJob(store, 'polled-long-ago', { status: 'RUNNING', lastPolledAt: NOW - 30 * MINUTE });
        await putJob(store, 'polled-recently', { status: 'RUNNING', lastPolledAt: NOW - 10 * MINUTE });
        await store.track([{ jobId: 'new-1' }, { jobId: 'new-2' }], NOW);
        await putJob(store, 'polled-a-while-ago', { status: 'RUNNING', lastPolledAt: NOW - 20 * MINUTE });

        const due = ids(await allDue());

        expect(new Set(due.slice(0, 2))).toEqual(new Set(['new-1', 'new-2']));
        expect(due.slice(2)).toEqual(['polled-long-ago', 'polled-a-while-ago', 'polled-recently']);
        const onePage = await store.listDue({ cycleStartedAt, now: NOW, limit: 10 });
        expect(ids(onePage.items)).toEqual(due);
        expect(onePage.cursor).toBeNull();
      });

      it('skips active jobs already polled in this cycle', async () => {
        await putJob(store, 'polled-before-cycle', { status: 'RUNNING', lastPolledAt: cycleStartedAt - 1 });
        await putJob(store, 'polled-at-cycle-start', { status: 'RUNNING', lastPolledAt: cycleStartedAt });
        await putJob(store, 'polled-during-cycle', { status: 'RUNNING', lastPolledAt: cycleStartedAt + 1 });

        expect(ids(await allDue())).toEqual(['polled-before-cycle']);
      });

      it('returns terminal jobs only when a pending delivery is due and not leased', async () => {
        await putTerminalJob(store, 'terminal-delivered', []);
        await putJob(store, 'lost', {
          phase: 'lost',
          status: 'RUNNING',
          notFoundCount: 3,
          lastPolledAt: NOW - 1,
        });
        await putTerminalJob(store, 'terminal-dead', [pendingDelivery({ state: 'dead', attempts: 9 })]);
        await putTerminalJob(store, 'terminal-retry-later', [pendingDelivery({ nextAttemptAt: NOW + 1 })]);
        await putTerminalJob(store, 'terminal-leased', [pendingDelivery({ leaseUntil: NOW + 1 })]);
        await putTerminalJob(
          store,
          'terminal-due-now',
          [pendingDelivery({ nextAttemptAt: NOW })],
          NOW - 5 * MINUTE,
        );
        await putTerminalJob(
          store,
          'terminal-lease-expired',
          [pendingDelivery({ attempts: 1, leaseUntil: NOW })],
          NOW - 4 * MINUTE,
        );
        await putTerminalJob(
          store,
          'terminal-one-of-two-due',
          [
            pendingDelivery({ destination: 'a', leaseUntil: NOW + MINUTE }),
            pendingDelivery({ destination: 'b' }),
          ],
          NOW - 3 * MINUTE,
        );
        // Seen terminal in this very cycle: the delivery it owes is still due.
        await putTerminalJob(
          store,
          'terminal-this-cycle',
          [pendingDelivery({ nextAttemptAt: NOW })],
          NOW - 1,
        );

        expect(ids(await allDue())).toEqual([
          'terminal-due-now',
          'terminal-lease-expired',
          'terminal-one-of-two-due',
          'terminal-this-cycle',
        ]);
      });

      it('returns only jobs owing a due delivery, or only jobs to poll, when asked', async () => {
        const now = 1_000_000;
        await store.track([{ jobId: 'never-polled' }, { jobId: 'owes' }, { jobId: 'owes-later' }], now);
        for (const [jobId, nextAttemptAt] of [
          ['owes', now - 1],
          ['owes-later', now + 60_000],
        ] as const) {
          const record = await store.get(jobId);
          if (!record) throw new Error(`${jobId} is tracked`);
          const delivery = {
            destination: 'alerts',
            state: 'pending' as const,
            attempts: 0,
            createdAt: now,
            nextAttemptAt,
            leaseUntil: null,
            lastError: null,
          };
          await store.update({ ...record, phase: 'terminal', deliveries: [delivery] }, record.version);
        }
        const deliveries = await store.listDue({ cycleStartedAt: now, now, limit: 10, only: 'deliveries' });
        expect(deliveries.items.map((record) => record.jobId)).toEqual(['owes']);
        const polls = await store.listDue({ cycleStartedAt: now, now, limit: 10, only: 'polls' });
        expect(polls.items.map((record) => record.jobId)).toEqual(['never-polled']);
        const everything = await store.listDue({ cycleStartedAt: now, now, limit: 10 });
        expect(everything.items.map((record) => record.jobId).sort()).toEqual(['never-polled', 'owes']);
      });

      it('visits every due job exactly once while the cycle updates what it gets between pages', async () => {
        const expected = new Set<string>();
        for (let index = 0; index < 7; index++) {
          await store.track([{ jobId: `new-${index}` }], NOW);
          expected.add(`new-${index}`);
        }
        for (let index = 0; index < 9; index++) {
          // Three jobs share each poll time, so page boundaries fall inside ties.
          const lastPolledAt = cycleStartedAt - (1 + Math.floor(index / 3)) * MINUTE;
          await putJob(store, `running-${index}`, { status: 'RUNNING', lastPolledAt });
          expected.add(`running-${index}`);
        }
        for (let index = 0; index < 5; index++) {
          await putTerminalJob(
            store,
            `owing-${index}`,
            [pendingDelivery()],
            cycleStartedAt - (index + 2) * MINUTE,
          );
          expected.add(`owing-${index}`);
        }
        for (let index = 0; index < 3; index++) {
          await putJob(store, `done-this-cycle-${index}`, {
            status: 'RUNNING',
            lastPolledAt: cycleStartedAt,
          });
          await putTerminalJob(store, `delivered-${index}`, []);
        }

        const visited: string[] = [];
        let clock = cycleStartedAt;
        let cursor: string | null = null;
        for (let pages = 0; pages < 100; pages++) {
          const page: Page<JobRecord> = await store.listDue({ cycleStartedAt, now: NOW, limit: 3, cursor });
          for (const record of page.items) {
            visited.push(record.jobId);
            clock += 1000;
            if (visited.length % 5 === 0) {
              // Somebody untracks a job mid-cycle: the cursor must not depend on it still being there.
              await store.untrack([record.jobId]);
            } else if (record.phase === 'active') {
              const polled = await store.update(
                { ...record, status: 'RUNNING', lastPolledAt: clock },
                record.version,
              );
              expect(polled).not.toBeNull();
            } else {
              const delivered = await store.update({ ...record, deliveries: [] }, record.version);
              expect(delivered).not.toBeNull();
            }
          }
          cursor = page.cursor;
          if (cursor === null) break;
        }

        expect(cursor).toBeNull();
        expect(visited).toHaveLength(expected.size);
        expect(new Set(visited)).toEqual(expected);
        expect(await store.listDue({ cycleStartedAt, now: NOW, limit: 10 })).toEqual({
          items: [],
          cursor: null,
        });
      });
    });

    describe('update', () => {
      it('replaces the record when the version matches and returns it as stored', async () => {
        await store.track([{ jobId: 'job-a' }], NOW);
        const tracked = await store.get('job-a');
        if (tracked === null) throw new Error('job-a not tracked');

        const stored = await store.update({ ...tracked, status: 'RUNNING', lastPolledAt: NOW }, 1);

        expect(stored).toStrictEqual({ ...tracked, version: 2, status: 'RUNNING', lastPolledAt: NOW });
        expect(await store.get('job-a')).toStrictEqual(stored);
      });

      it('refuses a stale version and changes nothing', async () => {
        await store.track([{ jobId: 'job-a' }], NOW);
        const tracked = await store.get('job-a');
        if (tracked === null) throw new Error('job-a not tracked');
        const running = await store.update({ ...tracked, status: 'RUNNING', lastPolledAt: NOW }, 1);

        const stale = await store.update(
          { ...tracked, phase: 'terminal', status: 'FAILED', event: finishedEvent('job-a') },
          tracked.version,
        );

        expect(stale).toBeNull();
        expect(await store.get('job-a')).toStrictEqual(running);
      });

      it('refuses to update a job that is not tracked, and does not create it', async () => {
        await store.track([{ jobId: 'job-a' }], NOW);
        const tracked = await store.get('job-a');
        if (tracked === null) throw new Error('job-a not tracked');
        await store.untrack(['job-a']);

        expect(await store.update({ ...tracked, status: 'RUNNING' }, tracked.version)).toBeNull();
        expect(await store.get('job-a')).toBeNull();
      });

      it('lets exactly one of two concurrent updates from the same version win', async () => {
        await store.track([{ jobId: 'job-a' }], NOW);
        const tracked = await store.get('job-a');
        if (tracked === null) throw new Error('job-a not tracked');

        const results = await Promise.all([
          store.update({ ...tracked, status: 'FINISHED', phase: 'terminal', lastPolledAt: NOW }, 1),
          store.update({ ...tracked, status: 'FAILED', phase: 'terminal', lastPolledAt: NOW + 1 }, 1),
        ]);

        const winners = results.filter((result) => result !== null);
        expect(winners).toHaveLength(1);
        expect(await store.get('job-a')).toStrictEqual(winners[0]);
      });

      it('round-trips a record exactly: unicode labels, unknown job fields, notices, streaks and thresholds', async () => {
        await store.track([{ jobId: 'job-a' }], NOW - 60 * MINUTE);
        const labels = {
          team: 'données 数据 🚀',
          'key with "quotes"': 'back\\slash, new\nline, tab\t',
          empty: '',
        };
        const record: JobRecord = {
          jobId: 'job-a',
          version: 1,
          phase: 'terminal',
          status: 'FAILED',
          labels,
          notFoundCount: 1,
          trackedAt: NOW - 60 * MINUTE,
          startTime: NOW - 50 * MINUTE,
          lastPolledAt: NOW - 2 * MINUTE,
          statusChangedAt: NOW - 2 * MINUTE,
          warnAfterMs: 90 * MINUTE,
          keyFrom: { from: 'tag', name: 'pipeline' },
          notices: [
            {
              id: 'msg_warning1',
              type: 'LONG_RUNNING',
              status: 'RUNNING',
              previousStatus: 'RUNNING',
              occurredAt: NOW - 10 * MINUTE,
              projectId: 'project-1',
              labels,
              job: { job_id: 'job-a', status: 'RUNNING' },
              routedTo: ['alerts'],
              warning: { thresholdMs: 90 * MINUTE, runningForMs: 91 * MINUTE },
            },
          ],
          event: {
            id: 'msg_2mXkq7Y1',
            type: 'FAILED',
            streak: { key: 'tag:pipeline=nightly 数据', failures: 3, since: NOW - 3 * 24 * 60 * MINUTE },
            status: 'FAILED',
            previousStatus: 'SOME_NEW_STATUS',
            occurredAt: NOW - 2 * MINUTE,
            projectId: 'project-1',
            labels,
            job: {
              is_success: true,
              message: '',
              job_id: 'job-a',
              status: 'FAILED',
              duration: 2523,
              statement: 'select "名前" from t1 -- ✓',
              tags: [{ key: 'env', value: 'prod', added_later: 7 }],
              a_field_dli_added_later: { nested: [1, 'two', null, true, { deep: 1.5 }] },
            },
            routedTo: ['alerts', 'audit'],
          },
          deliveries: [
            {
              destination: 'team-chat',
              state: 'pending',
              attempts: 2,
              createdAt: NOW - 2 * MINUTE,
              nextAttemptAt: NOW - MINUTE,
              leaseUntil: NOW - 30_000,
              lastError: 'HTTP 502 from Feishu: {"code":9499,"msg":"Bad Gateway"}',
            },
            {
              destination: 'team-chat',
              eventId: 'msg_warning1',
              state: 'pending',
              attempts: 0,
              createdAt: NOW + 8 * 60 * MINUTE,
              nextAttemptAt: NOW + 8 * 60 * MINUTE,
              leaseUntil: null,
              lastError: null,
              heldForQuietAt: NOW - 5 * MINUTE,
            },
            {
              destination: 'ops-webhook',
              state: 'dead',
              attempts: 12,
              createdAt: NOW - 2 * MINUTE,
              nextAttemptAt: NOW + 10 * MINUTE,
              leaseUntil: null,
              lastError: 'gave up after 24 h',
            },
            pendingDelivery({ destination: 'third' }),
          ],
        };

        const stored = await store.update(record, 1);

        const expected = { ...record, version: 2 };
        expect(stored).toStrictEqual(expected);
        expect(await store.get('job-a')).toStrictEqual(expected);
        expect((await store.list({ limit: 10 })).items).toStrictEqual([expected]);
        expect((await store.listDue({ cycleStartedAt: NOW, now: NOW, limit: 10 })).items).toStrictEqual([
          expected,
        ]);
      });
    });

    describe('prune', () => {
      const DAY = 24 * 60 * MINUTE;
      const cutoff = NOW - 30 * DAY;
      const lost = (jobId: string, lastPolledAt: number) =>
        putJob(store, jobId, { phase: 'lost', status: 'RUNNING', notFoundCount: 3, lastPolledAt });

      async function seed() {
        await putTerminalJob(store, 'old-delivered', [], cutoff - DAY);
        await lost('old-lost', cutoff - 1);
        await putTerminalJob(
          store,
          'old-dead',
          [pendingDelivery({ state: 'dead', attempts: 9 })],
          cutoff - DAY,
        );
        // Owing a pending delivery: never removed, however old.
        await putTerminalJob(
          store,
          'old-owing',
          [
            pendingDelivery({ state: 'dead' }),
            pendingDelivery({ destination: 'b', nextAttemptAt: NOW + DAY }),
          ],
          cutoff - DAY,
        );
        await putTerminalJob(store, 'recent-delivered', [], cutoff);
        await lost('recent-lost', cutoff + DAY);
        // Still polled: never removed, however long ago it was last polled.
        await putJob(store, 'old-running', { status: 'RUNNING', lastPolledAt: cutoff - 10 * DAY });
        await store.track([{ jobId: 'never-polled' }], cutoff - 10 * DAY);
      }

      const remaining = async () =>
        ids((await collectPages((cursor) => store.list({ limit: 100, cursor }))).items).sort();

      it('removes finished jobs owing nothing that finished before the cutoff, and keeps dead-lettered ones', async () => {
        await seed();

        const result = await store.prune({ finishedBefore: cutoff });

        expect(result).toEqual({ removed: 2, keptDeadLettered: 1 });
        expect(await remaining()).toEqual([
          'never-polled',
          'old-dead',
          'old-owing',
          'old-running',
          'recent-delivered',
          'recent-lost',
        ]);
        expect(await store.get('old-delivered')).toBeNull();
        // Nothing is left to remove: pruning again is harmless.
        expect(await store.prune({ finishedBefore: cutoff })).toEqual({ removed: 0, keptDeadLettered: 1 });
      });

      it('removes dead-lettered ones too when asked, and still nothing that owes or is polled', async () => {
        await seed();

        const result = await store.prune({ finishedBefore: cutoff, includeDeadLettered: true });

        expect(result).toEqual({ removed: 3, keptDeadLettered: 0 });
        expect(await remaining()).toEqual([
          'never-polled',
          'old-owing',
          'old-running',
          'recent-delivered',
          'recent-lost',
        ]);
      });

      it('removes every one of many finished jobs, and on an empty store removes nothing', async () => {
        expect(await store.prune({ finishedBefore: NOW })).toEqual({ removed: 0, keptDeadLettered: 0 });
        const jobIds = Array.from({ length: 130 }, (_, index) => `done-${String(index).padStart(3, '0')}`);
        for (const jobId of jobIds) await putTerminalJob(store, jobId, [], cutoff - DAY);
        await store.track([{ jobId: 'kept' }], NOW);

        expect(await store.prune({ finishedBefore: cutoff })).toEqual({ removed: 130, keptDeadLettered: 0 });
        expect(await remaining()).toEqual(['kept']);
      });
    });

    describe('updateRecord: compare-and-set over get and update', () => {
      /**
       * The store, with another writer that changes the record right after each of the first `races` reads: what a
       * cycle recording a delivery result at the wrong moment does. Its writes are real updates of the store.
       */
      function racedStore(races: number, race: (record: JobRecord) => JobRecord): JobStore {
        let left = races;
        return forwardingStore(store, {
          async get(jobId) {
            const read = await store.get(jobId);
            if (read !== null && left > 0) {
              left--;
              const raced = await store.update(race(read), read.version);
              if (raced === null) throw new Error('test setup: the racing write lost');
            }
            return read;
          },
        });
      }

      it('re-reads and re-applies its change when another writer got in between, keeping both changes', async () => {
        await putTerminalJob(store, 'job-a', [
          pendingDelivery({ destination: 'a', state: 'dead', attempts: 4 }),
          pendingDelivery({ destination: 'b', leaseUntil: NOW + MINUTE }),
        ]);
        // The racing writer records b as delivered (gone) while the change below redelivers a.
        const raced = racedStore(2, (record) => ({
          ...record,
          deliveries: record.deliveries.filter((delivery) => delivery.destination !== 'b'),
          notFoundCount: record.notFoundCount + 1,
        }));

        const outcome = await redeliverDeadLettered(raced, 'job-a', { now: NOW });

        expect(outcome).toMatchObject({ kind: 'redelivered', destinations: ['a'] });
        const stored = await store.get('job-a');
        expect(stored?.notFoundCount).toBe(2);
        expect(stored?.deliveries).toEqual([
          pendingDelivery({ destination: 'a', attempts: 4, createdAt: NOW, nextAttemptAt: NOW }),
        ]);
        expect(stored?.version).toBe(5);
      });

      it('gives up, writing nothing of its own, when the record changes under every try', async () => {
        await putTerminalJob(store, 'job-a', [pendingDelivery({ state: 'dead' })]);
        const raced = racedStore(UPDATE_RECORD_TRIES, (record) => ({
          ...record,
          notFoundCount: record.notFoundCount + 1,
        }));

        expect(await redeliverDeadLettered(raced, 'job-a', { now: NOW })).toEqual({ kind: 'contended' });
        const stored = await store.get('job-a');
        expect(stored?.notFoundCount).toBe(UPDATE_RECORD_TRIES);
        expect(stored?.deliveries).toEqual([pendingDelivery({ state: 'dead' })]);
      });

      it('tells a job that is not tracked, and one that needs no change, leaving it as it was', async () => {
        expect(await updateRecord(store, 'never-tracked', (record) => record)).toEqual({ kind: 'not-found' });
        const before = await putTerminalJob(store, 'job-a', [pendingDelivery()]);

        expect(await updateRecord(store, 'job-a', () => null)).toEqual({ kind: 'unchanged', record: before });
        expect(await store.get('job-a')).toStrictEqual(before);
      });
    });

    describe('redeliverDeadLettered', () => {
      it('puts dead-lettered deliveries back to pending, due now, with their event, attempts and last error', async () => {
        const before = await putTerminalJob(store, 'job-a', [
          pendingDelivery({ destination: 'hook', state: 'dead', attempts: 12, lastError: 'HTTP 410 Gone' }),
          pendingDelivery({ destination: 'chat', nextAttemptAt: NOW + 10 * MINUTE, attempts: 2 }),
        ]);
        const later = NOW + 5 * MINUTE;

        const outcome = await redeliverDeadLettered(store, 'job-a', { now: later });

        expect(outcome).toMatchObject({ kind: 'redelivered', destinations: ['hook'] });
        const stored = await store.get('job-a');
        expect(stored).toStrictEqual({
          ...before,
          version: before.version + 1,
          deliveries: [
            pendingDelivery({
              destination: 'hook',
              attempts: 12,
              lastError: 'HTTP 410 Gone',
              createdAt: later,
              nextAttemptAt: later,
            }),
            pendingDelivery({ destination: 'chat', nextAttemptAt: NOW + 10 * MINUTE, attempts: 2 }),
          ],
        });
        expect(stored?.event?.id).toBe('evt-job-a');
        // Due again: the next cycle's delivery phase finds it.
        const due = await store.listDue({ cycleStartedAt: later, now: later, limit: 10, only: 'deliveries' });
        expect(ids(due.items)).toEqual(['job-a']);
        // And no longer finished with nothing owed: prune leaves it.
        expect(
          await store.prune({ finishedBefore: later + MINUTE, includeDeadLettered: true }),
        ).toMatchObject({
          removed: 0,
        });
      });

      it('redelivers only the destination asked for, and changes nothing when nothing matches', async () => {
        await putTerminalJob(store, 'job-a', [
          pendingDelivery({ destination: 'hook', state: 'dead' }),
          pendingDelivery({ destination: 'chat', state: 'dead' }),
        ]);

        const one = await redeliverDeadLettered(store, 'job-a', { now: NOW, destination: 'chat' });
        expect(one).toMatchObject({ kind: 'redelivered', destinations: ['chat'] });
        const after = await store.get('job-a');
        expect(after?.deliveries.map((delivery) => [delivery.destination, delivery.state])).toEqual([
          ['hook', 'dead'],
          ['chat', 'pending'],
        ]);

        const none = await redeliverDeadLettered(store, 'job-a', { now: NOW, destination: 'chat' });
        expect(none).toMatchObject({ kind: 'redelivered', destinations: [] });
        expect(await store.get('job-a')).toStrictEqual(after);
        expect(await redeliverDeadLettered(store, 'never-tracked', { now: NOW })).toEqual({
          kind: 'not-tracked',
        });
      });
    });

    describe('track: what it added', () => {
      it('names the jobs this call added, once each, in the order asked, and keeps the start time given', async () => {
        const first = await store.track(
          [{ jobId: 'job-b', startTime: NOW - 5 * MINUTE }, { jobId: 'job-a' }, { jobId: 'job-b' }],
          NOW,
        );

        expect(first).toEqual({ added: 2, addedIds: ['job-b', 'job-a'], existing: 1 });
        expect((await store.get('job-b'))?.startTime).toBe(NOW - 5 * MINUTE);
        // Absent from the request: not known yet.
        expect((await store.get('job-a'))?.startTime).toBeNull();
        const again = await store.track(
          [{ jobId: 'job-c' }, { jobId: 'job-a', startTime: NOW }, { jobId: 'job-b' }],
          NOW,
        );
        expect(again).toEqual({ added: 1, addedIds: ['job-c'], existing: 2 });
        // Tracking again leaves the first start time, as it leaves the first labels.
        expect((await store.get('job-a'))?.startTime).toBeNull();
        expect(await store.track([{ jobId: 'job-a' }, { jobId: 'job-c' }], NOW)).toEqual({
          added: 0,
          addedIds: [],
          existing: 2,
        });
        expect(await store.track([], NOW)).toEqual({ added: 0, addedIds: [], existing: 0 });
      });

      it('lets exactly one of two racing calls add a job', async () => {
        const [a, b] = await Promise.all([
          store.track([{ jobId: 'job-a' }, { jobId: 'job-b' }], NOW),
          store.track([{ jobId: 'job-b' }, { jobId: 'job-a' }], NOW),
        ]);

        expect([...a.addedIds, ...b.addedIds].sort()).toEqual(['job-a', 'job-b']);
        expect(a.added + b.added).toBe(2);
      });

      it('round-trips the start time through update, from unknown to known and back', async () => {
        await store.track([{ jobId: 'job-a' }], NOW);
        const tracked = await store.get('job-a');
        if (tracked === null) throw new Error('job-a not tracked');

        const known = await store.update({ ...tracked, startTime: NOW - 7 * MINUTE }, tracked.version);

        expect(known?.startTime).toBe(NOW - 7 * MINUTE);
        expect(await store.get('job-a')).toStrictEqual(known);
        expect(await store.getMany(['job-a'])).toStrictEqual([known]);
        expect((await store.list({ limit: 10 })).items).toStrictEqual([known]);
        expect((await store.listDue({ cycleStartedAt: NOW, now: NOW, limit: 10 })).items).toStrictEqual([
          known,
        ]);
        if (known === null) throw new Error('update lost');
        const unknown = await store.update({ ...known, startTime: null }, known.version);
        expect(unknown?.startTime).toBeNull();
        expect(await store.get('job-a')).toStrictEqual(unknown);
      });
    });

    describe('getMany', () => {
      it('returns the tracked ones among the ids, each once, duplicates and unknown ids allowed', async () => {
        await store.track(
          [{ jobId: 'job-a' }, { jobId: 'job-b', startTime: NOW - MINUTE }, { jobId: 'job-c' }],
          NOW,
        );
        const polled = await putJob(store, 'job-d', { status: 'RUNNING', lastPolledAt: NOW - MINUTE });

        const found = await store.getMany(['job-b', 'nope', 'job-a', 'job-b', 'job-d', 'job-d']);

        expect(ids(found).sort()).toEqual(['job-a', 'job-b', 'job-d']);
        for (const record of found) expect(record).toStrictEqual(await store.get(record.jobId));
        expect(found.find((record) => record.jobId === 'job-d')).toStrictEqual(polled);
        expect(await store.getMany([])).toEqual([]);
        expect(await store.getMany(['nope', 'never-tracked'])).toEqual([]);
      });

      it('takes as many ids as one call allows, and refuses one more before asking the store', async () => {
        const jobIds = Array.from({ length: MAX_GET_MANY }, (_, index) => `job-${index}`);
        await store.track(
          jobIds.map((jobId) => ({ jobId })),
          NOW,
        );

        expect(ids(await store.getMany(jobIds)).sort()).toEqual([...jobIds].sort());
        await expect(store.getMany([...jobIds, 'job-one-more'])).rejects.toThrow(RangeError);
        // Counted as asked: duplicates count too.
        await expect(store.getMany([...jobIds, 'job-0'])).rejects.toThrow(RangeError);
      });

      it('does not return jobs that were untracked', async () => {
        await store.track([{ jobId: 'job-a' }, { jobId: 'job-b' }], NOW);
        await store.untrack(['job-a']);

        expect(ids(await store.getMany(['job-a', 'job-b']))).toEqual(['job-b']);
      });
    });

    describe('streak state: runs of a key counted by compare-and-set', () => {
      const KEY = 'tag:pipeline=nightly 数据';

      it('counts each run of a key once, in end-time order, across writers that race', async () => {
        const runs = ['a', 'b', 'c', 'd', 'e', 'f'].map((jobId, index) => ({
          jobId,
          status: 'FAILED' as const,
          endedAt: NOW + index * MINUTE,
        }));
        // Each run counted by two racing cycles at once, and runs in a shuffled order: the end time decides.
        for (const index of [0, 2, 1, 5, 3, 4]) {
          const run = runs[index] as (typeof runs)[number];
          const [first, second] = await Promise.all([placeRun(store, KEY, run), placeRun(store, KEY, run)]);
          expect(first).toEqual(second);
        }
        const stored = await store.getState(streakStateKey(KEY));
        expect(stored?.value).toMatchObject({ key: KEY });
        expect(readStreakHistory(stored?.value).runs.map((run) => `${run.jobId}:${run.failures}`)).toEqual([
          'a:1',
          'b:2',
          'c:3',
          'd:4',
          'e:5',
          'f:6',
        ]);
        // Counting a run again, as a cycle that crashed after counting it does, changes nothing.
        const version = stored?.version;
        const again = await placeRun(store, KEY, runs[2] as (typeof runs)[number]);
        expect(again.run.failures).toBe(3);
        expect((await store.getState(streakStateKey(KEY)))?.version).toBe(version);
      });

      it('keeps keys apart, and resets a streak at a success', async () => {
        await placeRun(store, KEY, { jobId: 'a', status: 'FAILED', endedAt: NOW });
        await placeRun(store, 'sql:0123456789abcdef', { jobId: 'x', status: 'FAILED', endedAt: NOW });
        const success = await placeRun(store, KEY, { jobId: 'b', status: 'FINISHED', endedAt: NOW + MINUTE });
        expect(success).toMatchObject({ run: { failures: 0 }, previous: { jobId: 'a', failures: 1 } });
        const next = await placeRun(store, KEY, { jobId: 'c', status: 'FAILED', endedAt: NOW + 2 * MINUTE });
        expect(next.run).toMatchObject({ failures: 1, since: NOW + 2 * MINUTE });
        const other = await placeRun(store, 'sql:0123456789abcdef', {
          jobId: 'y',
          status: 'FAILED',
          endedAt: NOW,
        });
        expect(other.run.failures).toBe(2);
      });
    });

    describe('state values', () => {
      it('creates a value once, then replaces it only at the version read', async () => {
        expect(await store.getState('watch:etl')).toBeNull();
        expect(await store.putState('watch:etl', { cursor: 1, found: 0 }, 0)).toBe(1);
        // Created already: creating again fails and changes nothing.
        expect(await store.putState('watch:etl', { cursor: 9 }, 0)).toBeNull();
        expect(await store.getState('watch:etl')).toEqual({
          key: 'watch:etl',
          version: 1,
          value: { cursor: 1, found: 0 },
        });
        expect(await store.putState('watch:etl', { cursor: 2, found: 3 }, 1)).toBe(2);
        // A stale version changes nothing.
        expect(await store.putState('watch:etl', { cursor: 0 }, 1)).toBeNull();
        expect(await store.getState('watch:etl')).toEqual({
          key: 'watch:etl',
          version: 2,
          value: { cursor: 2, found: 3 },
        });
        expect(await store.putState('watch:etl', { cursor: 3 }, 2)).toBe(3);
        expect((await store.getState('watch:etl'))?.version).toBe(3);
      });

      it('does not create a value by replacing one that was never stored', async () => {
        expect(await store.putState('watch:etl', { cursor: 1 }, 1)).toBeNull();
        expect(await store.getState('watch:etl')).toBeNull();
      });

      it('round-trips any JSON value exactly', async () => {
        const values: [string, unknown][] = [
          ['null', null],
          ['number', 1.5],
          ['string', 'données 数据 🚀 "quoted" back\\slash\nnew line'],
          ['boolean', false],
          ['array', [1, 'two', null, true, { deep: [] }]],
          ['object', { after: { startTime: NOW, jobId: 'job-a' }, empty: {}, list: [] }],
        ];
        for (const [key, value] of values) expect(await store.putState(`v/${key}`, value, 0)).toBe(1);

        for (const [key, value] of values) {
          expect(await store.getState(`v/${key}`)).toStrictEqual({ key: `v/${key}`, version: 1, value });
        }
      });

      it('lets exactly one of two racing writers at one version win, and keeps the winner’s value', async () => {
        await store.putState('poll-position', { after: null }, 0);

        const results = await Promise.all([
          store.putState('poll-position', { after: 'a' }, 1),
          store.putState('poll-position', { after: 'b' }, 1),
        ]);

        expect(results.filter((result) => result === 2)).toHaveLength(1);
        expect(results.filter((result) => result === null)).toHaveLength(1);
        const winner = results[0] === 2 ? 'a' : 'b';
        expect(await store.getState('poll-position')).toEqual({
          key: 'poll-position',
          version: 2,
          value: { after: winner },
        });
      });

      it('lets exactly one of two racing creators win', async () => {
        const results = await Promise.all([
          store.putState('watch:etl', 'first', 0),
          store.putState('watch:etl', 'second', 0),
        ]);

        expect(results.filter((result) => result === 1)).toHaveLength(1);
        expect(results.filter((result) => result === null)).toHaveLength(1);
        expect((await store.getState('watch:etl'))?.value).toBe(results[0] === 1 ? 'first' : 'second');
      });

      it('lists the values under a prefix in key order, and only those', async () => {
        await store.putState('watch:b', 2, 0);
        await store.putState('watch:a_1', 1, 0);
        await store.putState('watch:a', 0, 0);
        await store.putState('watchers', 'not under the prefix', 0);
        await store.putState('watch', 'the prefix is not a key of its own', 0);
        await store.putState('poll-position', { after: null }, 0);
        await store.putState('watch:b', 'two', 1);

        expect(await store.listStates('watch:')).toEqual([
          { key: 'watch:a', version: 1, value: 0 },
          { key: 'watch:a_1', version: 1, value: 1 },
          { key: 'watch:b', version: 2, value: 'two' },
        ]);
        // `_` is no wildcard.
        expect((await store.listStates('watch:a_')).map((state) => state.key)).toEqual(['watch:a_1']);
        expect((await store.listStates('watch:a')).map((state) => state.key)).toEqual([
          'watch:a',
          'watch:a_1',
        ]);
        expect(await store.listStates('nothing:')).toEqual([]);
        expect((await store.listStates('')).map((state) => state.key)).toEqual([
          'poll-position',
          'watch',
          'watch:a',
          'watch:a_1',
          'watch:b',
          'watchers',
        ]);
      });

      it('lists nothing in a store that holds only jobs', async () => {
        await store.track([{ jobId: 'job-a' }], NOW);

        expect(await store.listStates('')).toEqual([]);
        expect(await store.listStates('job-a')).toEqual([]);
      });

      it('keeps values apart from the jobs: no list, due page, getMany or prune ever shows or removes one', async () => {
        await store.putState('watch:job-a', { cursor: 1 }, 0);
        await store.putState('job-b', 'named like a job', 0);
        await putTerminalJob(store, 'job-a', [], NOW - 30 * MINUTE);
        await store.track([{ jobId: 'job-b' }, { jobId: 'job-c' }], NOW);
        await store.putState('z-after-the-jobs', [1], 0);

        expect(ids((await store.list({ limit: 10 })).items).sort()).toEqual(['job-a', 'job-b', 'job-c']);
        // Paged one at a time, so a page holding only state values in between must not end the listing.
        const paged = await collectPages((cursor) => store.list({ limit: 1, cursor }));
        expect(ids(paged.items).sort()).toEqual(['job-a', 'job-b', 'job-c']);
        const due = await store.listDue({ cycleStartedAt: NOW, now: NOW, limit: 10 });
        expect(ids(due.items).sort()).toEqual(['job-b', 'job-c']);
        expect(ids(await store.getMany(['job-a', 'job-b', 'watch:job-a'])).sort()).toEqual([
          'job-a',
          'job-b',
        ]);
        expect(await store.prune({ finishedBefore: NOW + MINUTE, includeDeadLettered: true })).toEqual({
          removed: 1,
          keptDeadLettered: 0,
        });
        expect(await store.untrack(['job-b', 'watch:job-a'])).toEqual(['job-b']);

        expect(await store.listStates('')).toEqual([
          { key: 'job-b', version: 1, value: 'named like a job' },
          { key: 'watch:job-a', version: 1, value: { cursor: 1 } },
          { key: 'z-after-the-jobs', version: 1, value: [1] },
        ]);
        expect(ids((await store.list({ limit: 10 })).items)).toEqual(['job-c']);
      });

      it('is not disturbed by tracking, updating and untracking jobs', async () => {
        await store.putState('watch:etl', { cursor: 'x' }, 0);
        await store.putState('watch:etl', { cursor: 'y' }, 1);

        await store.track([{ jobId: 'job-a' }, { jobId: 'job-b', startTime: NOW }], NOW);
        await putJob(store, 'job-a', { status: 'RUNNING', lastPolledAt: NOW });
        await store.untrack(['job-b']);

        expect(await store.getState('watch:etl')).toEqual({
          key: 'watch:etl',
          version: 2,
          value: { cursor: 'y' },
        });
        expect(await store.putState('watch:etl', { cursor: 'z' }, 2)).toBe(3);
        expect((await store.get('job-a'))?.status).toBe('RUNNING');
      });

      it('refuses a key that is not one, or a value JSON cannot hold, with nothing written', async () => {
        for (const key of ['has space', '', '~state:x', 'ü', 'a'.repeat(201), 'new\nline']) {
          await expect(store.putState(key, 1, 0), JSON.stringify(key)).rejects.toThrow(RangeError);
          await expect(store.getState(key), JSON.stringify(key)).rejects.toThrow(RangeError);
        }
        const longest = 'a'.repeat(200);
        expect(await store.putState(longest, 'fits', 0)).toBe(1);
        expect((await store.getState(longest))?.value).toBe('fits');
        await expect(store.putState('watch:etl', undefined, 0)).rejects.toThrow(TypeError);
        await expect(store.putState('watch:etl', 1, -1)).rejects.toThrow(RangeError);
        await expect(store.putState('watch:etl', 1, 1.5)).rejects.toThrow(RangeError);
        expect(await store.listStates('')).toEqual([{ key: longest, version: 1, value: 'fits' }]);
      });
    });
  });
}
