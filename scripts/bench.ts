/**
 * `npm run bench [-- --jobs 3000,30000] [--runs 3] [--json] [--breakdown] [--cpu-prof DIR] [--node-flags='...']`
 *
 * How long one `dli-watch tick` over N tracked jobs takes next to two floors, making the same N signed requests at
 * the same concurrency against the same simulator: the bare DLI client (ky), and a raw client (signed `node:http`
 * GETs on keep-alive sockets, nothing else). The simulator runs here; the
 * tick and the floor each run in a child process of their own (scripts/bench-child.ts), so each one's peak RSS is
 * its own and the simulator's memory is not counted. The two alternate, `--runs` times each, and the medians are
 * compared, because a small shared machine is noisy.
 *
 * This is a script, not a test: it asserts no timing. It exits non-zero only when a run is broken (the tick did
 * not poll every job, or a request failed), since the numbers of a broken run mean nothing.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cliNodeFlags } from '../lib/cli/node-flags.ts';
import { createDliSimulator, type DliSimulator, type SimulatedJob } from '../lib/simulator/dli-simulator.ts';
import type { BenchBreakdown, BenchChildResult, BenchChildSpec, BenchMode } from './bench-child.ts';
import { commandLine, machineDescription, median } from './bench-common.ts';

const PROJECT_ID = 'b3e1c0d2a4f5968778695a4b3c2d1e0f';
const ACCESS_KEY = 'BENCHACCESSKEY';
const LATENCY_MS = 25;
/** DLI_WATCH_CONCURRENCY for the tick, and the floor's worker count. */
const CONCURRENCY = 32;
/** DLI_WATCH_MAX_RPS for the tick: high enough that the rate limiter never waits. */
const MAX_REQUESTS_PER_SECOND = 100_000;
const TARGET_RATIO = 1.1;
/** The tick against the raw client: signed `node:http` requests on keep-alive sockets and nothing else. */
const TARGET_RAW_RATIO = 1.25;
const TARGET_PEAK_RSS_MB = 150;
const TARGET_AT_JOBS = 3000;
const CHILD_SCRIPT = new URL('./bench-child.ts', import.meta.url).pathname;

/** Every benchmark job is RUNNING on every poll: the tick polls and writes each one and has nothing to send. */
const RUNNING_JOB: SimulatedJob = { lifecycle: ['RUNNING'] };

interface BenchOptions {
  jobCounts: number[];
  runs: number;
  json: boolean;
  breakdown: boolean;
  cpuProfileDirectory: string | null;
  /** Extra flags for both children's `node` (V8 heap sizes, say), to see what they change. */
  nodeFlags: string[];
}

type StoreTimings = Record<string, { calls: number; ms: number }>;

interface SideResult {
  /** Each run's measured time, in run order. */
  elapsedMs: number[];
  medianMs: number;
  /** CPU time of the measured part (user + system), median over the runs. */
  cpuMedianMs: number;
  eventLoopUtilizationMedian: number;
  /** Highest peak RSS over the runs. */
  peakRssMb: number;
  /** RSS just before the measured part, highest over the runs: what the process held before it started. */
  rssBeforeMb: number;
  /** DLI requests the simulator saw per run: N when nothing was retried. */
  requests: number[];
  /** Medians over the runs, when `--breakdown` asked for them. */
  breakdown: { gcMs: number; store: StoreTimings | null } | null;
}

interface JobCountResult {
  jobs: number;
  /** N × latency / concurrency: the time the simulator's latency alone imposes. */
  latencyBoundMs: number;
  floor: SideResult;
  raw: SideResult;
  tick: SideResult & { trackMedianMs: number; summary: unknown };
  /** Median tick time over median floor time. */
  ratio: number;
  /**
   * Median tick CPU time over median floor CPU time. Both sides are CPU-bound on a small machine, and CPU time
   * moves less than wall time when other processes compete for the cores.
   */
  cpuRatio: number;
  /** Median tick time over median raw-client time. */
  rawRatio: number;
  /** Median tick CPU time over median raw-client CPU time. */
  rawCpuRatio: number;
}

class BenchUsageError extends Error {
  override name = 'BenchUsageError';
}

/** A run whose numbers mean nothing: a child failed, or did not get an answer for every job. */
class BrokenRunError extends Error {
  override name = 'BrokenRunError';
}

