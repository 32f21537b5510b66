/**
 * Misconfigurations and outages that used to leave the watcher running and exiting 0, telling nobody: each is
 * now a failed cycle or a refusal at start-up, through the real CLI.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from '../../lib/cli/cli-io.ts';
import { type CliWorkspace, createCliWorkspace, runCli } from '../support/cli-workspace.ts';
import { SECRET_KEY, startWatchHarness, type WatchHarness } from '../support/watch-harness.ts';

let harness: WatchHarness;
let workspace: CliWorkspace;
let env: Record<string, string | undefined>;

beforeEach(async () => {
  harness = await startWatchHarness();
  workspace = createCliWorkspace(harness, 'dli-watch-loud-', 'dli-watch.config.json');
  env = workspace.env;
});

afterEach(async () => {
  await harness?.close();
  workspace?.remove();
});

function cli(argv: string[], options: { env?: typeof env; signal?: AbortSignal } = {}) {
  return runCli(argv, {
    env: options.env ?? env,
    cwd: workspace.directory,
    secrets: [SECRET_KEY],
    ...(options.signal ? { signal: options.signal } : {}),
  });
}

async function track(...ids: string[]): Promise<void> {
  for (const id of ids) harness.simulator.addJob(id, { lifecycle: ['RUNNING', 'FINISHED'] });
  expect((await cli(['track', ...ids])).code).toBe(EXIT_OK);
}

describe('failing loudly', () => {
  it('a project DLI does not know (DLI.0023) stops the cycle: exit 2, naming DLI_PROJECT_ID and dliProjectId', async () => {
    await track('job-a', 'job-b');
    const result = await cli(['tick'], {
      env: { ...env, DLI_PROJECT_ID: 'abcdef0123456789abcdef0123456789' },
    });
    expect(result.code).toBe(EXIT_USAGE);
    expect(result.stderr).toContain('DLI does not know this project');
    expect(result.stderr).toContain('DLI_PROJECT_ID');
    expect(result.stderr).toContain('dliProjectId');
    // Stopped at the first such answer, not one warning per job.
    expect(harness.simulator.requestCount).toBeLessThanOrEqual(2);
    const jobs = await workspace.storedJobs();
    expect(jobs.every((job) => job.lastPolledAt === null)).toBe(true);
  });

  it('refuses the all-zero placeholder project id at start-up, naming the dliProjectId parameter', async () => {
    await track('job-a');
    const result = await cli(['tick'], { env: { ...env, DLI_PROJECT_ID: '0'.repeat(32) } });
    expect(result.code).toBe(EXIT_USAGE);
    expect(result.stderr).toContain('DLI_PROJECT_ID: is the all-zero placeholder');
    expect(result.stderr).toContain('dliProjectId');
    expect(harness.simulator.requestCount).toBe(0);
  });

  it('a cycle in which every poll failed exits 1 and says why; --json carries the failure', async () => {
    await track('job-a', 'job-b', 'job-c');
    harness.simulator.injectFault({ kind: 'server-error', status: 503 }, { times: 1_000 });
    const result = await cli(['tick', '--json']);
    expect(result.code).toBe(EXIT_FAILURE);
    const summary = JSON.parse(result.stdout) as { polled: number; errors: number; failure: string | null };
    expect(summary.polled).toBe(0);
    expect(summary.errors).toBe(3);
    expect(summary.failure).toMatch(/every DLI request of the cycle failed \(3 server\)/);
    expect(result.stderr).toContain('the cycle failed');
  });

  it('one job failing among others that answer is not a failed cycle', async () => {
    await track('job-a', 'job-b');
    harness.simulator.injectFault({ kind: 'malformed' }, { jobId: 'job-a', times: 10 });
    const result = await cli(['tick', '--json']);
    expect(result.code).toBe(EXIT_OK);
    expect(JSON.parse(result.stdout)).toMatchObject({ polled: 1, errors: 1, failure: null });
  });

  it('says at start-up that no destination is configured, and puts it in tick --json', async () => {
    writeFileSync(join(workspace.directory, 'dli-watch.config.json'), '{"destinations": []}');
    await track('job-a');
    const result = await cli(['tick', '--json']);
    expect(result.code).toBe(EXIT_OK);
    expect(result.stderr).toContain('no destination is configured');
    expect(JSON.parse(result.stdout)).toMatchObject({ warnings: ['no destination is configured'] });
  });

  it('a poll that a stop cuts short is counted as cancelled, not as an error', async () => {
    await track('job-held');
    harness.simulator.injectFault({ kind: 'timeout' }, { jobId: 'job-held' });
    const stop = new AbortController();
    const running = cli(['tick', '--json'], { signal: stop.signal });
    // Stop once the request is with DLI (the simulator holds it).
    for (let waited = 0; harness.simulator.requestCount === 0 && waited < 5_000; waited += 20) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    stop.abort();
    const result = await running;
    expect(result.code).toBe(EXIT_OK);
    expect(JSON.parse(result.stdout)).toMatchObject({
      polled: 0,
      errors: 0,
      cancelled_polls: 1,
      failure: null,
    });
    expect(result.stderr).not.toContain('could not poll job');
  });
});

describe('run as a service', () => {
  it('run --health-file rewrites the file after each completed cycle, and logs which store it opened', async () => {
    await track('job-a');
    const healthFile = join(workspace.directory, 'health');
    const stop = new AbortController();
    const running = cli(['run', '--interval', '1', '--health-file', 'health'], { signal: stop.signal });
    for (let waited = 0; !existsSync(healthFile) && waited < 10_000; waited += 50) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    stop.abort();
    const result = await running;
    expect(result.code).toBe(EXIT_OK);
    const written = Date.parse(readFileSync(healthFile, 'utf8').trim());
    expect(Date.now() - written).toBeLessThan(15_000);
    expect(result.stderr).toContain(`"store":"sqlite:${workspace.storePath}"`);
  });

  it('run goes on after a cycle in which every poll failed, and the next cycle does its job', async () => {
    await track('job-a');
    harness.simulator.injectFault({ kind: 'server-error', status: 503 }, { times: 3 });
    const stop = new AbortController();
    let finished = 0;
    const running = runCli(['run', '--interval', '1'], {
      env,
      cwd: workspace.directory,
      signal: stop.signal,
      onStderr: (text) => {
        finished += text.split('"message":"cycle finished"').length - 1;
        if (finished >= 1) stop.abort();
      },
    });
    const result = await running;
    expect(result.code).toBe(EXIT_OK);
    expect(result.stderr).toContain('cycle failed: every DLI request of the cycle failed');
    expect(finished).toBeGreaterThanOrEqual(1);
  });
});

describe('one log schema for the CLI and the Lambda', () => {
  function logLines(stderr: string): Record<string, unknown>[] {
    return stderr
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  async function trackEnded(id: string): Promise<void> {
    harness.simulator.addJob(id, { lifecycle: ['FINISHED'] });
    expect((await cli(['track', id])).code).toBe(EXIT_OK);
  }

  it('writes the field names Powertools writes: level in capitals, message, timestamp, service', async () => {
    await trackEnded('job-a');
    const result = await cli(['tick'], { env: { ...env, DLI_WATCH_LOG_LEVEL: 'info' } });
    const lines = logLines(result.stderr);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      expect(Object.keys(line).slice(0, 4)).toEqual(['level', 'message', 'timestamp', 'service']);
      expect(['DEBUG', 'INFO', 'WARN', 'ERROR']).toContain(line.level);
      expect(line.service).toBe('dli-watch');
      expect(Number.isNaN(Date.parse(String(line.timestamp)))).toBe(false);
    }
  });

  it('honours POWERTOOLS_LOG_LEVEL; DLI_WATCH_LOG_LEVEL wins when both are set', async () => {
    await trackEnded('job-a');
    const quiet = await cli(['tick'], {
      env: { ...env, DLI_WATCH_LOG_LEVEL: undefined, POWERTOOLS_LOG_LEVEL: 'ERROR' },
    });
    expect(logLines(quiet.stderr)).toEqual([]);
    await trackEnded('job-c');
    const chatty = await cli(['tick'], {
      env: { ...env, DLI_WATCH_LOG_LEVEL: 'info', POWERTOOLS_LOG_LEVEL: 'ERROR' },
    });
    expect(logLines(chatty.stderr).some((line) => line.level === 'INFO')).toBe(true);
  });
});

describe('what list shows of a job DLI does not know', () => {
  it('NOT_POLLED before the first poll, NOT_FOUND once DLI has said it does not know it, LOST after three', async () => {
    expect((await cli(['track', 'job-unknown'])).code).toBe(EXIT_OK);
    const statusNow = async () =>
      (JSON.parse((await cli(['list', '--json'])).stdout) as { status: string }[])[0]?.status;
    expect(await statusNow()).toBe('NOT_POLLED');
    await cli(['tick']);
    expect(await statusNow()).toBe('NOT_FOUND');
    harness.clock.advance(60_000);
    await cli(['tick']);
    await cli(['tick']);
    expect(await statusNow()).toBe('LOST');
  });
});
