import { describe, expect, it } from 'vitest';
import { planStatusReads, sliceWindow } from '../../lib/cycle/status-plan.ts';

const MINUTE = 60_000;
const NOW = 1_750_000_000_000;

/** A project where `perMinute` jobs start every minute: the list's count of jobs from `start` to now. */
function steadyProject(perMinute: number) {
  const probes: number[] = [];
  return {
    probes,
    countFrom: async (start: number) => {
      probes.push(start);
      return Math.ceil(((NOW - start) / MINUTE) * perMinute);
    },
  };
}

describe('planStatusReads', () => {
  it('reads 10,000 active jobs of the last two hours from one window', async () => {
    const starts = Array.from({ length: 10_000 }, (_, index) => NOW - 120 * MINUTE + index * 720);
    const project = steadyProject(125);
    const plan = await planStatusReads(starts, project.countFrom);
    expect(plan).toMatchObject({ kind: 'window', start: starts[0], outside: 0 });
    // The window's pages and the probes stay far below one call per job.
    if (plan.kind !== 'window') throw new Error('expected a window');
    expect(Math.ceil(plan.rows / 100) + plan.probes).toBeLessThan(200);
  });

  it('leaves one job running for ten hours to its status call rather than scan ten hours of a busy project', async () => {
    const starts = [
      NOW - 600 * MINUTE,
      ...Array.from({ length: 500 }, (_, index) => NOW - 10 * MINUTE + index),
    ];
    const project = steadyProject(333);
    const plan = await planStatusReads(starts, project.countFrom);
    expect(plan).toMatchObject({ kind: 'window', outside: 1, start: starts[1] });
  });

  it('polls one by one when a window would cost more than the jobs', async () => {
    // Three jobs among 100,000 others an hour: any window holds far more than three calls' worth of pages.
    const starts = [NOW - 60 * MINUTE, NOW - 30 * MINUTE, NOW - MINUTE];
    const plan = await planStatusReads(starts, steadyProject(1_700).countFrom);
    expect(plan.kind).toBe('per-job');
    expect(plan.probes).toBeGreaterThan(0);
  });

  it('spends no request on a single job', async () => {
    const project = steadyProject(1);
    expect(await planStatusReads([NOW - MINUTE], project.countFrom)).toEqual({ kind: 'per-job', probes: 0 });
    expect(await planStatusReads([], project.countFrom)).toEqual({ kind: 'per-job', probes: 0 });
    expect(project.probes).toEqual([]);
  });

  it('stops probing once no narrower window can be cheaper', async () => {
    const starts = Array.from({ length: 1_000 }, (_, index) => NOW - 1_000 + index);
    const project = steadyProject(MINUTE);
    await planStatusReads(starts, project.countFrom);
    // The oldest job's window already holds just the jobs themselves: 10 pages. Leaving out 16 would cost more.
    expect(project.probes.length).toBeLessThanOrEqual(5);
  });
});

describe('sliceWindow', () => {
  it('covers the window without a gap, adjacent slices sharing their boundary', () => {
    const slices = sliceWindow(1_000, 2_001, 4);
    expect(slices).toHaveLength(4);
    expect(slices[0]?.start).toBe(1_000);
    expect(slices.at(-1)?.end).toBe(2_001);
    for (let index = 1; index < slices.length; index++) {
      expect(slices[index]?.start).toBe(slices[index - 1]?.end);
    }
  });

  it('never cuts a window into more slices than it has milliseconds', () => {
    expect(sliceWindow(5, 7, 8)).toEqual([
      { start: 5, end: 6 },
      { start: 6, end: 7 },
    ]);
    expect(sliceWindow(5, 5, 3)).toEqual([{ start: 5, end: 5 }]);
  });
});
