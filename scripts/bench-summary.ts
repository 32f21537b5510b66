/**
 * `npm run bench:summary [-- --jobs 30000] [--runs 5]`
 *
 * What raising a daily summary costs the cycle that raises it: it reads every stored job once. N jobs in a SQLite
 * store (four in five ended yesterday, each with 2 KB of SQL; one in five still running past its threshold), and two
 * variants, alternated, each run in a process of its own so that its peak RSS is its own: the floor, reading every
 * record a page at a time and nothing else, and the summary (`raiseDailySummaries` for one destination, its record
 * removed afterwards so the next run raises it again). Medians of wall time, CPU time (user + system) and peak RSS.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { CycleRun } from '../lib/cycle/cycle-run.ts';
import { raiseDailySummaries } from '../lib/cycle/daily-summaries.ts';
import { summaryRecordId } from '../lib/daily-summary.ts';
import type { JobRecord } from '../lib/job.ts';
import { createWebhookDestination } from '../lib/notify/destination.ts';
import { SqliteStore } from '../lib/store/sqlite-store.ts';
import { systemClock } from '../lib/util/clock.ts';
import { silentLog } from '../lib/util/log.ts';
import { commandLine, machineDescription, median } from './bench-common.ts';

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    jobs: { type: 'string', default: '30000' },
    runs: { type: 'string', default: '5' },
    // How the parent runs one variant in a child process on its store.
    variant: { type: 'string' },
    db: { type: 'string' },
  },
});
const jobs = Number(values.jobs);
const runs = Number(values.runs);
if (![jobs, runs].every((value) => Number.isInteger(value) && value > 0)) {
  process.stderr.write('usage: npm run bench:summary -- [--jobs N] [--runs R]\n');
  process.exit(2);
}

const HOUR = 3_600_000;
const now = Date.now();
const destination = createWebhookDestination({
  name: 'bench',
  url: 'https://example.com/hook',
  // Owed from midnight UTC: yesterday's summary is due whenever this runs.
  summary: { atMinute: 0, timeZone: 'UTC' },
});
const yesterday = new Date(now - 24 * HOUR).toISOString().slice(0, 10);
const endedAt = Date.parse(`${yesterday}T12:00:00Z`);

function storedJob(index: number): JobRecord {
  const jobId = `bench-${String(index).padStart(6, '0')}`;
  const base: JobRecord = {
    jobId,
    version: 1,
    phase: 'active',
    status: 'RUNNING',
    labels: { team: 'bench' },
    notFoundCount: 0,
    trackedAt: now - 30 * HOUR,
    startTime: now - 3 * HOUR,
    lastPolledAt: now - HOUR,
    statusChangedAt: now - 3 * HOUR,
    warnAfterMs: 2 * HOUR,
    keyFrom: null,
    event: null,
    notices: [],
    deliveries: [],
  };
  if (index % 5 === 0) return base;
  const status = index % 7 === 0 ? 'FAILED' : 'FINISHED';
  const durationMs = (index % 600) * 1000;
  return {
    ...base,
    phase: 'terminal',
    status,
    startTime: endedAt - durationMs,
    lastPolledAt: endedAt + 60_000,
    event: {
      id: `evt-${jobId}`,
      type: status,
      status,
      previousStatus: 'RUNNING',
      occurredAt: endedAt + 60_000,
      projectId: 'bench',
      labels: { team: 'bench' },
      job: {
        job_id: jobId,
        status,
        queue_name: `queue-${index % 30}`,
        owner: 'bench',
        start_time: endedAt - durationMs,
        duration: durationMs,
        statement: `select * from t where id = ${index} -- ${'x'.repeat(2000)}`,
      },
      routedTo: [],
    },
  };
}

type Variant = 'floor' | 'summary';

/** Runs one variant on the store at `path`: what a child process does. */
async function runVariant(variant: Variant, path: string): Promise<void> {
  const store = SqliteStore.open(path);
  try {
    const cpuBefore = process.cpuUsage();
    const wallBefore = performance.now();
    if (variant === 'floor') {
      let cursor: string | null = null;
      let read = 0;
      do {
        const page = await store.list({ limit: 100, cursor });
        read += page.items.length;
        cursor = page.cursor;
      } while (cursor);
      if (read !== jobs) throw new Error(`read ${read} of ${jobs} records`);
    } else {
      const startedAt = systemClock.now();
      const run: CycleRun = {
        store,
        log: silentLog,
        clock: systemClock,
        startedAt,
        deadline: startedAt + 600_000,
        pageSize: 100,
        lease: startedAt + 700_000,
      };
      const raised = await raiseDailySummaries(
        run,
        { destinations: [destination], projectId: 'bench', warnAfterMs: null },
        {},
      );
      if (raised !== 1) throw new Error('the summary was not raised');
    }
    const wall = performance.now() - wallBefore;
    const cpu = process.cpuUsage(cpuBefore);
    if (variant === 'summary') await store.untrack([summaryRecordId(destination.name, yesterday)]);
    process.stdout.write(
      `${JSON.stringify({ wall, cpu: (cpu.user + cpu.system) / 1000, rss: process.resourceUsage().maxRSS / 1024 })}\n`,
    );
  } finally {
    await store.close();
  }
}