const USAGE =
  'usage: npm run bench -- [--scenario poll|list] [--jobs N[,N...]] [--runs R] [--json] [--breakdown] [--cpu-prof DIR] [--node-flags=F]\n' +
  '  --scenario    poll (default): this benchmark; list: job-list windows against status calls\n' +
  '                (npm run bench -- --scenario list [--cycles 4] [--runs 3] [--json])\n' +
  '  --jobs        tracked jobs per tick; several (comma-separated) are run in turn (default 3000)\n' +
  '  --runs        floor/tick pairs per job count; medians are reported (default 3)\n' +
  '  --json        print the results as JSON\n' +
  '  --breakdown   also count GC pauses, and the time the tick spends inside store calls\n' +
  '  --cpu-prof    write a V8 CPU profile of every child into DIR (node --cpu-prof)\n' +
  "  --node-flags  node flags for both children, with '=' (default: the CLI's own, from bin/dli-watch.js)\n";

/** The command line as `parseArgs` reads it; a malformed one is a usage error. */
function readArguments(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      options: {
        jobs: { type: 'string', default: String(TARGET_AT_JOBS) },
        runs: { type: 'string', default: '3' },
        json: { type: 'boolean', default: false },
        breakdown: { type: 'boolean', default: false },
        'cpu-prof': { type: 'string' },
        'node-flags': { type: 'string', default: '' },
        help: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    throw new BenchUsageError(`${(error as Error).message}\n${USAGE}`, { cause: error });
  }
}

function parseOptions(argv: string[]): BenchOptions {
  const values = readArguments(argv);
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const jobCounts = values.jobs.split(',').map((part) => Number(part.trim()));
  if (jobCounts.some((count) => !Number.isSafeInteger(count) || count < 1)) {
    throw new BenchUsageError(`--jobs must be positive integers separated by commas, got "${values.jobs}"`);
  }
  const runs = Number(values.runs);
  if (!Number.isSafeInteger(runs) || runs < 1) {
    throw new BenchUsageError(`--runs must be a positive integer, got "${values.runs}"`);
  }
  return {
    jobCounts,
    runs,
    json: values.json,
    breakdown: values.breakdown,
    cpuProfileDirectory: values['cpu-prof'] ?? null,
    nodeFlags:
      values['node-flags'] === ''
        ? cliNodeFlags()
        : values['node-flags'].split(/\s+/).filter((flag) => flag !== ''),
  };
}

const kbToMb = (kb: number) => kb / 1024;

/** Runs one child to completion and returns the JSON line it printed. */
function runChild(mode: BenchMode, spec: BenchChildSpec, options: BenchOptions): Promise<BenchChildResult> {
  const profileFlags = options.cpuProfileDirectory
    ? [
        '--cpu-prof',
        `--cpu-prof-dir=${options.cpuProfileDirectory}`,
        `--cpu-prof-name=${mode}-${spec.jobs}-${Date.now()}.cpuprofile`,
      ]
    : [];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...options.nodeFlags, ...profileFlags, CHILD_SCRIPT, mode], {
      // The secret key goes through the environment, never the command line other users can see.
      env: { ...process.env, DLI_WATCH_BENCH_SPEC: JSON.stringify(spec) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code !== 0) {
        reject(
          new BrokenRunError(`the ${mode} child exited with ${signal ?? `code ${code}`}:\n${stderr.trim()}`),
        );
        return;
      }
      const lastLine = stdout.trim().split('\n').at(-1) ?? '';
      try {
        resolve(JSON.parse(lastLine) as BenchChildResult);
      } catch (cause) {
        reject(new BrokenRunError(`the ${mode} child printed no result:\n${stdout}\n${stderr}`, { cause }));
      }
    });
  });
}

type BaseSpec = Omit<BenchChildSpec, 'storeDirectory' | 'breakdown' | 'jobs'>;

