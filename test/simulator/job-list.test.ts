import { describe, expect, it } from 'vitest';
import {
  createJobListIndex,
  isListQueryProblem,
  type ListEntry,
  type ListedJob,
  type ListQuery,
  type ListView,
  listEntryOfRow,
  listPage,
  parseListQuery,
  selectPage,
} from '../../lib/simulator/job-list.ts';
import { createSeededRandom } from '../support/seeded-random.ts';

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

function query(params: Record<string, string | number> = {}): ListQuery {
  const parsed = parseListQuery(
    new URLSearchParams(Object.entries(params).map(([key, value]): [string, string] => [key, String(value)])),
  );
  if (isListQueryProblem(parsed)) throw new Error(parsed.message);
  return parsed;
}

type Entry = ListEntry & { row: ListedJob };

/** Rows as the simulator builds them, and the entries the index keeps for them. */
function randomRows(random: () => number, count: number): Entry[] {
  return Array.from({ length: count }, (_, index) => {
    const row: ListedJob = {
      job_id: `job-${Math.floor(random() * 1e6)}-${index}`,
      // Few distinct start times, so that ties are common.
      start_time: 1_000 + Math.floor(random() * 40) * 10,
      status: pick(random, ['RUNNING', 'FINISHED', 'FAILED']),
      duration: Math.floor(random() * 5) * 100,
      job_type: pick(random, ['QUERY', 'INSERT', 'DDL']),
      queue_name: pick(random, ['default', 'etl_daily']),
      owner: pick(random, ['alice', 'bob']),
      statement: pick(random, ['SELECT 1', 'SELECT * FROM Finance.Ledger', 'INSERT INTO t SELECT 2']),
      tags: pick(random, [[], [{ key: 'team', value: 'finance-eu' }], [{ key: 'team', value: 'data' }]]),
      ...(random() < 0.5 ? { database_name: 'sales', table_name: 'orders' } : {}),
    };
    return { ...listEntryOfRow(row), row };
  });
}

const VIEW: ListView<Entry> = {
  status: (entry) => entry.row.status,
  duration: (entry) => Number(entry.row.duration),
};

function randomQuery(random: () => number): ListQuery {
  const params: Record<string, string | number> = {
    'page-size': pick(random, [1, 3, 10, 100]),
    'current-page': 1 + Math.floor(random() * 4),
    order: pick(random, ['start_time_desc', 'start_time_asc', 'duration_desc', 'duration_asc']),
  };
  if (random() < 0.5) params.start = 1_000 + Math.floor(random() * 40) * 10;
  if (random() < 0.5) params.end = 1_000 + Math.floor(random() * 40) * 10;
  if (random() < 0.2) params['job-status'] = pick(random, ['RUNNING', 'FAILED']);
  if (random() < 0.2) params['job-type'] = pick(random, ['QUERY', 'ALL']);
  if (random() < 0.2) params.queue_name = 'etl_daily';
  if (random() < 0.2) params.owner = 'bob';
  if (random() < 0.2) params.sql_pattern = 'finance.LEDGER';
  if (random() < 0.2) params.tags = 'team=finance';
  if (random() < 0.1) params.db_name = 'sales';
  return query(params);
}

