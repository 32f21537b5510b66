/**
 * `npm run bench -- --scenario list [--cycles 4] [--runs 3] [--json]`
 *
 * What a cycle costs when statuses come from job-list windows, beside one status call per job, on the same
 * project:
 * - `tracked`: 10,000 active tracked jobs that started within the last two hours on five queues, 5,000 other jobs
 *   in the same window, 1% of the tracked ones ending per cycle;
 * - `discovery`: a watch on a project where 20,000 jobs were submitted in the last hour and more keep coming at
 *   that rate, each running 2 to 20 minutes.
 * DLI answers after 25 ms (the simulator, here on loopback), the store is SQLite in a temporary directory, and the
 * watcher runs with the defaults (8 requests in flight, 100 requests/s). Each plan gets a fresh simulator and store
 * per run; the plans alternate, and medians over the runs are printed. Figures per cycle: DLI requests (list and
 * status), store reads and writes (calls), wall time and CPU time of the watcher's process, and its peak RSS: the
 * watcher runs in a child process of its own (scripts/bench-list-child.ts) with the CLI's node flags, the simulator
 * and its jobs here.
 *
 * A script, not a test: it asserts no timing, and exits non-zero only when a run is broken (a cycle failed).
 */
import { fork } from 'node:child_process';
import { parseArgs } from 'node:util';
import { cliNodeFlags } from '../lib/cli/node-flags.ts';
import { createDliSimulator, type DliSimulator } from '../lib/simulator/dli-simulator.ts';
import { createWatch, type Watch } from '../lib/watch.ts';
import { commandLine, machineDescription, median } from './bench-common.ts';
import type { ChildMessage, CycleFigures, ParentMessage } from './bench-list-child.ts';

const PROJECT_ID = 'b3e1c0d2a4f5968778695a4b3c2d1e0f';
const ACCESS_KEY = 'BENCHLISTACCESSKEY';
const SECRET_KEY = 'bench-list-secret-key-not-a-real-one';
const CHILD_SCRIPT = new URL('./bench-list-child.ts', import.meta.url).pathname;
const LATENCY_MS = 25;
const MINUTE = 60_000;
const QUEUES = ['etl_daily', 'etl_hourly', 'bi_reports', 'adhoc', 'ml_features'];
const TARGETS = { requests: 200, cycleMs: 5_000, peakRssMb: 150 };

type Plan = 'auto' | 'per-job';
type Scenario = 'tracked' | 'discovery';

/** A deterministic stream of numbers in [0, 1): the same project on every run. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

interface Project {
  simulator: DliSimulator;
  /** Jobs to track before the first cycle, with their start times. */
  tracked: { jobId: string; startTime: number }[];
  watches: Watch[];
  /** Called before each cycle: submits the jobs of the minute that passed. */
  beforeCycle(cycle: number): void;
}

/** DLI as the benchmark sees it: signatures checked, every answer after {@link LATENCY_MS}, on `now`. */
function benchSimulator(now: () => number): DliSimulator {
  return createDliSimulator({
    projectId: PROJECT_ID,
    credentials: { accessKey: ACCESS_KEY, secretKey: SECRET_KEY },
    latencyMs: LATENCY_MS,
    now,
  });
}

function trackedProject(now: () => number, base: number, cycles: number): Project {
  const random = seeded(7);
  const simulator = benchSimulator(now);
  const tracked: Project['tracked'] = [];
  for (let index = 0; index < 10_000; index++) {
    const jobId = `trk-${String(index).padStart(5, '0')}-${Math.floor(random() * 1e9).toString(36)}`;
    const startTime = base - Math.floor(random() * 120 * MINUTE);
    const endCycle = Math.floor(index / 100);
    const timeline = [{ at: startTime, status: 'RUNNING' }];
    // 1% of them end in each measured cycle, half a minute before it.
    if (endCycle < cycles) timeline.push({ at: base + endCycle * MINUTE + 30_000, status: 'FINISHED' });
    simulator.addJob(jobId, { timeline, fields: { queue_name: QUEUES[index % QUEUES.length] } });
    tracked.push({ jobId, startTime });
  }
  for (let index = 0; index < 5_000; index++) {
    const at = base - Math.floor(random() * 120 * MINUTE);
    const ended = random() < 0.8;
    simulator.addJob(`oth-${String(index).padStart(5, '0')}`, {
      timeline: ended
        ? [
            { at, status: 'RUNNING' },
            { at: at + 60_000 + Math.floor(random() * 10 * MINUTE), status: 'FINISHED' },
          ]
        : [{ at, status: 'RUNNING' }],
      fields: { queue_name: QUEUES[index % QUEUES.length] },
    });
  }
  return { simulator, tracked, watches: [], beforeCycle: () => {} };
}

