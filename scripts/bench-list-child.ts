/**
 * The watcher side of `npm run bench -- --scenario list` (scripts/bench-list.ts): one run of cycles against the
 * parent's simulator, on a SQLite store of its own, counting store calls; in a process of its own, so that its
 * peak RSS is the watcher's. Talks to the parent over IPC: the parent moves the project's clock before each cycle.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWatcher } from '../lib/run/watcher.ts';
import type { JobStore } from '../lib/store/job-store.ts';
import { SqliteStore } from '../lib/store/sqlite-store.ts';
import type { Clock } from '../lib/util/clock.ts';
import { createStderrLog } from '../lib/util/log.ts';
import type { Watch } from '../lib/watch.ts';
import { type StoreMethod, wrapStoreCalls } from './bench-common.ts';

/** One measured cycle. */
export interface CycleFigures {
  listCalls: number;
  statusCalls: number;
  storeReads: number;
  storeWrites: number;
  transitions: number;
  deliveries: number;
  discovered: number;
  polled: number;
  deferred: boolean;
  wallMs: number;
  cpuMs: number;
}

export interface ChildSpec {
  endpoint: string;
  projectId: string;
  accessKey: string;
  plan: 'auto' | 'per-job';
  cycles: number;
  /** Jobs tracked before the first cycle, with the start times an earlier poll would have stored. */
  tracked: { jobId: string; startTime: number }[];
  watches: Watch[];
  trackedAt: number;
}

export type ParentMessage =
  | { type: 'start'; spec: ChildSpec }
  | { type: 'go'; offset: number }
  | { type: 'ok' };

export type ChildMessage =
  | { type: 'before'; cycle: number }
  | { type: 'after'; cycle: number; figures: Omit<CycleFigures, 'listCalls' | 'statusCalls'> }
  | { type: 'done'; peakRssMb: number };

/** Store calls that change something; every other one only reads. */
const WRITES: ReadonlySet<StoreMethod> = new Set(['track', 'untrack', 'update', 'putState']);

/** The store with its calls counted: reads and writes, as a cycle makes them. */
function countingStore(store: JobStore, counts: { reads: number; writes: number }): JobStore {
  return wrapStoreCalls(store, (name, call) => {
    const kind = WRITES.has(name) ? 'writes' : 'reads';
    return (...args) => {
      counts[kind]++;
      return call(...args);
    };
  });
}

const messages: ParentMessage[] = [];
const waiting: ((message: ParentMessage) => void)[] = [];
process.on('message', (message: ParentMessage) => {
  const next = waiting.shift();
  if (next) next(message);
  else messages.push(message);
});

function receive(): Promise<ParentMessage> {
  const queued = messages.shift();
  if (queued) return Promise.resolve(queued);
  return new Promise((resolve) => waiting.push(resolve));
}

function send(message: ChildMessage): void {
  process.send?.(message);
}

async function run(spec: ChildSpec): Promise<void> {
  let offset = 0;
  const clock: Clock = {
    now: () => Date.now() + offset,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
  const directory = await mkdtemp(join(tmpdir(), 'dli-watch-bench-list-'));
  const sqlite = SqliteStore.open(join(directory, 'state.db'));
  const counts = { reads: 0, writes: 0 };
  try {
    if (spec.tracked.length > 0) await sqlite.track(spec.tracked, spec.trackedAt);
    const log = createStderrLog({ level: 'error', write: (line) => process.stderr.write(line) });
    const watcher = createWatcher(
      {
        dli: {
          region: 'cn-north-4',
          projectId: spec.projectId,
          endpoint: spec.endpoint,
          auth: {
            kind: 'aksk',
            accessKey: spec.accessKey,
            secretKey: process.env.DLI_WATCH_BENCH_SECRET ?? '',
            securityToken: null,
          },
          timeoutMs: 10_000,
          concurrency: 8,
          maxRequestsPerSecond: 100,
          statusPlan: spec.plan,
        },
        destinations: [],
        watches: spec.watches,
        consoleUrlTemplate: 'https://console.example/{job_id}',
      },
      { store: countingStore(sqlite, counts), log, clock },
    );
    // Cycle 0 is not measured: tracked jobs get their first status, a watch its cursor.
    for (let cycle = 0; cycle <= spec.cycles; cycle++) {
      send({ type: 'before', cycle });
      const go = await receive();
      if (go.type !== 'go') throw new Error(`expected go, got ${go.type}`);
      offset = go.offset;
      const before = {
        reads: counts.reads,
        writes: counts.writes,
        cpu: process.cpuUsage(),
        wall: performance.now(),
      };
      const summary = await watcher.tick({ budgetMs: 50_000 });
      const cpu = process.cpuUsage(before.cpu);
      send({
        type: 'after',
        cycle,
        figures: {
          storeReads: counts.reads - before.reads,
          storeWrites: counts.writes - before.writes,
          transitions: summary.changed,
          deliveries: summary.notified + summary.delivery_failures,
          discovered: summary.discovered,
          polled: summary.polled,
          deferred: summary.deferred,
          wallMs: performance.now() - before.wall,
          cpuMs: (cpu.user + cpu.system) / 1000,
        },
      });
      await receive();
    }
    send({ type: 'done', peakRssMb: process.resourceUsage().maxRSS / 1024 });
  } finally {
    await sqlite.close();
    await rm(directory, { recursive: true, force: true });
  }
}

const start = await receive();
if (start.type !== 'start') throw new Error(`expected start, got ${start.type}`);
await run(start.spec);
process.disconnect?.();
