/**
 * `npm run bench:capacity [-- --jobs 8000] [--budget 48] [--rps 100] [--concurrency 8]`
 *
 * How many jobs one cycle polls with the default settings: N running jobs on a DLI simulator answering after 25 ms,
 * one tick with the budget a one-minute `run` gives (48 s; the Lambda gives at most 50 s), under the request cap.
 * Polling stops starting jobs when a quarter of the budget (at most 15 s) is left, for sending.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_CONCURRENCY, DEFAULT_MAX_RPS } from '../lib/config/dli-settings.ts';
import { DEFAULT_CONSOLE_URL_TEMPLATE } from '../lib/notify/render/job-facts.ts';
import { createWatcher } from '../lib/run/watcher.ts';
import { createDliSimulator } from '../lib/simulator/dli-simulator.ts';
import { SqliteStore } from '../lib/store/sqlite-store.ts';
import { silentLog } from '../lib/util/log.ts';
import { commandLine, machineDescription } from './bench-common.ts';

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    jobs: { type: 'string', default: '8000' },
    budget: { type: 'string', default: '48' },
    rps: { type: 'string', default: String(DEFAULT_MAX_RPS) },
    concurrency: { type: 'string', default: String(DEFAULT_CONCURRENCY) },
  },
});
const jobs = Number(values.jobs);
const budgetMs = Number(values.budget) * 1000;
const rps = Number(values.rps);
const concurrency = Number(values.concurrency);
if (![jobs, budgetMs, rps, concurrency].every((value) => Number.isFinite(value) && value > 0)) {
  process.stderr.write(
    'usage: npm run bench:capacity -- [--jobs N] [--budget S] [--rps R] [--concurrency C]\n',
  );
  process.exit(2);
}

const projectId = '0123456789abcdef0123456789abcdef';
const credentials = { accessKey: 'CAPACITYKEY', secretKey: 'capacity-secret-0123456789' };
const simulator = createDliSimulator({
  projectId,
  credentials,
  latencyMs: 25,
  jobFactory: () => ({ lifecycle: ['RUNNING'] }),
});
const directory = await mkdtemp(join(tmpdir(), 'dli-watch-capacity-'));
const store = SqliteStore.open(join(directory, 'state.db'));
try {
  const endpoint = await simulator.start();
  await store.track(
    Array.from({ length: jobs }, (_, index) => ({ jobId: `capacity-${index + 1}` })),
    Date.now(),
  );
  const watcher = createWatcher(
    {
      dli: {
        region: 'cn-north-4',
        projectId,
        endpoint,
        auth: { kind: 'aksk', ...credentials, securityToken: null },
        timeoutMs: 10_000,
        concurrency,
        maxRequestsPerSecond: rps,
        // This benchmark measures one status call per job.
        statusPlan: 'per-job',
      },
      destinations: [],
      consoleUrlTemplate: DEFAULT_CONSOLE_URL_TEMPLATE,
    },
    { store, log: silentLog },
  );
  const summary = await watcher.tick({ budgetMs });
  const machine = machineDescription();
  process.stdout.write(
    `polled ${summary.polled} of ${jobs} jobs in one cycle (budget ${budgetMs / 1000} s, ${rps} requests/s, ` +
      `concurrency ${concurrency}, 25 ms per request), ${summary.duration_ms} ms` +
      `${summary.deferred ? '; the rest waits for the next cycle' : ''}\n` +
      `machine: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}\n` +
      `command: ${commandLine('bench:capacity', 'scripts/bench-capacity.ts', process.argv.slice(2))}\n`,
  );
} finally {
  await store.close();
  await simulator.close();
  await rm(directory, { recursive: true, force: true });
}
