/**
 * `npm run bench:delivery [-- --jobs 500] [--destinations 2] [--receiver-ms 25] [--runs 3] [--backend both] [--json]`
 *
 * What delivering costs the store: N tracked jobs that are all found FINISHED in one tick, each routed to D
 * generic webhooks (one message per event, no rate limit) that answer after `--receiver-ms` (a chat platform takes
 * longer; 0 shows the store's share at its largest), on SQLite and on DynamoDB (dynalite, in this process).
 * Counts the store's writes (`update` calls) and reads (`get`, `listDue` pages) per delivered message, and times
 * the tick. The backends alternate, `--runs` times each; counts are the same every run, times are medians.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createWebhookDestination } from '../lib/notify/destination.ts';
import { DEFAULT_CONSOLE_URL_TEMPLATE } from '../lib/notify/render/job-facts.ts';
import { createWatcher } from '../lib/run/watcher.ts';
import { createDliSimulator } from '../lib/simulator/dli-simulator.ts';
import { createWebhookReceiver, type WebhookReceiver } from '../lib/simulator/webhook-receiver.ts';
import { DynamoDbStore } from '../lib/store/dynamodb-store.ts';
import type { JobStore } from '../lib/store/job-store.ts';
import { SqliteStore } from '../lib/store/sqlite-store.ts';
import { silentLog } from '../lib/util/log.ts';
import { startDynalite } from '../test/support/dynalite.ts';
import { forwardingStore } from '../test/support/forwarding-store.ts';
import { commandLine, machineDescription, median } from './bench-common.ts';

const PROJECT_ID = '0123456789abcdef0123456789abcdef';
const ACCESS_KEY = 'BENCHACCESSKEY';
const SECRET_KEY = 'bench-secret-key-0123456789';

type Backend = 'sqlite' | 'dynamodb';

interface StoreCounts {
  writes: number;
  gets: number;
  duePages: number;
}

interface RunResult {
  backend: Backend;
  delivered: number;
  received: number;
  counts: StoreCounts;
  tickMs: number;
  cpuMs: number;
}

/** The store with a counter on each call that reads or writes job records. */
function countedStore(store: JobStore, counts: StoreCounts): JobStore {
  return forwardingStore(store, {
    get: (jobId) => {
      counts.gets += 1;
      return store.get(jobId);
    },
    listDue: (query) => {
      counts.duePages += 1;
      return store.listDue(query);
    },
    update: (next, expectedVersion) => {
      counts.writes += 1;
      return store.update(next, expectedVersion);
    },
  });
}

async function runOnce(
  backend: Backend,
  options: {
    jobs: number;
    destinations: number;
    receiverMs: number;
    nextTable: () => Promise<string>;
  },
): Promise<RunResult> {
  const simulator = createDliSimulator({
    projectId: PROJECT_ID,
    credentials: { accessKey: ACCESS_KEY, secretKey: SECRET_KEY },
    jobFactory: () => ({ lifecycle: ['FINISHED'], fields: { queue_name: 'etl', owner: 'bench' } }),
  });
  const receivers: WebhookReceiver[] = Array.from({ length: options.destinations }, () =>
    createWebhookReceiver({ defaultResponse: { status: 204, delayMs: options.receiverMs } }),
  );
  const directory = await mkdtemp(join(tmpdir(), 'dli-watch-bench-delivery-'));
  let store: JobStore | undefined;
  try {
    const [dliUrl, ...receiverUrls] = await Promise.all([
      simulator.start(),
      ...receivers.map((receiver) => receiver.start()),
    ]);
    store =
      backend === 'sqlite'
        ? SqliteStore.open(join(directory, 'state.db'))
        : await DynamoDbStore.open({ table: await options.nextTable() });
    await store.track(
      Array.from({ length: options.jobs }, (_, index) => ({ jobId: `bench-${index + 1}` })),
      Date.now(),
    );
    const counts: StoreCounts = { writes: 0, gets: 0, duePages: 0 };
    const watcher = createWatcher(
      {
        dli: {
          region: 'cn-north-4',
          projectId: PROJECT_ID,
          endpoint: dliUrl ?? '',
          auth: { kind: 'aksk', accessKey: ACCESS_KEY, secretKey: SECRET_KEY, securityToken: null },
          timeoutMs: 10_000,
          concurrency: 16,
          maxRequestsPerSecond: 100_000,
          // This benchmark measures one status call per job.
          statusPlan: 'per-job',
        },
        destinations: receiverUrls.map((url, index) =>
          createWebhookDestination({ name: `hook-${index + 1}`, url: `${url}/events` }),
        ),
        consoleUrlTemplate: DEFAULT_CONSOLE_URL_TEMPLATE,
      },
      { store: countedStore(store, counts), log: silentLog },
    );
    const cpuAtStart = process.cpuUsage();
    const startedAt = performance.now();
    const summary = await watcher.tick({ budgetMs: 10 * 60_000 });
    const tickMs = performance.now() - startedAt;
    const cpu = process.cpuUsage(cpuAtStart);
    return {
      backend,
      delivered: summary.notified,
      received: receivers.reduce((sum, receiver) => sum + receiver.requests.length, 0),
      counts,
      tickMs,
      cpuMs: (cpu.user + cpu.system) / 1000,
    };
  } finally {
    await store?.close();
    await Promise.all([simulator.close(), ...receivers.map((receiver) => receiver.close())]);
    await rm(directory, { recursive: true, force: true });
  }
}

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    jobs: { type: 'string', default: '500' },
    destinations: { type: 'string', default: '2' },
    runs: { type: 'string', default: '3' },
    json: { type: 'boolean', default: false },
    backend: { type: 'string', default: 'both' },
    'receiver-ms': { type: 'string', default: '25' },
  },
});
const jobs = Number(values.jobs);
const destinations = Number(values.destinations);
const runs = Number(values.runs);
const receiverMs = Number(values['receiver-ms']);
if (
  ![jobs, destinations, runs].every((value) => Number.isSafeInteger(value) && value > 0) ||
  !(Number.isSafeInteger(receiverMs) && receiverMs >= 0)
) {
  process.stderr.write(
    'usage: npm run bench:delivery -- [--jobs N] [--destinations D] [--receiver-ms MS] [--runs R] [--backend B] [--json]\n',
  );
  process.exit(2);
}

