import { describe, expect, it } from 'vitest';
import type { KeySource, TerminalStatus } from '../lib/job.ts';
import {
  addRun,
  runEndedAt,
  runKey,
  STREAK_HISTORY_LENGTH,
  type StreakHistory,
  streakFacts,
} from '../lib/streak.ts';
import { sqlFingerprint } from '../lib/util/sql-fingerprint.ts';
import { statusResponse, trackedRecord } from './support/records.ts';

const KEY = 'tag:pipeline=nightly';

/** Adds runs in the order given, each ending at its index (or at `endedAt`), and returns the last history. */
function history(
  runs: [string, TerminalStatus, number?][],
  start: StreakHistory = { runs: [] },
): StreakHistory {
  let current = start;
  runs.forEach(([jobId, status, endedAt], index) => {
    current = addRun(current, KEY, { jobId, status, endedAt: endedAt ?? index }).history;
  });
  return current;
}

const failures = (h: StreakHistory) => h.runs.map((run) => `${run.jobId}:${run.failures}`);

describe('addRun', () => {
  it('counts failures in a row, ends the streak at a success, and lets a cancellation carry it', () => {
    const h = history([
      ['a', 'FAILED'],
      ['b', 'FAILED'],
      ['c', 'CANCELLED'],
      ['d', 'FAILED'],
      ['e', 'FINISHED'],
      ['f', 'FAILED'],
    ]);
    expect(failures(h)).toEqual(['a:1', 'b:2', 'c:2', 'd:3', 'e:0', 'f:1']);
    expect(h.runs[3]?.since).toBe(0);
    expect(h.runs[5]?.since).toBe(5);
  });

  it('places a run seen late by its end time and recounts the runs after it', () => {
    const h = history([
      ['a', 'FAILED', 10],
      ['c', 'FAILED', 30],
      ['b', 'FINISHED', 20],
    ]);
    expect(failures(h)).toEqual(['a:1', 'b:0', 'c:1']);
  });

  it('changes nothing when the same run is added again, and says where it was', () => {
    const before = history([
      ['a', 'FAILED'],
      ['b', 'FAILED'],
    ]);
    const again = addRun(before, KEY, { jobId: 'a', status: 'FAILED', endedAt: 0 });
    expect(again.history).toBe(before);
    expect(again.place.run.failures).toBe(1);
    expect(again.place.previous).toBeNull();
  });

  it(`keeps the last ${STREAK_HISTORY_LENGTH} runs, and their counts`, () => {
    const runs = Array.from({ length: STREAK_HISTORY_LENGTH + 10 }, (_, index): [string, TerminalStatus] => [
      `r${index}`,
      'FAILED',
    ]);
    const h = history(runs);
    expect(h.runs).toHaveLength(STREAK_HISTORY_LENGTH);
    expect(h.runs.at(-1)?.failures).toBe(STREAK_HISTORY_LENGTH + 10);
    expect(h.runs.at(-1)?.since).toBe(0);
  });
});

describe('streakFacts', () => {
  it('says which failure in a row a failure is, and how many failures a success ended', () => {
    const h = history([
      ['a', 'FAILED'],
      ['b', 'FAILED'],
    ]);
    const failed = addRun(h, KEY, { jobId: 'c', status: 'FAILED', endedAt: 9 }).place;
    expect(streakFacts(failed)).toEqual({ failed: { key: KEY, failures: 3, since: 0 } });
    const recovered = addRun(h, KEY, { jobId: 'c', status: 'FINISHED', endedAt: 9 }).place;
    expect(streakFacts(recovered)).toEqual({ recovered: { key: KEY, failures: 2, since: 0 } });
    const routine = addRun(history([['a', 'FINISHED']]), KEY, { jobId: 'b', status: 'FINISHED', endedAt: 9 });
    expect(streakFacts(routine.place)).toEqual({});
  });
});

describe('runKey', () => {
  const job = statusResponse('j1', 'FAILED', {
    tags: [{ key: 'pipeline', value: 'nightly' }],
    statement: "select * from t where dt = '2026-12-01'",
  });

  it('takes the key from a tag, a label or the SQL fingerprint, prefixed by where it came from', () => {
    const record = (keyFrom: KeySource) =>
      trackedRecord('j1', { keyFrom, labels: { pipeline: 'from-label' } });
    expect(runKey(record({ from: 'tag', name: 'pipeline' }), job)).toBe('tag:pipeline=nightly');
    expect(runKey(record({ from: 'label', name: 'pipeline' }), job)).toBe('label:pipeline=from-label');
    expect(runKey(record({ from: 'sql' }), job)).toBe(
      `sql:${sqlFingerprint("select * from t where dt = '2026-11-30'")}`,
    );
  });

  it('has no key when the record names no source or the job lacks what it names', () => {
    expect(runKey(trackedRecord('j1'), job)).toBeNull();
    expect(runKey(trackedRecord('j1', { keyFrom: { from: 'tag', name: 'team' } }), job)).toBeNull();
    expect(runKey(trackedRecord('j1', { keyFrom: { from: 'label', name: 'team' } }), job)).toBeNull();
    expect(runKey(trackedRecord('j1', { keyFrom: { from: 'sql' } }), { ...job, statement: '  ' })).toBeNull();
  });
});

describe('runEndedAt', () => {
  it('is DLI’s start time plus duration, or when the end was seen when DLI told neither', () => {
    expect(runEndedAt(statusResponse('j1', 'FAILED', { start_time: 1_000, duration: 500 }), 9_999)).toBe(
      1_500,
    );
    expect(runEndedAt({ job_id: 'j1', status: 'FAILED' }, 9_999)).toBe(9_999);
  });
});
