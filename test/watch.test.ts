import { describe, expect, it } from 'vitest';
import {
  createWatch,
  type Watch,
  watchLabels,
  watchListFilter,
  watchMatches,
  watchStartsAt,
} from '../lib/watch.ts';

function watch(options: Partial<Watch>): Watch {
  return createWatch(options.name ?? 'w', options);
}

const job = {
  queue_name: 'etl_daily',
  owner: 'fin_alice',
  job_type: 'INSERT',
  statement: 'INSERT INTO finance.Ledger SELECT * FROM staging',
  tags: [{ key: 'team', value: 'finance' }],
};

describe('watchMatches', () => {
  it('watches the whole project without a filter', () => {
    expect(watchMatches(watch({}), {})).toBe(true);
  });

  it('needs every filter that is set to match, each with * wildcards', () => {
    expect(
      watchMatches(watch({ queues: ['etl_*'], owners: ['fin_*'], jobTypes: ['INSERT', 'QUERY'] }), job),
    ).toBe(true);
    expect(watchMatches(watch({ queues: ['bi_*'] }), job)).toBe(false);
    expect(watchMatches(watch({ queues: ['etl_*'], owners: ['bi_*'] }), job)).toBe(false);
    expect(watchMatches(watch({ jobTypes: ['QUERY'] }), job)).toBe(false);
  });

  it('matches tags exactly as key=value (DLI matches them fuzzily)', () => {
    expect(watchMatches(watch({ tags: ['team=finance'] }), job)).toBe(true);
    expect(watchMatches(watch({ tags: ['team=fin'] }), job)).toBe(false);
    expect(watchMatches(watch({ tags: ['tea=finance'] }), job)).toBe(false);
    expect(watchMatches(watch({ tags: ['team=fin*'] }), job)).toBe(true);
    expect(watchMatches(watch({ tags: ['team=finance'] }), { ...job, tags: undefined })).toBe(false);
  });

  it('finds sql_pattern anywhere in the statement, ignoring case, with wildcards', () => {
    expect(watchMatches(watch({ sqlPattern: 'insert into finance.ledger' }), job)).toBe(true);
    expect(watchMatches(watch({ sqlPattern: 'INSERT INTO *ledger' }), job)).toBe(true);
    expect(watchMatches(watch({ sqlPattern: 'ledger select' }), job)).toBe(true);
    expect(watchMatches(watch({ sqlPattern: 'delete' }), job)).toBe(false);
    expect(watchMatches(watch({ sqlPattern: 'insert' }), { ...job, statement: undefined })).toBe(false);
  });
});

describe('watchListFilter', () => {
  it("uses the list's filters only where they narrow exactly: one entry, no wildcard", () => {
    expect(
      watchListFilter(watch({ queues: ['etl_daily'], owners: ['alice'], jobTypes: ['INSERT'] })),
    ).toEqual({
      queue: 'etl_daily',
      owner: 'alice',
      jobType: 'INSERT',
    });
    expect(watchListFilter(watch({ queues: ['etl_*'], owners: ['a', 'b'], tags: ['team=x'] }))).toEqual({});
  });
});

describe('watchLabels and watchStartsAt', () => {
  it("labels a found job with the watch's labels and its name", () => {
    expect(watchLabels(watch({ name: 'etl', labels: { team: 'data' } }))).toEqual({
      team: 'data',
      watch: 'etl',
    });
  });

  it('starts at the first cycle, or where since says', () => {
    expect(watchStartsAt(watch({}), 10_000)).toBe(10_000);
    expect(watchStartsAt(watch({ since: { kind: 'before-first-cycle', ms: 4_000 } }), 10_000)).toBe(6_000);
    expect(watchStartsAt(watch({ since: { kind: 'at', at: 1_234 } }), 10_000)).toBe(1_234);
  });
});