/** One child run in a fresh temporary directory, with the number of requests the simulator saw meanwhile. */
async function runOnce(
  mode: BenchMode,
  jobs: number,
  simulator: DliSimulator,
  baseSpec: BaseSpec,
  options: BenchOptions,
): Promise<{ result: BenchChildResult; requests: number }> {
  const storeDirectory = await mkdtemp(join(tmpdir(), 'dli-watch-bench-'));
  try {
    const requestsBefore = simulator.requestCount;
    const spec: BenchChildSpec = { ...baseSpec, jobs, storeDirectory, breakdown: options.breakdown };
    const result = await runChild(mode, spec, options);
    const requests = simulator.requestCount - requestsBefore;
    const complete =
      mode === 'tick'
        ? // On a fresh store every job goes from no status to RUNNING, so each one polled is also one changed.
          ['polled', 'changed'].every((field) => summaryField(result.summary, field) === jobs) &&
          summaryField(result.summary, 'errors') === 0
        : result.succeeded === jobs && result.failed === 0;
    if (!complete) {
      throw new BrokenRunError(
        `the ${mode} run did not get a RUNNING answer for all ${jobs} jobs: ` +
          `${JSON.stringify(mode === 'tick' ? result.summary : result)}`,
      );
    }
    return { result, requests };
  } finally {
    await rm(storeDirectory, { recursive: true, force: true });
  }
}

function summaryField(summary: unknown, key: string): unknown {
  return typeof summary === 'object' && summary !== null
    ? (summary as Record<string, unknown>)[key]
    : undefined;
}

function summariseBreakdowns(breakdowns: (BenchBreakdown | null)[]): SideResult['breakdown'] {
  const present = breakdowns.filter((breakdown): breakdown is BenchBreakdown => breakdown !== null);
  if (present.length === 0) return null;
  const methods = new Set(present.flatMap((breakdown) => Object.keys(breakdown.store ?? {})));
  const store = Object.fromEntries(
    [...methods].map((method) => {
      const timings = present.map((breakdown) => breakdown.store?.[method] ?? { calls: 0, ms: 0 });
      return [
        method,
        {
          calls: median(timings.map((timing) => timing.calls)),
          ms: median(timings.map((timing) => timing.ms)),
        },
      ];
    }),
  );
  return {
    gcMs: median(present.map((breakdown) => breakdown.gcMs)),
    store: present.some((breakdown) => breakdown.store !== null) ? store : null,
  };
}

function summarise(measured: { result: BenchChildResult; requests: number }[]): SideResult {
  const elapsedMs = measured.map(({ result }) => result.elapsedMs);
  return {
    elapsedMs,
    medianMs: median(elapsedMs),
    cpuMedianMs: median(measured.map(({ result }) => result.cpuMs)),
    eventLoopUtilizationMedian: median(measured.map(({ result }) => result.eventLoopUtilization)),
    peakRssMb: kbToMb(Math.max(...measured.map(({ result }) => result.maxRssKb))),
    rssBeforeMb: kbToMb(Math.max(...measured.map(({ result }) => result.rssBeforeKb))),
    requests: measured.map(({ requests }) => requests),
    breakdown: summariseBreakdowns(measured.map(({ result }) => result.breakdown)),
  };
}

async function benchJobCount(
  jobs: number,
  simulator: DliSimulator,
  baseSpec: BaseSpec,
  options: BenchOptions,
): Promise<JobCountResult> {
  const floors: { result: BenchChildResult; requests: number }[] = [];
  const raws: { result: BenchChildResult; requests: number }[] = [];
  const ticks: { result: BenchChildResult; requests: number }[] = [];
  const progress = (text: string) => {
    if (!options.json) process.stderr.write(text);
  };
  for (let run = 1; run <= options.runs; run++) {
    progress(`  N=${jobs} run ${run}/${options.runs}: floor…`);
    const floor = await runOnce('floor', jobs, simulator, baseSpec, options);
    floors.push(floor);
    progress(` ${Math.round(floor.result.elapsedMs)} ms, raw…`);
    const raw = await runOnce('raw', jobs, simulator, baseSpec, options);
    raws.push(raw);
    progress(` ${Math.round(raw.result.elapsedMs)} ms, tick…`);
    const tick = await runOnce('tick', jobs, simulator, baseSpec, options);
    ticks.push(tick);
    progress(` ${Math.round(tick.result.elapsedMs)} ms\n`);
  }
  const floor = summarise(floors);
  const raw = summarise(raws);
  const tick = summarise(ticks);
  return {
    jobs,
    latencyBoundMs: (jobs * LATENCY_MS) / CONCURRENCY,
    floor,
    raw,
    tick: {
      ...tick,
      trackMedianMs: median(ticks.map(({ result }) => result.trackMs ?? Number.NaN)),
      summary: ticks.at(-1)?.result.summary ?? null,
    },
    ratio: tick.medianMs / floor.medianMs,
    cpuRatio: tick.cpuMedianMs / floor.cpuMedianMs,
    rawRatio: tick.medianMs / raw.medianMs,
    rawCpuRatio: tick.cpuMedianMs / raw.cpuMedianMs,
  };
}