if (values.variant !== undefined && values.db !== undefined) {
  await runVariant(values.variant as Variant, values.db);
  process.exit(0);
}

const directory = await mkdtemp(join(tmpdir(), 'dli-watch-bench-summary-'));
const path = join(directory, 'state.db');
try {
  const seeding = SqliteStore.open(path);
  try {
    for (let index = 0; index < jobs; index += 1) await seeding.create(storedJob(index));
  } finally {
    await seeding.close();
  }
  const figures: Record<Variant, { wall: number[]; cpu: number[]; rss: number[] }> = {
    floor: { wall: [], cpu: [], rss: [] },
    summary: { wall: [], cpu: [], rss: [] },
  };
  const self = new URL(import.meta.url).pathname;
  for (let round = 0; round < runs; round += 1) {
    // Alternated, so that the machine's drift during the run falls on both alike.
    for (const variant of round % 2 === 0
      ? (['floor', 'summary'] as const)
      : (['summary', 'floor'] as const)) {
      const output = execFileSync(
        process.execPath,
        [self, '--jobs', String(jobs), '--variant', variant, '--db', path],
        { encoding: 'utf8' },
      );
      const measured = JSON.parse(output) as { wall: number; cpu: number; rss: number };
      figures[variant].wall.push(measured.wall);
      figures[variant].cpu.push(measured.cpu);
      figures[variant].rss.push(measured.rss);
    }
  }
  const line = (variant: Variant) =>
    `${variant.padEnd(8)} wall ${median(figures[variant].wall).toFixed(0)} ms, ` +
    `cpu ${median(figures[variant].cpu).toFixed(0)} ms, peak RSS ${median(figures[variant].rss).toFixed(1)} MB`;
  const ratio = (of: 'wall' | 'cpu') => (median(figures.summary[of]) / median(figures.floor[of])).toFixed(2);
  const machine = machineDescription();
  process.stdout.write(
    `daily summary over ${jobs} stored jobs, medians of ${runs} alternated runs, one process each\n` +
      `${line('floor')}\n${line('summary')}\n` +
      `summary / floor: wall ${ratio('wall')}, cpu ${ratio('cpu')}, peak RSS +` +
      `${(median(figures.summary.rss) - median(figures.floor.rss)).toFixed(1)} MB\n` +
      `machine: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}\n` +
      `command: ${commandLine('bench:summary', 'scripts/bench-summary.ts', process.argv.slice(2))}\n`,
  );
} finally {
  await rm(directory, { recursive: true, force: true });
}