describe('the job list index', () => {
  it('answers every query as filtering and sorting all rows does, with inclusive and exclusive bounds', () => {
    const random = createSeededRandom(11);
    for (let round = 0; round < 20; round++) {
      const entries = randomRows(random, 1 + Math.floor(random() * 150));
      const index = createJobListIndex<Entry>();
      for (const entry of entries) index.set(entry);
      const rows = entries.map((entry) => entry.row);
      for (let attempt = 0; attempt < 40; attempt++) {
        const wanted = randomQuery(random);
        const boundsExclusive = random() < 0.5;
        const expected = listPage(rows, wanted, { boundsExclusive });
        const page = index.page(wanted, VIEW, { boundsExclusive });
        expect(page.jobCount).toBe(expected.jobCount);
        expect(page.entries.map((entry) => entry.jobId)).toEqual(expected.jobs.map((row) => row.job_id));
      }
    }
  });

  it('keeps its order through additions, replacements and removals after it was read', () => {
    const random = createSeededRandom(5);
    const entries = randomRows(random, 600);
    const index = createJobListIndex<Entry>();
    for (const entry of entries.slice(0, 100)) index.set(entry);
    const byOrder = (list: readonly Entry[]) =>
      [...list].sort((a, b) => a.startTime - b.startTime || (a.jobId < b.jobId ? -1 : 1)).map((e) => e.jobId);
    expect(index.sorted().map((entry) => entry.jobId)).toEqual(byOrder(entries.slice(0, 100)));

    // A few changes at a time are spliced in; several hundred at once are sorted afresh. Both must agree.
    const live = new Map(entries.slice(0, 100).map((entry) => [entry.jobId, entry]));
    for (const batch of [3, 1, 400, 50]) {
      for (let change = 0; change < batch; change++) {
        const roll = random();
        const known = [...live.values()];
        if (roll < 0.2 && known.length > 0) {
          const gone = pick(random, known);
          index.delete(gone.jobId);
          live.delete(gone.jobId);
        } else if (roll < 0.4 && known.length > 0) {
          const replaced = { ...pick(random, known), startTime: 1_000 + Math.floor(random() * 40) * 10 };
          index.set(replaced);
          live.set(replaced.jobId, replaced);
        } else {
          const added = pick(random, entries);
          index.set(added);
          live.set(added.jobId, added);
        }
      }
      expect(index.size).toBe(live.size);
      expect(index.sorted().map((entry) => entry.jobId)).toEqual(byOrder([...live.values()]));
    }
    index.delete('no-such-job');
    expect(index.size).toBe(live.size);
  });

  it('takes start and end as inclusive bounds by default, exclusive when asked; 0 means no bound', () => {
    const entries = [100, 200, 200, 300, 400].map((startTime, position) => {
      const row: ListedJob = { job_id: `j${position}`, start_time: startTime, status: 'RUNNING' };
      return { ...listEntryOfRow(row), row };
    });
    const ids = (params: Record<string, number>, boundsExclusive?: boolean) =>
      selectPage(entries, query({ order: 'start_time_asc', ...params }), VIEW, {
        boundsExclusive,
      }).entries.map((entry) => entry.jobId);
    expect(ids({ start: 200, end: 300 })).toEqual(['j1', 'j2', 'j3']);
    expect(ids({ start: 200, end: 300 }, true)).toEqual([]);
    expect(ids({ start: 100, end: 400 }, true)).toEqual(['j1', 'j2', 'j3']);
    expect(ids({ start: 0, end: 0 }, true)).toEqual(['j0', 'j1', 'j2', 'j3', 'j4']);
    expect(ids({ start: 400 })).toEqual(['j4']);
    expect(ids({ start: 401 })).toEqual([]);
    expect(ids({ end: 99 })).toEqual([]);
  });

  it('keeps jobs with the same start time in id order newest-first too, and skips jobs not listed yet', () => {
    const entries = [
      { id: 'a', startTime: 100 },
      { id: 'b', startTime: 200 },
      { id: 'c', startTime: 200 },
      { id: 'd', startTime: 300 },
    ].map(({ id, startTime }) => {
      const row: ListedJob = { job_id: id, start_time: startTime, status: 'RUNNING' };
      return { ...listEntryOfRow(row), row };
    });
    const page = selectPage(entries, query(), { ...VIEW, isListed: (entry) => entry.jobId !== 'd' });
    expect(page).toMatchObject({ jobCount: 3 });
    expect(page.entries.map((entry) => entry.jobId)).toEqual(['b', 'c', 'a']);
  });

  it('asks for a job status only under a job-status filter, and for durations only when ordering by them', () => {
    const random = createSeededRandom(3);
    const entries = createJobListIndex<Entry>();
    for (const entry of randomRows(random, 50)) entries.set(entry);
    const asked = { status: 0, duration: 0 };
    const counting: ListView<Entry> = {
      status: (entry) => {
        asked.status += 1;
        return entry.row.status;
      },
      duration: (entry) => {
        asked.duration += 1;
        return Number(entry.row.duration);
      },
    };
    entries.page(query({ order: 'start_time_asc', queue_name: 'etl_daily' }), counting);
    expect(asked).toEqual({ status: 0, duration: 0 });
    entries.page(query({ 'job-status': 'RUNNING' }), counting);
    expect(asked.status).toBe(50);
    entries.page(query({ order: 'duration_asc' }), counting);
    expect(asked.duration).toBe(50);
  });
});
