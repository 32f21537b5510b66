/**
 * One measured side of `npm run bench`, run in a process of its own so its peak RSS is its own:
 *
 * - `node scripts/bench-child.ts tick`: what `dli-watch tick` does — opens a SQLite store, tracks N jobs in one
 *   call, builds the watcher exactly as the CLI does and runs one cycle, timing only the cycle;
 * - `node scripts/bench-child.ts floor`: the practical floor — the bare DLI client making the same N signed
 *   requests through a plain pool of workers, with no store and no cycle.
 *
 * The parent (scripts/bench.ts) passes the simulator's URL and credentials in `DLI_WATCH_BENCH_SPEC` (JSON) and
 * reads one JSON line back from stdout. Nothing else is written to stdout.
 */

import { Agent, request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import type { Config } from '../lib/config/config.ts';
import { createDliClient } from '../lib/dli/client.ts';
import { signRequest } from '../lib/dli/signer.ts';
import { DEFAULT_CONSOLE_URL_TEMPLATE } from '../lib/notify/render/job-facts.ts';
import { createWatcher } from '../lib/run/watcher.ts';
import type { JobStore } from '../lib/store/job-store.ts';
import { SqliteStore } from '../lib/store/sqlite-store.ts';
import { silentLog } from '../lib/util/log.ts';
import { wrapStoreCalls } from './bench-common.ts';

/**
 * What a child measures: `tick`, one cycle over N tracked jobs; `floor`, the project's DLI client making the same N
 * requests; `raw`, signed `node:http` GETs on keep-alive sockets and nothing else, the lowest a request can cost.
 */
export type BenchMode = 'tick' | 'floor' | 'raw';

/** What the parent tells a child to measure. */
export interface BenchChildSpec {
  dliUrl: string;
  projectId: string;
  accessKey: string;
  secretKey: string;
  jobs: number;
  concurrency: number;
  /** A fresh directory for the tick's store; the parent removes it. */
  storeDirectory: string;
  /** Also count GC pauses and (tick) the time spent inside store calls. Off by default: it is not what the CLI runs. */
  breakdown: boolean;
}

/** Where the measured part's time went, when {@link BenchChildSpec.breakdown} asked for it. */
export interface BenchBreakdown {
  /** Sum of GC pauses. */
  gcMs: number;
  /** Tick only: time inside each store method, by method (SQLite calls block the event loop while they run). */
  store: Record<string, { calls: number; ms: number }> | null;
}

/** What a child reports back: times in ms, memory in KB. */
export interface BenchChildResult {
  mode: BenchMode;
  jobs: number;
  /** The measured part: the tick, or the floor's N requests. */
  elapsedMs: number;
  /** CPU time (user + system) this process spent in the measured part: less noisy than wall time. */
  cpuMs: number;
  /** Share of the measured part the event loop was busy, 0–1: near 1 means CPU-bound, not latency-bound. */
  eventLoopUtilization: number;
  /** Tick only: the one `store.track` call that tracks the N jobs. */
  trackMs: number | null;
  /** RSS just before the measured part started. */
  rssBeforeKb: number;
  /** High-water RSS of the whole child at its end (`process.resourceUsage().maxRSS`). */
  maxRssKb: number;
  /** High-water RSS just before the measured part started: if it equals `maxRssKb`, the peak was not in it. */
  maxRssBeforeKb: number;
  /** Requests that answered RUNNING (floor), or the tick's `polled`. */
  succeeded: number;
  failed: number;
  /** Tick: the cycle's summary, as `dli-watch tick` would print it. Floor: the first failure, if any. */
  summary: unknown;
  breakdown: BenchBreakdown | null;
}

type Measured = Pick<
  BenchChildResult,
  'elapsedMs' | 'cpuMs' | 'eventLoopUtilization' | 'rssBeforeKb' | 'maxRssKb' | 'maxRssBeforeKb'
> & { gcMs: number | null };

/** The id of the `index`-th benchmark job (1-based): the tick and the floor ask for the same ids. */
function benchJobId(index: number): string {
  return `bench-${String(index).padStart(6, '0')}`;
}

function readSpec(): BenchChildSpec {
  const raw = process.env.DLI_WATCH_BENCH_SPEC;
  if (!raw) throw new Error('DLI_WATCH_BENCH_SPEC is not set: run this through scripts/bench.ts');
  return JSON.parse(raw) as BenchChildSpec;
}

/** Runs `work` and records its wall time, CPU time, event-loop utilisation, RSS and (optionally) GC pauses. */
async function measure<T>(
  countGc: boolean,
  work: () => Promise<T>,
): Promise<{ value: T; measured: Measured }> {
  let gcMs = 0;
  const gcObserver = countGc
    ? new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) gcMs += entry.duration;
      })
    : null;
  gcObserver?.observe({ entryTypes: ['gc'] });
  const rssBeforeKb = Math.round(process.memoryUsage().rss / 1024);
  const maxRssBeforeKb = process.resourceUsage().maxRSS;
  const cpuAtStart = process.cpuUsage();
  const loopAtStart = performance.eventLoopUtilization();
  const startedAt = performance.now();
  const value = await work();
  const elapsedMs = performance.now() - startedAt;
  const loop = performance.eventLoopUtilization(loopAtStart);
  const cpu = process.cpuUsage(cpuAtStart);
  const maxRssKb = process.resourceUsage().maxRSS;
  if (gcObserver) {
    // GC entries are delivered asynchronously: let the last ones in before reading the sum.
    await new Promise((resolve) => setImmediate(resolve));
    gcObserver.disconnect();
  }
  return {
    value,
    measured: {
      elapsedMs,
      cpuMs: (cpu.user + cpu.system) / 1000,
      eventLoopUtilization: loop.utilization,
      rssBeforeKb,
      maxRssKb,
      maxRssBeforeKb,
      gcMs: gcObserver ? gcMs : null,
    },
  };
}