const backends: Backend[] =
  values.backend === 'both' ? ['sqlite', 'dynamodb'] : [values.backend === 'sqlite' ? 'sqlite' : 'dynamodb'];

// The DynamoDB client reads its region and credentials from the environment, as in Lambda.
process.env.AWS_REGION ??= 'us-east-1';
process.env.AWS_ACCESS_KEY_ID ??= 'dynalite-bench';
process.env.AWS_SECRET_ACCESS_KEY ??= 'dynalite-bench-secret';
const dynalite = await startDynalite();
process.env.AWS_ENDPOINT_URL_DYNAMODB = dynalite.endpoint;
const results: RunResult[] = [];
try {
  for (let run = 0; run < runs; run += 1) {
    for (const backend of backends) {
      results.push(
        await runOnce(backend, {
          jobs,
          destinations,
          receiverMs,
          nextTable: () => dynalite.createJobTable(),
        }),
      );
    }
  }
} finally {
  await dynalite.close();
}

const rows = backends.map((backend) => {
  const mine = results.filter((result) => result.backend === backend);
  const [first] = mine;
  if (!first) throw new Error(`no run on ${backend}`);
  const perMessage = (count: number) => Number((count / Math.max(1, first.delivered)).toFixed(3));
  return {
    backend,
    jobs,
    destinations,
    receiver_ms: receiverMs,
    delivered: first.delivered,
    received: first.received,
    writes: first.counts.writes,
    writes_per_message: perMessage(first.counts.writes),
    gets: first.counts.gets,
    due_pages: first.counts.duePages,
    tick_ms: Math.round(median(mine.map((result) => result.tickMs))),
    cpu_ms: Math.round(median(mine.map((result) => result.cpuMs))),
  };
});
if (values.json) {
  process.stdout.write(`${JSON.stringify({ rows, machine: machineDescription() })}\n`);
} else {
  process.stdout.write(
    'backend   jobs  dest  delivered  received  writes  writes/msg  gets  due pages  tick ms  CPU ms\n',
  );
  for (const row of rows) {
    process.stdout.write(
      `${row.backend.padEnd(9)} ${String(row.jobs).padStart(4)}  ${String(row.destinations).padStart(4)}  ${String(row.delivered).padStart(9)}  ${String(row.received).padStart(8)}  ${String(row.writes).padStart(6)}  ${String(row.writes_per_message).padStart(10)}  ${String(row.gets).padStart(4)}  ${String(row.due_pages).padStart(9)}  ${String(row.tick_ms).padStart(7)}  ${String(row.cpu_ms).padStart(6)}\n`,
    );
  }
  const machine = machineDescription();
  process.stdout.write(
    `\nmachine: ${machine.cpu}, ${machine.cores} cores, ${machine.totalMemoryGb} GB, Node ${machine.node} (${machine.platform})\n` +
      `command: ${commandLine('bench:delivery', 'scripts/bench-delivery.ts', process.argv.slice(2))}\n`,
  );
}