function formatTable(results: readonly JobCountResult[]): string {
  const header = [
    'N',
    'floor ms',
    'raw ms',
    'tick ms',
    'ratio',
    'tick/raw',
    'tick peak RSS MB',
    'floor peak RSS MB',
    'track N ms',
  ];
  const rows = results.map((result) => [
    String(result.jobs),
    result.floor.medianMs.toFixed(0),
    result.raw.medianMs.toFixed(0),
    result.tick.medianMs.toFixed(0),
    result.ratio.toFixed(3),
    result.rawRatio.toFixed(3),
    result.tick.peakRssMb.toFixed(1),
    result.floor.peakRssMb.toFixed(1),
    result.tick.trackMedianMs.toFixed(1),
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: string[]) =>
    cells.map((cell, column) => cell.padStart(widths[column] ?? 0)).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

function formatSide(name: string, side: SideResult, jobs: number): string {
  const runs = side.elapsedMs.map((value) => value.toFixed(0)).join(', ');
  const requests = side.requests.every((count) => count === jobs) ? 'N' : side.requests.join(', ');
  let text =
    `  ${name.padEnd(5)} runs ${runs} ms; CPU ${side.cpuMedianMs.toFixed(0)} ms ` +
    `(${((side.cpuMedianMs * 1000) / jobs).toFixed(0)} µs/job); event loop busy ` +
    `${(side.eventLoopUtilizationMedian * 100).toFixed(0)}%; RSS before ${side.rssBeforeMb.toFixed(1)} MB; ` +
    `DLI requests ${requests}`;
  if (side.breakdown) {
    const store = Object.entries(side.breakdown.store ?? {})
      .map(([method, timing]) => `; store.${method} ${timing.ms.toFixed(0)} ms (${timing.calls} calls)`)
      .join('');
    text += `\n  ${''.padEnd(5)} GC ${side.breakdown.gcMs.toFixed(0)} ms${store}`;
  }
  return text;
}

function formatDetails(results: readonly JobCountResult[]): string {
  return results
    .map((result) =>
      [
        `N=${result.jobs} (latency bound ${result.latencyBoundMs.toFixed(0)} ms = N × ${LATENCY_MS} ms / ${CONCURRENCY}; ` +
          'medians unless said)',
        formatSide('floor', result.floor, result.jobs),
        formatSide('raw', result.raw, result.jobs),
        formatSide('tick', result.tick, result.jobs),
        `  CPU ratio tick/floor ${result.cpuRatio.toFixed(3)}, tick/raw ${result.rawCpuRatio.toFixed(3)} ` +
          '(steadier than the wall-time ratios on a busy machine)',
      ].join('\n'),
    )
    .join('\n');
}

function formatTargets(results: readonly JobCountResult[]): string {
  const lines: string[] = [];
  const atTarget = results.find((result) => result.jobs === TARGET_AT_JOBS);
  if (atTarget) {
    const verdict = (met: boolean) => (met ? 'met' : 'MISSED');
    lines.push(
      `targets at N=${TARGET_AT_JOBS}: ratio ${atTarget.ratio.toFixed(3)} ≤ ${TARGET_RATIO.toFixed(2)} ` +
        `${verdict(atTarget.ratio <= TARGET_RATIO)}; tick peak RSS ${atTarget.tick.peakRssMb.toFixed(1)} MB ≤ ` +
        `${TARGET_PEAK_RSS_MB} MB ${verdict(atTarget.tick.peakRssMb <= TARGET_PEAK_RSS_MB)}; ` +
        `tick/raw ${atTarget.rawRatio.toFixed(3)} ≤ ${TARGET_RAW_RATIO.toFixed(2)} ` +
        `${verdict(atTarget.rawRatio <= TARGET_RAW_RATIO)}`,
    );
  }
  const byJobs = [...results].sort((a, b) => a.jobs - b.jobs);
  const smallest = byJobs[0];
  const largest = byJobs.at(-1);
  if (smallest && largest && largest.jobs > smallest.jobs) {
    lines.push(
      `tick peak RSS from N=${smallest.jobs} to N=${largest.jobs}: ${smallest.tick.peakRssMb.toFixed(1)} → ` +
        `${largest.tick.peakRssMb.toFixed(1)} MB (${(largest.tick.peakRssMb - smallest.tick.peakRssMb).toFixed(1)} MB ` +
        `for ${largest.jobs / smallest.jobs}× the jobs)`,
    );
  }
  return lines.join('\n');
}

async function main(argv: string[]): Promise<void> {
  const options = parseOptions(argv);
  const secretKey = randomBytes(20).toString('hex');
  const simulator = createDliSimulator({
    projectId: PROJECT_ID,
    credentials: { accessKey: ACCESS_KEY, secretKey },
    latencyMs: LATENCY_MS,
    // Any bench id is a job that stays RUNNING: the simulator keeps only a poll counter per id.
    jobFactory: (jobId) => (jobId.startsWith('bench-') ? RUNNING_JOB : undefined),
  });
  const dliUrl = await simulator.start();
  const results: JobCountResult[] = [];
  try {
    const baseSpec: BaseSpec = {
      dliUrl,
      projectId: PROJECT_ID,
      accessKey: ACCESS_KEY,
      secretKey,
      concurrency: CONCURRENCY,
    };
    if (!options.json) {
      process.stderr.write(
        `dli-watch bench: ${options.runs} run(s) per N, floor and tick alternating, each in its own process\n`,
      );
    }
    for (const jobs of options.jobCounts)
      results.push(await benchJobCount(jobs, simulator, baseSpec, options));
  } finally {
    await simulator.close();
  }

  const machine = machineDescription();
  const command = commandLine('bench', 'scripts/bench.ts', argv);
  const settings = {
    latencyMs: LATENCY_MS,
    concurrency: CONCURRENCY,
    maxRequestsPerSecond: MAX_REQUESTS_PER_SECOND,
    runs: options.runs,
    childNodeFlags: options.nodeFlags,
    simulatorMaxInFlight: simulator.maxInFlight,
  };
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ machine, command, settings, results }, null, 2)}\n`);
    return;
  }
  process.stdout.write(
    [
      '',
      'One `dli-watch tick` over N tracked jobs (SQLite store) vs. the floor: the bare DLI client making the same N',
      `signed requests with ${CONCURRENCY} workers. The DLI simulator (parent process) answers every status request`,
      `after ${LATENCY_MS} ms; every job answers RUNNING, so the tick polls and writes every job and sends nothing.`,
      `DLI_WATCH_CONCURRENCY=${CONCURRENCY}; DLI_WATCH_MAX_RPS=${MAX_REQUESTS_PER_SECOND}, out of the way on purpose: the`,
      'default 100/s would make the tick take N/100 s and measure the rate limiter. Times are medians over the',
      'runs; RSS is the highest peak over the runs.',
      ...(options.nodeFlags.length > 0 ? [`Children run with: node ${options.nodeFlags.join(' ')}`] : []),
      '',
      formatTable(results),
      '',
      formatDetails(results),
      formatTargets(results),
      `simulator: most requests in flight at once ${simulator.maxInFlight}`,
      '',
      `machine: ${machine.cpu}, ${machine.cores} cores, ${machine.totalMemoryGb} GB, Node ${machine.node} (${machine.platform})`,
      `command: ${command}`,
      '',
    ].join('\n'),
  );
}

/** `--scenario list` is its own benchmark (scripts/bench-list.ts); `--scenario poll`, the default, is this one. */
function scenarioOf(argv: readonly string[]): string {
  const index = argv.findIndex((arg) => arg === '--scenario' || arg.startsWith('--scenario='));
  if (index < 0) return 'poll';
  const arg = argv[index] ?? '';
  return arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : (argv[index + 1] ?? '');
}

try {
  const scenario = scenarioOf(process.argv.slice(2));
  if (scenario === 'list') {
    const { runListBenchmark } = await import('./bench-list.ts');
    await runListBenchmark(process.argv.slice(2));
  } else if (scenario === 'poll') {
    await main(
      process.argv
        .slice(2)
        .filter(
          (arg, index, all) =>
            arg !== '--scenario' && all[index - 1] !== '--scenario' && !arg.startsWith('--scenario='),
        ),
    );
  } else {
    throw new BenchUsageError(`--scenario must be poll or list, got "${scenario}"\n${USAGE}`);
  }
} catch (error) {
  if (!(error instanceof BenchUsageError || error instanceof BrokenRunError)) throw error;
  process.stderr.write(`\nbench: ${error.message}\n`);
  process.exitCode = error instanceof BenchUsageError ? 2 : 1;
}