/**
 * The store with a stopwatch on each method. SqliteStore does all its work synchronously before its promise
 * is returned, so timing the call itself (not the await) is exactly the time the event loop spent in SQLite.
 */
function timedStore(store: JobStore, timings: Record<string, { calls: number; ms: number }>): JobStore {
  return wrapStoreCalls(store, (name, call) => {
    const timing = { calls: 0, ms: 0 };
    timings[name] = timing;
    return (...args) => {
      const startedAt = performance.now();
      const result = call(...args);
      timing.ms += performance.now() - startedAt;
      timing.calls += 1;
      return result;
    };
  });
}

async function runTick(spec: BenchChildSpec): Promise<BenchChildResult> {
  const sqliteStore = SqliteStore.open(join(spec.storeDirectory, 'state.db'));
  try {
    const requests = Array.from({ length: spec.jobs }, (_, index) => ({ jobId: benchJobId(index + 1) }));
    const trackStartedAt = performance.now();
    const tracked = await sqliteStore.track(requests, Date.now());
    const trackMs = performance.now() - trackStartedAt;
    if (tracked.added !== spec.jobs) throw new Error(`tracked ${tracked.added} of ${spec.jobs} jobs`);
    requests.length = 0;

    const storeTimings: Record<string, { calls: number; ms: number }> = {};
    const store = spec.breakdown ? timedStore(sqliteStore, storeTimings) : sqliteStore;
    const config: Pick<Config, 'dli' | 'destinations' | 'consoleUrlTemplate'> = {
      dli: {
        region: 'cn-north-4',
        projectId: spec.projectId,
        endpoint: spec.dliUrl,
        auth: { kind: 'aksk', accessKey: spec.accessKey, secretKey: spec.secretKey, securityToken: null },
        timeoutMs: 10_000,
        concurrency: spec.concurrency,
        // Out of the way on purpose: at the default 100/s the tick would take N / 100 s and measure the limiter.
        maxRequestsPerSecond: 100_000,
        // This benchmark measures one status call per job.
        statusPlan: 'per-job',
      },
      destinations: [],
      consoleUrlTemplate: DEFAULT_CONSOLE_URL_TEMPLATE,
    };
    const watcher = createWatcher(config, { store, log: silentLog });

    const { value: summary, measured } = await measure(spec.breakdown, () =>
      watcher.tick({ budgetMs: 10 * 60_000 }),
    );
    const { gcMs, ...times } = measured;
    const calledMethods = Object.entries(storeTimings).filter(([, timing]) => timing.calls > 0);
    return {
      mode: 'tick',
      jobs: spec.jobs,
      ...times,
      trackMs,
      succeeded: summary.polled,
      failed: summary.errors,
      summary,
      breakdown: gcMs === null ? null : { gcMs, store: Object.fromEntries(calledMethods) },
    };
  } finally {
    await sqliteStore.close();
  }
}

