/** `dli-watch watches`, and watches found by `tick` through the CLI. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from '../../lib/cli/cli-io.ts';
import { type CliWorkspace, createCliWorkspace, runCli } from '../support/cli-workspace.ts';
import { startWatchHarness, type WatchHarness } from '../support/watch-harness.ts';

let harness: WatchHarness;
let workspace: CliWorkspace;

beforeEach(async () => {
  harness = await startWatchHarness();
  workspace = createCliWorkspace(harness, 'dli-watch-watches-', 'dli-watch.config.json');
});

afterEach(async () => {
  await harness?.close();
  workspace?.remove();
});

/** Adds `watches` to the workspace's configuration file, keeping its destinations. */
function configure(watches: unknown[]): void {
  const path = join(workspace.directory, 'dli-watch.config.json');
  const destinations = [{ name: 'alerts', type: 'slack', url: harness.destinations[0]?.url ?? '' }];
  writeFileSync(path, JSON.stringify({ destinations, watches }));
}

const cli = (argv: string[], env: Record<string, string> = workspace.env) =>
  runCli(argv, { env, cwd: workspace.directory });

describe('dli-watch watches', () => {
  it('shows each watch with its cursor, the jobs it found and when it last ran', async () => {
    configure([{ name: 'etl', queues: ['etl_*'], labels: { team: 'data' } }, { name: 'everything' }]);
    expect((await cli(['watches'])).code).toBe(EXIT_FAILURE);

    expect((await cli(['tick'])).code).toBe(EXIT_OK);
    const before = JSON.parse((await cli(['watches', '--json'])).stdout);
    expect(before).toEqual([
      expect.objectContaining({ name: 'etl', configured: true, found: 0, last_found_at: null }),
      expect.objectContaining({ name: 'everything', found: 0 }),
    ]);
    expect(before[0].cursor).not.toBeNull();

    harness.simulator.addJob('console-job', {
      timeline: [{ at: Date.now() - 1_000, status: 'RUNNING' }],
      fields: { queue_name: 'etl_daily' },
    });
    expect((await cli(['tick'])).code).toBe(EXIT_OK);
    const [etl, everything] = JSON.parse((await cli(['watches', '--json'])).stdout);
    expect(etl).toMatchObject({
      name: 'etl',
      found: 1,
      filters: { queues: ['etl_*'], owners: null },
      labels: { team: 'data' },
    });
    expect(Date.parse(etl.cursor)).toBeGreaterThan(Date.parse(before[0].cursor));
    expect(etl.last_found_at).not.toBeNull();
    // The first watch that wants a job tracks it; the second finds it tracked already.
    expect(everything.found).toBe(0);
    const [job] = await workspace.storedJobs();
    expect(job).toMatchObject({ jobId: 'console-job', labels: { team: 'data', watch: 'etl' } });

    const table = await cli(['watches']);
    expect(table.stdout).toMatch(/^WATCH\s+FILTERS\s+CURSOR\s+FOUND\s+LAST RUN\s+LAST FOUND\n/);
    expect(table.stdout).toMatch(/\netl\s+queues=etl_\*\s+\S+\s+1\s/);
    expect(table.stdout).toMatch(/\neverything\s+\(whole project\)\s/);
  });

  it('lists a watch the store remembers but the configuration no longer has', async () => {
    configure([{ name: 'old' }]);
    expect((await cli(['tick'])).code).toBe(EXIT_OK);
    configure([]);
    const result = await cli(['watches', '--json']);
    expect(JSON.parse(result.stdout)).toEqual([
      expect.objectContaining({ name: 'old', configured: false, filters: null }),
    ]);
    expect((await cli(['watches'])).stdout).toContain('(no longer configured)');
  });

  it('refuses a configuration with a bad watch, naming every problem, and exits 2', async () => {
    configure([
      { name: 'bad name', queues: [] },
      { name: 'ok', since: 'last week' },
    ]);
    const result = await cli(['watches']);
    expect(result.code).toBe(EXIT_USAGE);
    expect(result.stderr).toContain('watches[0].name: must be 1 to 64 letters');
    expect(result.stderr).toContain('watches[0].queues: must list at least one of queue names');
    expect(result.stderr).toContain('watches[1].since: must be an ISO 8601 time');
    expect((await cli(['tick'])).code).toBe(EXIT_USAGE);
  });

  it('makes a watch of DLI_WATCH_QUEUES', async () => {
    configure([]);
    const env = { ...workspace.env, DLI_WATCH_QUEUES: 'etl_*,bi_reports' };
    expect((await cli(['tick'], env)).code).toBe(EXIT_OK);
    expect(JSON.parse((await cli(['watches', '--json'], env)).stdout)).toEqual([
      expect.objectContaining({
        name: 'queues',
        filters: expect.objectContaining({ queues: ['etl_*', 'bi_reports'] }),
      }),
    ]);
  });
});
