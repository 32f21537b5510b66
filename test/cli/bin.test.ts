import { type ChildProcess, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CliWorkspace, createCliWorkspace, WEBHOOK_PATH_TOKEN } from '../support/cli-workspace.ts';
import {
  SECRET_KEY,
  SLACK_PATH,
  startWatchHarness,
  type WatchHarness,
  WEBHOOK_SECRET,
} from '../support/watch-harness.ts';

const PROJECT_ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(PROJECT_ROOT, 'bin/dli-watch.js');
const SECRETS = [SECRET_KEY, WEBHOOK_SECRET, SLACK_PATH, WEBHOOK_PATH_TOKEN];
/** How long a stopped `run` may take to exit: its cycle is tiny, so this is only a generous ceiling. */
const EXIT_WITHIN_MS = 5_000;

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

interface Spawned {
  child: ChildProcess;
  exited: Promise<Exit>;
}

let harness: WatchHarness;
let workspace: CliWorkspace;
let env: Record<string, string>;

beforeEach(async () => {
  harness = await startWatchHarness();
  // The configuration under the name the CLI looks for by itself.
  workspace = createCliWorkspace(harness, 'dli-watch-bin-', 'dli-watch.config.json');
  env = workspace.env;
});

afterEach(async () => {
  await harness?.close();
  workspace?.remove();
});

/** Starts `node bin/dli-watch.js …` in the temporary directory. */
function spawnCli(args: string[], options: { stdin?: string } = {}): Spawned {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: workspace.directory, env, stdio: 'pipe' });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  child.stdin?.end(options.stdin ?? '');
  const exited = new Promise<Exit>((resolveExit, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolveExit({ code, signal, stdout, stderr }));
  }).then((exit) => {
    for (const secret of SECRETS) {
      expect(exit.stdout, `stdout of ${args[0]} shows a secret`).not.toContain(secret);
      expect(exit.stderr, `stderr of ${args[0]} shows a secret`).not.toContain(secret);
    }
    return exit;
  });
  return { child, exited };
}

