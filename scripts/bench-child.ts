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
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Config } from '../lib/config.ts';
import { DEFAULT_CONSOLE_URL_TEMPLATE } from '../lib/config.ts';
import { createDliClient } from '../lib/dli/client.ts';
import { silentLog } from '../lib/log.ts';
import { SqliteStore } from '../lib/store/sqlite-store.ts';
import { createWatcher } from '../lib/watcher.ts';

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
}

/** What a child reports back: times in ms, memory in KB. */
export interface BenchChildResult {
  mode: 'tick' | 'floor';
  jobs: number;
  /** The measured part: the tick, or the floor's N requests. */
  elapsedMs: number;
  /** CPU time (user + system) this process spent in the measured part: less noisy than wall time. */
  cpuMs: number;
  /** Tick only: the one `store.track` call that tracks the N jobs. */
  trackMs: number | null;
  /** RSS just before the measured part started. */
  rssBeforeKb: number;
  /** High-water RSS of the whole child at its end (`process.resourceUsage().maxRSS`). */
  maxRssKb: number;
  /** High-water RSS just before the measured part started: if it equals `maxRssKb`, the peak was not in it. */
  maxRssBeforeKb: number;
  /** Requests that answered with a status (floor), or the tick's `polled`. */
  succeeded: number;
  failed: number;
  /** Tick only: the cycle's summary, as `dli-watch tick` would print it. */
  summary: unknown;
}

/** The id of the `index`-th benchmark job (1-based): the tick and the floor ask for the same ids. */
function benchJobId(index: number): string {
  return `bench-${String(index).padStart(6, '0')}`;
}

function readSpec(): BenchChildSpec {
  const raw = process.env.DLI_WATCH_BENCH_SPEC;
  if (!raw) throw new Error('DLI_WATCH_BENCH_SPEC is not set: run this through scripts/bench.ts');
  return JSON.parse(raw) as BenchChildSpec;
}

function cpuMsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

function rssKb(): number {
  return Math.round(process.memoryUsage().rss / 1024);
}

async function runTick(spec: BenchChildSpec): Promise<BenchChildResult> {
  const store = SqliteStore.open(join(spec.storeDirectory, 'state.db'));
  try {
    const requests = Array.from({ length: spec.jobs }, (_, index) => ({ jobId: benchJobId(index + 1) }));
    const trackStartedAt = performance.now();
    const tracked = await store.track(requests, Date.now());
    const trackMs = performance.now() - trackStartedAt;
    if (tracked.added !== spec.jobs) throw new Error(`tracked ${tracked.added} of ${spec.jobs} jobs`);
    requests.length = 0;

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
      },
      destinations: [],
      consoleUrlTemplate: DEFAULT_CONSOLE_URL_TEMPLATE,
    };
    const watcher = createWatcher(config, { store, log: silentLog });

    const rssBeforeKb = rssKb();
    const maxRssBeforeKb = process.resourceUsage().maxRSS;
    const cpuAtStart = process.cpuUsage();
    const startedAt = performance.now();
    const summary = await watcher.tick({ budgetMs: 10 * 60_000 });
    const elapsedMs = performance.now() - startedAt;
    const cpuMs = cpuMsSince(cpuAtStart);
    return {
      mode: 'tick',
      jobs: spec.jobs,
      elapsedMs,
      cpuMs,
      trackMs,
      rssBeforeKb,
      maxRssKb: process.resourceUsage().maxRSS,
      maxRssBeforeKb,
      succeeded: summary.polled,
      failed: summary.errors,
      summary,
    };
  } finally {
    await store.close();
  }
}

async function runFloor(spec: BenchChildSpec): Promise<BenchChildResult> {
  const client = createDliClient({
    endpoint: spec.dliUrl,
    projectId: spec.projectId,
    auth: { kind: 'aksk', accessKey: spec.accessKey, secretKey: spec.secretKey, securityToken: null },
    timeoutMs: 10_000,
    log: silentLog,
  });
  let nextIndex = 1;
  let succeeded = 0;
  let failed = 0;
  let firstFailure: string | null = null;
  async function worker(): Promise<void> {
    while (nextIndex <= spec.jobs) {
      const jobId = benchJobId(nextIndex);
      nextIndex += 1;
      try {
        const status = await client.getJobStatus(jobId);
        if (status.status === 'RUNNING') succeeded += 1;
        else throw new Error(`job ${jobId} answered ${status.status}, not RUNNING`);
      } catch (error) {
        failed += 1;
        firstFailure ??= error instanceof Error ? error.message : String(error);
      }
    }
  }

  const rssBeforeKb = rssKb();
  const maxRssBeforeKb = process.resourceUsage().maxRSS;
  const cpuAtStart = process.cpuUsage();
  const startedAt = performance.now();
  await Promise.all(Array.from({ length: spec.concurrency }, worker));
  const elapsedMs = performance.now() - startedAt;
  const cpuMs = cpuMsSince(cpuAtStart);
  return {
    mode: 'floor',
    jobs: spec.jobs,
    elapsedMs,
    cpuMs,
    trackMs: null,
    rssBeforeKb,
    maxRssKb: process.resourceUsage().maxRSS,
    maxRssBeforeKb,
    succeeded,
    failed,
    summary: firstFailure === null ? null : { first_failure: firstFailure },
  };
}

const mode = process.argv[2];
if (mode !== 'tick' && mode !== 'floor') {
  process.stderr.write('usage: node scripts/bench-child.ts tick|floor (spec in DLI_WATCH_BENCH_SPEC)\n');
  process.exit(2);
}
const spec = readSpec();
const result = mode === 'tick' ? await runTick(spec) : await runFloor(spec);
process.stdout.write(`${JSON.stringify(result)}\n`);
