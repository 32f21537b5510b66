import { describe, expect, it } from 'vitest';
import { nextPollPosition, orderOneByOne } from '../../lib/cycle/poll-position.ts';
import { trackedRecord } from '../support/records.ts';

const polled = (jobId: string) => trackedRecord(jobId, { status: 'RUNNING', lastPolledAt: 5_000 });

describe('orderOneByOne', () => {
  it('puts never-polled jobs first, oldest tracked first, then the rest by id after the last one polled', () => {
    const records = [
      polled('d'),
      trackedRecord('z-new', { trackedAt: 2_000 }),
      polled('a'),
      polled('c'),
      trackedRecord('y-new', { trackedAt: 1_000 }),
      polled('b'),
    ];
    const ids = (list: { jobId: string }[]) => list.map(({ jobId }) => jobId);
    expect(ids(orderOneByOne(records, null))).toEqual(['y-new', 'z-new', 'a', 'b', 'c', 'd']);
    expect(ids(orderOneByOne(records, { after: 'b', roundStartedAt: 0 }))).toEqual([
      'y-new',
      'z-new',
      'c',
      'd',
      'a',
      'b',
    ]);
    // The job it stopped after may be gone (ended, untracked): the round goes on from where it would have been.
    expect(ids(orderOneByOne(records, { after: 'bb', roundStartedAt: 0 }))).toEqual([
      'y-new',
      'z-new',
      'c',
      'd',
      'a',
      'b',
    ]);
    expect(ids(orderOneByOne(records, { after: 'zz', roundStartedAt: 0 }))).toEqual([
      'y-new',
      'z-new',
      'a',
      'b',
      'c',
      'd',
    ]);
  });
});

describe('nextPollPosition', () => {
  const ordered = [trackedRecord('new'), polled('a'), polled('b'), polled('c')];

  it('closes the round when every job was polled', () => {
    expect(nextPollPosition(ordered, 4, { after: 'x', roundStartedAt: 10 }, 99)).toEqual({
      after: null,
      roundStartedAt: 99,
    });
  });

  it('keeps the round and remembers the last job polled when the cycle ran out of time', () => {
    expect(nextPollPosition(ordered, 3, null, 99)).toEqual({ after: 'b', roundStartedAt: 99 });
    expect(nextPollPosition(ordered, 3, { after: 'x', roundStartedAt: 10 }, 99)).toEqual({
      after: 'b',
      roundStartedAt: 10,
    });
    // Only never-polled jobs were reached: the round has not moved.
    expect(nextPollPosition(ordered, 1, { after: 'x', roundStartedAt: 10 }, 99)).toEqual({
      after: 'x',
      roundStartedAt: 10,
    });
  });
});