function discoveryProject(now: () => number, base: number, cycles: number): Project {
  const random = seeded(11);
  const simulator = benchSimulator(now);
  let submitted = 0;
  const submitUntil = (until: number, from: number, count: number) => {
    for (let index = 0; index < count; index++) {
      const at = from + Math.floor(((until - from) * index) / count);
      simulator.addJob(`sub-${String(submitted++).padStart(6, '0')}`, {
        timeline: [
          { at, status: 'RUNNING' },
          {
            at: at + 2 * MINUTE + Math.floor(random() * 18 * MINUTE),
            status: random() < 0.9 ? 'FINISHED' : 'FAILED',
          },
        ],
        fields: { queue_name: QUEUES[submitted % QUEUES.length] },
      });
    }
  };
  // 20,000 in the hour before the first cycle, then the same rate on.
  submitUntil(base, base - 60 * MINUTE, 20_000);
  const perMinute = Math.round(20_000 / 60);
  const watch = createWatch('everything');
  void cycles;
  return {
    simulator,
    tracked: [],
    watches: [watch],
    beforeCycle(cycle) {
      if (cycle === 0) return;
      const from = base + (cycle - 1) * MINUTE;
      submitUntil(from + MINUTE, from, perMinute);
    },
  };
}

/**
 * One run: the project and its simulator here, the watcher in a child process of its own (scripts/bench-list-child.ts,
 * with the CLI's node flags), so its peak RSS is the watcher's alone. Time is real time moved a minute on between
 * cycles; the child asks before each cycle, and both sides then use the same offset.
 */
async function runOnce(
  scenario: Scenario,
  plan: Plan,
  cycles: number,
): Promise<{ figures: CycleFigures[]; peakRssMb: number }> {
  const base = Date.now();
  let offset = 0;
  const now = () => Date.now() + offset;
  const project =
    scenario === 'tracked' ? trackedProject(now, base, cycles) : discoveryProject(now, base, cycles);
  const endpoint = await project.simulator.start();
  const child = fork(CHILD_SCRIPT, [], {
    execArgv: cliNodeFlags(),
    // The secret key goes through the environment, never the command line other users can see.
    env: { ...process.env, DLI_WATCH_BENCH_SECRET: SECRET_KEY },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const figures: CycleFigures[] = [];
  let before = { list: 0, status: 0 };
  try {
    return await new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code, signal) => {
        if (code !== 0) reject(new Error(`the watcher child exited with ${signal ?? `code ${code}`}`));
      });
      child.on('message', (message: ChildMessage) => {
        if (message.type === 'before') {
          project.beforeCycle(message.cycle);
          offset = base + message.cycle * MINUTE - Date.now();
          before = { list: project.simulator.listRequestCount, status: project.simulator.statusRequestCount };
          child.send({ type: 'go', offset } satisfies ParentMessage);
        } else if (message.type === 'after') {
          if (message.cycle > 0) {
            figures.push({
              ...message.figures,
              listCalls: project.simulator.listRequestCount - before.list,
              statusCalls: project.simulator.statusRequestCount - before.status,
            });
          }
          child.send({ type: 'ok' } satisfies ParentMessage);
        } else {
          resolve({ figures, peakRssMb: message.peakRssMb });
        }
      });
      child.send({
        type: 'start',
        spec: {
          endpoint,
          projectId: PROJECT_ID,
          accessKey: ACCESS_KEY,
          plan,
          cycles,
          tracked: project.tracked,
          watches: project.watches,
          trackedAt: base,
        },
      } satisfies ParentMessage);
    });
  } finally {
    child.kill();
    await project.simulator.close();
  }
}

/** Per-cycle medians of one run, then medians of those over the runs. */
function summarizeRuns(runs: CycleFigures[][]) {
  const perRun = runs.map((cycles) => {
    const of = (pick: (figures: CycleFigures) => number) => median(cycles.map(pick));
    return {
      dliRequests: of((c) => c.listCalls + c.statusCalls),
      listCalls: of((c) => c.listCalls),
      statusCalls: of((c) => c.statusCalls),
      storeReads: of((c) => c.storeReads),
      storeWrites: of((c) => c.storeWrites),
      transitions: of((c) => c.transitions),
      discovered: of((c) => c.discovered),
      polled: of((c) => c.polled),
      deferredCycles: cycles.filter((c) => c.deferred).length,
      wallMs: of((c) => c.wallMs),
      cpuMs: of((c) => c.cpuMs),
      maxWallMs: Math.max(...cycles.map((c) => c.wallMs)),
      maxDliRequests: Math.max(...cycles.map((c) => c.listCalls + c.statusCalls)),
      maxStoreWritesOverChanges: Math.max(
        // A found job's first status is one of the transitions; tracking them is one write per page.
        ...cycles.map((c) => c.storeWrites - c.transitions - c.deliveries),
      ),
    };
  });
  const keys = Object.keys(perRun[0] ?? {}) as (keyof (typeof perRun)[number])[];
  return Object.fromEntries(keys.map((key) => [key, median(perRun.map((run) => run[key]))])) as {
    [K in keyof (typeof perRun)[number]]: number;
  };
}

