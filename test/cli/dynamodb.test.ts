import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbStore } from '../../lib/store/dynamodb-store.ts';
import { type CliWorkspace, createCliWorkspace, WEBHOOK_PATH_TOKEN } from '../support/cli-workspace.ts';
import { LOCAL_AWS, type LocalDynamoDb, startDynalite, startDynamoDbProxy } from '../support/dynalite.ts';
import { SECRET_KEY, SLACK_PATH, startWatchHarness, type WatchHarness } from '../support/watch-harness.ts';

// The CLI against DynamoDB, as a team would use it next to the deployed stack: the real `bin/dli-watch.js` in a
// process of its own, with `DLI_WATCH_STORE=dynamodb:<table>` and the standard AWS variables pointing at dynalite.
const BIN = join(resolve(import.meta.dirname, '../..'), 'bin/dli-watch.js');

let harness: WatchHarness;
let workspace: CliWorkspace;
let dynamo: LocalDynamoDb;
let table: string;
let env: Record<string, string>;

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolveRun) => {
    execFile(process.execPath, [BIN, ...args], { cwd: workspace.directory, env }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      for (const secret of [
        SECRET_KEY,
        SLACK_PATH,
        WEBHOOK_PATH_TOKEN,
        LOCAL_AWS.credentials.secretAccessKey,
      ])
        expect(stdout + stderr).not.toContain(secret);
      resolveRun({ code, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  [harness, dynamo] = await Promise.all([startWatchHarness(), startDynalite()]);
  workspace = createCliWorkspace(harness, 'dli-watch-cli-dynamodb-', 'dli-watch.config.json');
  table = await dynamo.createJobTable();
  env = {
    ...workspace.env,
    PATH: process.env.PATH ?? '',
    DLI_WATCH_STORE: `dynamodb:${table}`,
    AWS_REGION: LOCAL_AWS.region,
    AWS_ACCESS_KEY_ID: LOCAL_AWS.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_AWS.credentials.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    // No shared AWS files: a developer's own profile must not decide what these tests see.
    AWS_CONFIG_FILE: join(workspace.directory, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(workspace.directory, 'no-aws-credentials'),
  };
});

afterAll(async () => {
  await Promise.all([harness?.close(), dynamo?.close()]);
  workspace?.remove();
});

describe('dli-watch with DLI_WATCH_STORE=dynamodb:<table>', () => {
  it('tracks, lists, ticks and untracks jobs in the table', async () => {
    harness.simulator.addJob('ddb-finished', { lifecycle: ['FINISHED'] });
    harness.simulator.addJob('ddb-running', { lifecycle: ['RUNNING'] });

    const tracked = await cli(['track', 'ddb-finished', 'ddb-running', '--label', 'team=bi']);
    expect(tracked.code).toBe(0);
    const listed = await cli(['list', '--json']);
    expect(JSON.parse(listed.stdout)).toMatchObject([
      { job_id: 'ddb-finished', labels: { team: 'bi' }, status: 'NOT_POLLED' },
      { job_id: 'ddb-running', labels: { team: 'bi' }, status: 'NOT_POLLED' },
    ]);

    const tick = await cli(['tick', '--json']);
    expect(tick.code).toBe(0);
    // Both destinations of the workspace's configuration hear of the finished job; the running one is quiet.
    expect(JSON.parse(tick.stdout)).toMatchObject({ polled: 2, changed: 2, notified: 2, errors: 0 });
    expect(harness.slack.requests).toHaveLength(1);
    expect(harness.webhook.requests).toHaveLength(1);

    const untracked = await cli(['untrack', 'ddb-running']);
    expect(untracked.code).toBe(0);
    const after = await cli(['list', '--json']);
    expect(JSON.parse(after.stdout)).toMatchObject([{ job_id: 'ddb-finished', status: 'FINISHED' }]);
    expect(JSON.parse(after.stdout)).toHaveLength(1);

    // It all happened in the table, read here through a client of its own; no SQLite file was made.
    const store = new DynamoDbStore({ table, client: dynamo.client });
    expect((await store.get('ddb-finished'))?.status).toBe('FINISHED');
    expect(await store.get('ddb-running')).toBeNull();
    await store.close();
    expect(existsSync(workspace.storePath)).toBe(false);
  });

  it('names the table and the missing region when AWS_REGION is not set, exit 4', async () => {
    const { AWS_REGION: _region, ...withoutRegion } = env;
    const saved = env;
    env = withoutRegion;
    try {
      const result = await cli(['list']);
      expect(result.code).toBe(4);
      expect(result.stderr).toContain(table);
      expect(result.stderr).toContain('AWS_REGION');
    } finally {
      env = saved;
    }
  });
});

describe('dli-watch run on a DynamoDB table that is briefly out of reach', () => {
  it('backs off and keeps running through throttling, then works again; only a stop ends it', async () => {
    let throttled = true;
    const proxy = await startDynamoDbProxy(dynamo.endpoint, () =>
      throttled ? { errorType: 'ThrottlingException' } : 'forward',
    );
    try {
      const child = spawn(process.execPath, [BIN, 'run', '--interval', '1'], {
        cwd: workspace.directory,
        env: { ...env, AWS_ENDPOINT_URL_DYNAMODB: proxy.endpoint, DLI_WATCH_LOG_LEVEL: 'info' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      const seen = (text: string, timeoutMs: number) =>
        new Promise<void>((resolveSeen, reject) => {
          const timer = setTimeout(
            () => reject(new Error(`no "${text}" within ${timeoutMs} ms:\n${stderr}`)),
            timeoutMs,
          );
          const check = () => {
            if (!stderr.includes(text)) return;
            clearTimeout(timer);
            child.stderr?.off('data', check);
            resolveSeen();
          };
          child.stderr?.on('data', check);
          check();
        });
      child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
        stderr += chunk;
      });
      const exited = new Promise<number | null>((resolveExit) =>
        child.on('close', (code) => resolveExit(code)),
      );
      // The SDK itself retries throttling for up to about 31 s before the store gives up on a call.
      await seen('the store could not be reached; trying again', 60_000);
      throttled = false;
      await seen('"message":"cycle finished"', 20_000);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      await proxy.close();
    }
  }, 120_000);
});
