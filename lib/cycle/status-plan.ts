/**
 * How a cycle reads the statuses of its active jobs: one status call per job, or a scan of the job list's window
 * that holds them (100 statuses a request), with status calls for the jobs the window leaves out. Pure: the job
 * list's counts come in through a function.
 */
import { LIST_PAGE_SIZE } from '../dli/window-scan.ts';

export type StatusPlan =
  | { kind: 'per-job'; probes: number }
  | {
      kind: 'window';
      /** Epoch ms: the window begins at the start time of the oldest job it is to cover. */
      start: number;
      /** How many of the oldest jobs it leaves to status calls (they started before `start`). */
      outside: number;
      /** The jobs DLI lists in the window, by the probe: what the scan will read. */
      rows: number;
      /** Requests spent finding out. */
      probes: number;
    };

/** List pages a window of `rows` jobs costs. */
function pages(rows: number): number {
  return Math.max(1, Math.ceil(rows / LIST_PAGE_SIZE));
}

/**
 * Chooses the plan that costs fewer DLI requests, given the start times of the active jobs whose start is known,
 * oldest first. A window from the `i`-th oldest job costs its list pages plus one status call for each of the `i`
 * jobs before it; one status call per job costs one each. The window's size comes from `countFrom(start)` (the
 * list's `job_count` for one small request), probed from the oldest job and then from the 2nd, 3rd, 5th, 9th…
 * oldest while a narrower window could still be cheaper: so one job running for ten hours on a busy project is
 * left to its status call instead of making every scan read ten hours of jobs.
 *
 * Jobs whose start time is not known yet need a status call either way and do not count.
 */
export async function planStatusReads(
  startTimes: readonly number[],
  countFrom: (start: number) => Promise<number>,
): Promise<StatusPlan> {
  const jobs = startTimes.length;
  // One job: its status call is as cheap as any window.
  if (jobs < 2) return { kind: 'per-job', probes: 0 };
  let probes = 0;
  let best: { outside: number; rows: number; cost: number } | null = null;
  for (let outside = 0; outside < jobs; outside = outside === 0 ? 1 : outside * 2) {
    // No window from here on can beat the best: it holds at least the jobs it covers, and each job left out
    // costs a call.
    const leastCost = outside + pages(jobs - outside);
    if (best !== null && leastCost >= best.cost) break;
    if (leastCost >= jobs) break;
    const start = startTimes[outside] as number;
    const rows = await countFrom(start);
    probes += 1;
    const cost = outside + pages(rows);
    if (best === null || cost < best.cost) best = { outside, rows, cost };
  }
  if (best === null || best.cost >= jobs) return { kind: 'per-job', probes };
  return {
    kind: 'window',
    start: startTimes[best.outside] as number,
    outside: best.outside,
    rows: best.rows,
    probes,
  };
}

/**
 * Splits `[start, end]` into `slices` spans of equal length, each to be scanned on its own and at once: adjacent
 * spans share their boundary instant, and the scan de-duplicates by job id.
 */
export function sliceWindow(start: number, end: number, slices: number): { start: number; end: number }[] {
  const count = Math.max(1, Math.min(slices, end - start));
  const span = (end - start) / count;
  return Array.from({ length: count }, (_, index) => ({
    start: Math.floor(start + index * span),
    end: index === count - 1 ? end : Math.floor(start + (index + 1) * span),
  }));
}