export async function runListBenchmark(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      scenario: { type: 'string' },
      cycles: { type: 'string', default: '4' },
      runs: { type: 'string', default: '3' },
      json: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const cycles = Number(values.cycles);
  const runs = Number(values.runs);
  if (!Number.isSafeInteger(cycles) || cycles < 1 || !Number.isSafeInteger(runs) || runs < 1) {
    throw new Error('--cycles and --runs must be positive integers');
  }
  const results: Record<string, unknown> = {};
  for (const scenario of ['tracked', 'discovery'] as const) {
    const byPlan: Record<Plan, { figures: CycleFigures[]; peakRssMb: number }[]> = {
      auto: [],
      'per-job': [],
    };
    for (let run = 0; run < runs; run++) {
      // Alternated, so a noisy moment on a shared machine hits both plans alike.
      for (const plan of run % 2 === 0 ? (['auto', 'per-job'] as const) : (['per-job', 'auto'] as const)) {
        byPlan[plan].push(await runOnce(scenario, plan, cycles));
      }
    }
    const peak = (runs: { peakRssMb: number }[]) => Math.round(Math.max(...runs.map((run) => run.peakRssMb)));
    results[scenario] = {
      window: { ...summarizeRuns(byPlan.auto.map((run) => run.figures)), peakRssMb: peak(byPlan.auto) },
      perJob: {
        ...summarizeRuns(byPlan['per-job'].map((run) => run.figures)),
        peakRssMb: peak(byPlan['per-job']),
      },
    };
  }
  const report = {
    command: commandLine('bench', 'scripts/bench.ts', argv),
    machine: machineDescription(),
    latencyMs: LATENCY_MS,
    cycles,
    runs,
    targets: TARGETS,
    results,
  };
  if (values.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return;
  }
  const lines = [
    `dli-watch list benchmark: ${report.command}`,
    `machine: ${report.machine.cpu}, ${report.machine.cores} cores, ${report.machine.totalMemoryGb} GB, Node ${report.machine.node}`,
    `DLI latency ${LATENCY_MS} ms; ${cycles} cycles a run, ${runs} runs per plan, alternated; medians per cycle`,
    '',
  ];
  for (const [scenario, { window, perJob }] of Object.entries(results) as [
    string,
    {
      window: ReturnType<typeof summarizeRuns> & { peakRssMb: number };
      perJob: ReturnType<typeof summarizeRuns> & { peakRssMb: number };
    },
  ][]) {
    lines.push(`${scenario}:`);
    lines.push(
      '  plan       DLI req (list+status)  store reads  writes  transitions  found  polled  wall ms  cpu ms  deferred  peak RSS',
    );
    for (const [name, figures] of [
      ['window', window],
      ['per-job', perJob],
    ] as const) {
      lines.push(
        `  ${name.padEnd(9)}  ${`${figures.dliRequests} (${figures.listCalls}+${figures.statusCalls})`.padEnd(21)}  ${String(figures.storeReads).padStart(11)}  ${String(figures.storeWrites).padStart(6)}  ${String(figures.transitions).padStart(11)}  ${String(figures.discovered).padStart(5)}  ${String(figures.polled).padStart(6)}  ${String(Math.round(figures.wallMs)).padStart(7)}  ${String(Math.round(figures.cpuMs)).padStart(6)}  ${`${figures.deferredCycles}/${cycles}`.padStart(8)}  ${figures.peakRssMb} MB`,
      );
    }
    lines.push(
      `  window plan, worst cycle: ${window.maxDliRequests} DLI requests (target ≤ ${TARGETS.requests}), ` +
        `${Math.round(window.maxWallMs)} ms (target < ${TARGETS.cycleMs}), ` +
        `store writes beyond its transitions and deliveries: ${window.maxStoreWritesOverChanges}`,
    );
    lines.push('');
  }
  lines.push(
    `peak RSS: the watcher's own process (the CLI's node flags), highest over the runs; target < ${TARGETS.peakRssMb} MB`,
  );
  process.stdout.write(`${lines.join('\n')}\n`);
}
