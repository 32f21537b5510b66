/** `dli-watch check` and `test-destination`: configuration work that needs no DLI credentials and no DLI. */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXIT_OK, EXIT_USAGE } from '../../lib/cli/cli-io.ts';
import { type CliWorkspace, createCliWorkspace, runCli } from '../support/cli-workspace.ts';
import { startWatchHarness, type WatchHarness } from '../support/watch-harness.ts';

let harness: WatchHarness;
let workspace: CliWorkspace;
/** No DLI credentials and no DLI endpoint: what a CI job checking a configuration file has. */
let bareEnv: Record<string, string | undefined>;

beforeEach(async () => {
  harness = await startWatchHarness();
  workspace = createCliWorkspace(harness, 'dli-watch-check-', 'dli-watch.config.json');
  bareEnv = {
    DLI_WATCH_STORE: workspace.env.DLI_WATCH_STORE,
    DLI_REGION: 'cn-north-4',
    DLI_PROJECT_ID: 'abcdef0123456789abcdef0123456789',
  };
});

afterEach(async () => {
  await harness?.close();
  workspace?.remove();
});

const cli = (argv: string[], env = bareEnv) => runCli(argv, { env, cwd: workspace.directory });

describe('dli-watch check', () => {
  it('accepts a good configuration with no DLI credentials and no network, and says what it amounts to', async () => {
    const result = await cli(['check']);
    expect(result.code).toBe(EXIT_OK);
    expect(result.stdout).toContain('configuration OK');
    expect(result.stdout).toContain('alerts (slack)');
    expect(result.stdout).toContain('audit (webhook)');
    expect(result.stdout).toContain('watches: 0');
    expect(result.stdout).toContain('no DLI credentials are set');
    expect(harness.simulator.requestCount).toBe(0);
    expect(harness.slack.requests).toHaveLength(0);
    // A check touches no store.
    expect(existsSync(workspace.storePath)).toBe(false);
  });

  it('prints every problem at once and exits 2', async () => {
    writeFileSync(
      join(workspace.directory, 'dli-watch.config.json'),
      JSON.stringify({
        destinations: [
          { name: 'a', type: 'slak', url: 'https://hooks.slack.com/services/T/B/x' },
          { name: 'b', type: 'webhook', url: 'http://example.com/hook' },
        ],
      }),
    );
    const result = await cli(['check', '--json'], { ...bareEnv, DLI_WATCH_MAX_RPS: 'fast' });
    expect(result.code).toBe(EXIT_USAGE);
    const report = JSON.parse(result.stdout) as { ok: boolean; problems: string[] };
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual(
      expect.arrayContaining([
        expect.stringContaining('destinations[0].type: must be one of'),
        expect.stringContaining('destinations[1].url: must be https'),
        expect.stringContaining('DLI_WATCH_MAX_RPS'),
      ]),
    );
    expect(result.stderr).toContain('problem(s)');
  });

  it('checks credentials that are set, though it needs none', async () => {
    const result = await cli(['check'], { ...bareEnv, HUAWEICLOUD_SDK_AK: 'AKONLY' });
    expect(result.code).toBe(EXIT_USAGE);
    expect(result.stderr).toContain('HUAWEICLOUD_SDK_SK: is required when HUAWEICLOUD_SDK_AK is set');
  });
});

describe('dli-watch test-destination', () => {
  it('needs no DLI settings: it never calls DLI', async () => {
    const result = await cli(['test-destination', 'audit'], {
      DLI_WATCH_STORE: workspace.env.DLI_WATCH_STORE,
    });
    expect(result.code).toBe(EXIT_OK);
    expect(result.stdout).toMatch(/^audit \(webhook, 127\.0\.0\.1:\d+\): accepted$/m);
    expect(harness.webhook.requests).toHaveLength(1);
    expect(harness.simulator.requestCount).toBe(0);
  });
});