/** The exit, or a rejection when the process is still running after `ms` (it is then killed). */
async function exitWithin(spawned: Spawned, ms: number): Promise<Exit> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      spawned.child.kill('SIGKILL');
      reject(new Error(`dli-watch did not exit within ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([spawned.exited, late]);
  } finally {
    clearTimeout(timer);
  }
}

describe('bin/dli-watch.js', () => {
  it('tick --json: stdout is exactly one JSON object, the logs go to stderr', async () => {
    harness.simulator.addJob('job-finished', { lifecycle: ['FINISHED'] });
    harness.simulator.addJob('job-running', { lifecycle: ['RUNNING'] });
    expect((await spawnCli(['track', 'job-finished', 'job-running']).exited).code).toBe(0);

    const { code, stdout, stderr } = await spawnCli(['tick', '--json']).exited;
    expect(code).toBe(0);
    expect(stdout.endsWith('\n')).toBe(true);
    expect(stdout.trimEnd().split('\n')).toHaveLength(1);
    const summary = JSON.parse(stdout) as unknown;
    expect(summary).toMatchObject({ polled: 2, changed: 2, notified: 2, delivery_failures: 0, errors: 0 });
    expect(Array.isArray(summary)).toBe(false);
    expect(stderr).toContain('"message":"delivered"');
  });

  it('track --file - reads the ids from standard input', async () => {
    const { code, stdout } = await spawnCli(['track', '--file', '-'], { stdin: 'job-1\njob-2\n\njob-3\n' })
      .exited;
    expect(code).toBe(0);
    expect(stdout).toContain('tracking 3 new job(s)');
    expect((await workspace.storedJobs()).map((record) => record.jobId)).toEqual(['job-1', 'job-2', 'job-3']);
  });

  it('run --interval 1 stops on SIGTERM with exit 0; nothing is lost or sent twice', async () => {
    harness.simulator.addJob('job-finished', { lifecycle: ['RUNNING', 'FINISHED'] });
    harness.simulator.addJob('job-failed', { lifecycle: ['FAILED'] });
    harness.simulator.addJob('job-cancelled', { lifecycle: ['LAUNCHING', 'RUNNING', 'CANCELLED'] });
    expect((await spawnCli(['track', 'job-finished', 'job-failed', 'job-cancelled']).exited).code).toBe(0);

    const run = spawnCli(['run', '--interval', '1']);
    // The first cycle delivers job-failed to both destinations.
    await Promise.all([harness.slack.waitForRequests(1, 15_000), harness.webhook.waitForRequests(1, 15_000)]);
    run.child.kill('SIGTERM');
    const stopped = await exitWithin(run, EXIT_WITHIN_MS);
    expect(stopped).toMatchObject({ code: 0, signal: null, stdout: '' });
    expect(stopped.stderr).toContain('SIGTERM received');
    expect(stopped.stderr).toContain('"message":"stopped"');

    // Follow-up cycles finish what the stopped run left: every job ends and is told exactly once.
    for (
      let tick = 0;
      tick < 3 && (await workspace.storedJobs()).some((job) => job.phase === 'active');
      tick += 1
    ) {
      expect((await spawnCli(['tick', '--json']).exited).code).toBe(0);
    }
    const jobs = await workspace.storedJobs();
    expect(jobs.map((job) => [job.jobId, job.phase, job.status])).toEqual([
      ['job-cancelled', 'terminal', 'CANCELLED'],
      ['job-failed', 'terminal', 'FAILED'],
      ['job-finished', 'terminal', 'FINISHED'],
    ]);
    expect(jobs.flatMap((job) => job.deliveries).filter((delivery) => delivery.state === 'dead')).toEqual([]);
    const destinations = 2;
    expect(harness.slack.requests.length + harness.webhook.requests.length).toBe(jobs.length * destinations);
    const webhookJobIds = harness.webhook.requests.map(
      (request) => (JSON.parse(request.body) as { data: { job_id: string } }).data.job_id,
    );
    expect(webhookJobIds.sort()).toEqual(['job-cancelled', 'job-failed', 'job-finished']);
    const slackTexts = harness.slack.requests.map(
      (request) => (JSON.parse(request.body) as { text: string }).text,
    );
    for (const status of ['FINISHED', 'FAILED', 'CANCELLED']) {
      expect(slackTexts.filter((text) => text.includes(status))).toHaveLength(1);
    }
  });

  it('demo: exits 0 after showing Slack and webhook messages for every end, a long-running warning and a recovery', async () => {
    // The demo needs no configuration at all: run it with an empty environment.
    env = {};
    const { code, stdout, stderr } = await exitWithin(spawnCli(['demo']), 25_000);
    expect(code, stderr).toBe(0);
    for (const status of ['FINISHED', 'FAILED', 'CANCELLED']) {
      expect(stdout).toMatch(new RegExp(`── Slack \\(.*\\) ── notification: .*DLI job .* ${status}`));
      expect(stdout).toContain(
        `── Standard Webhook POST /dli-events ── dli.job.${status.toLowerCase()} for `,
      );
    }
    // A job past its threshold is warned about once, and the second run of a failed pipeline recovers it.
    expect(
      stdout.match(/notification: ⏳ DLI job .* still RUNNING after 2 h 5 min .*\(warn after 2 h\)/g),
    ).toHaveLength(1);
    expect(stdout).toContain('── Standard Webhook POST /dli-events ── dli.job.long_running for ');
    expect(stdout).toMatch(/notification: 🟢 DLI job .* RECOVERED .*after 1 failure on \d{4}-\d\d-\d\d/);
    expect(stdout).toContain('── Standard Webhook POST /dli-events ── dli.job.recovered for ');
    expect(stdout).toContain('every message was delivered');
  });

  it('npx dli-watch --help works from the project root', async () => {
    const npm = spawn('npm', ['exec', '--', 'dli-watch', '--help'], {
      cwd: PROJECT_ROOT,
      env: process.env,
      stdio: 'pipe',
    });
    let stdout = '';
    let stderr = '';
    npm.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    npm.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const code = await new Promise<number | null>((resolveExit, reject) => {
      npm.on('error', reject);
      npm.on('close', resolveExit);
    });
    expect(code, stderr).toBe(0);
    expect(stdout).toContain('Usage: dli-watch <command> [options]');
    for (const command of ['track', 'untrack', 'list', 'tick', 'run', 'demo'])
      expect(stdout).toContain(`  ${command} `);
  });
});