/**
 * The N status requests a floor makes, `spec.concurrency` at a time, each answered RUNNING or counted as failed:
 * `statusOf` is the floor's own way of asking DLI for one job's status.
 */
async function runRequests(
  spec: BenchChildSpec,
  mode: 'floor' | 'raw',
  statusOf: (jobId: string) => Promise<string | undefined>,
): Promise<BenchChildResult> {
  let nextIndex = 1;
  let succeeded = 0;
  let failed = 0;
  let firstFailure: string | null = null;
  async function worker(): Promise<void> {
    while (nextIndex <= spec.jobs) {
      const jobId = benchJobId(nextIndex);
      nextIndex += 1;
      try {
        const status = await statusOf(jobId);
        if (status === 'RUNNING') succeeded += 1;
        else throw new Error(`job ${jobId} answered ${status}, not RUNNING`);
      } catch (error) {
        failed += 1;
        firstFailure ??= error instanceof Error ? error.message : String(error);
      }
    }
  }
  const { measured } = await measure(spec.breakdown, () =>
    Promise.all(Array.from({ length: spec.concurrency }, worker)),
  );
  const { gcMs, ...times } = measured;
  return {
    mode,
    jobs: spec.jobs,
    ...times,
    trackMs: null,
    succeeded,
    failed,
    summary: firstFailure === null ? null : { first_failure: firstFailure },
    breakdown: gcMs === null ? null : { gcMs, store: null },
  };
}

/** The project's own DLI client, with nothing around it. */
function runFloor(spec: BenchChildSpec): Promise<BenchChildResult> {
  const client = createDliClient({
    endpoint: spec.dliUrl,
    projectId: spec.projectId,
    auth: { kind: 'aksk', accessKey: spec.accessKey, secretKey: spec.secretKey, securityToken: null },
    timeoutMs: 10_000,
    log: silentLog,
  });
  return runRequests(spec, 'floor', async (jobId) => (await client.getJobStatus(jobId)).status);
}

/** The raw floor: each request signed (as DLI needs) and sent on a keep-alive socket, the answer parsed. */
async function runRaw(spec: BenchChildSpec): Promise<BenchChildResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: spec.concurrency });
  const origin = new URL(spec.dliUrl);
  const credentials = { accessKey: spec.accessKey, secretKey: spec.secretKey };
  const get = (path: string) =>
    new Promise<string>((resolveGet, reject) => {
      const url = new URL(path, origin);
      const headers = signRequest(
        {
          method: 'GET',
          url,
          headers: { 'content-type': 'application/json', 'x-project-id': spec.projectId },
        },
        credentials,
        new Date(),
      );
      const request = httpRequest(url, { method: 'GET', headers, agent }, (response) => {
        let body = '';
        response.setEncoding('utf8').on('data', (chunk: string) => {
          body += chunk;
        });
        response.on('end', () => resolveGet(body));
        response.on('error', reject);
      });
      request.on('error', reject);
      request.end();
    });
  try {
    return await runRequests(spec, 'raw', async (jobId) => {
      const answer = JSON.parse(await get(`/v1.0/${spec.projectId}/jobs/${jobId}/status`)) as {
        status?: string;
      };
      return answer.status;
    });
  } finally {
    agent.destroy();
  }
}

const mode = process.argv[2];
if (mode !== 'tick' && mode !== 'floor' && mode !== 'raw') {
  process.stderr.write('usage: node scripts/bench-child.ts tick|floor|raw (spec in DLI_WATCH_BENCH_SPEC)\n');
  process.exit(2);
}
const spec = readSpec();
const result =
  mode === 'tick' ? await runTick(spec) : mode === 'floor' ? await runFloor(spec) : await runRaw(spec);
process.stdout.write(`${JSON.stringify(result)}\n`);
