/**
 * A working directory for running the CLI against a watch harness: a configuration file naming the harness's
 * Slack-like and webhook receivers, and an environment with nothing but what the CLI needs.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { JobRecord } from '../../lib/job.ts';
import { SqliteStore } from '../../lib/store/sqlite-store.ts';
import { ACCESS_KEY, PROJECT_ID, SECRET_KEY, type WatchHarness, WEBHOOK_SECRET } from './watch-harness.ts';

/** The secret part of the webhook destination's URL: a webhook URL is a credential. */
export const WEBHOOK_PATH_TOKEN = randomBytes(12).toString('hex');

export interface CliWorkspace {
  /** A fresh temporary directory, the CLI's working directory. */
  directory: string;
  /** The SQLite file the environment's relative `sqlite:state.db` names. */
  storePath: string;
  /** The CLI's environment: the harness's DLI endpoint and AK/SK, the store, debug logs. */
  env: Record<string, string>;
  /** Every stored job, read through a connection of its own, as another process would. */
  storedJobs(): Promise<JobRecord[]>;
  /** Deletes the directory and everything in it. */
  remove(): void;
}

/**
 * Creates a directory (named from `prefix`) holding `configFile`, which sends to the harness's `alerts` Slack
 * destination and, signed, to its `audit` webhook under the secret path {@link WEBHOOK_PATH_TOKEN}.
 */
export function createCliWorkspace(harness: WatchHarness, prefix: string, configFile: string): CliWorkspace {
  const directory = mkdtempSync(join(tmpdir(), prefix));
  const storePath = join(directory, 'state.db');
  const webhookOrigin = new URL(harness.destinations[1]?.url ?? '').origin;
  writeFileSync(
    join(directory, configFile),
    JSON.stringify({
      destinations: [
        { name: 'alerts', type: 'slack', url: harness.destinations[0]?.url ?? '' },
        {
          name: 'audit',
          type: 'webhook',
          url: `${webhookOrigin}/dli/${WEBHOOK_PATH_TOKEN}`,
          secret: WEBHOOK_SECRET,
        },
      ],
    }),
  );
  // Only what the CLI needs: nothing of the test runner's environment leaks in.
  const env = {
    DLI_REGION: 'cn-north-4',
    DLI_PROJECT_ID: PROJECT_ID,
    DLI_ENDPOINT: harness.dliUrl,
    HUAWEICLOUD_SDK_AK: ACCESS_KEY,
    HUAWEICLOUD_SDK_SK: SECRET_KEY,
    // Relative on purpose: resolved against the working directory the CLI is given.
    DLI_WATCH_STORE: 'sqlite:state.db',
    // The chattiest level: the best chance to catch a secret in a log line.
    DLI_WATCH_LOG_LEVEL: 'debug',
  };
  return {
    directory,
    storePath,
    env,
    async storedJobs() {
      const store = SqliteStore.open(storePath);
      try {
        const records: JobRecord[] = [];
        let cursor: string | null = null;
        do {
          const page = await store.list({ limit: 1000, cursor });
          records.push(...page.items);
          cursor = page.cursor;
        } while (cursor);
        return records;
      } finally {
        await store.close();
      }
    },
    remove() {
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

/** What one in-process CLI run printed and returned. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `dli-watch <argv>` in-process (`main`, as the bin script would) in `cwd`, and checks that neither stream
 * shows any of `secrets`.
 */
export async function runCli(
  argv: string[],
  options: {
    env: Record<string, string | undefined>;
    cwd: string;
    secrets?: readonly string[];
    signal?: AbortSignal;
    onStderr?: (text: string) => void;
  },
): Promise<CliResult> {
  const { main } = await import('../../lib/cli/main.ts');
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await main(argv, {
    stdout: (text) => stdout.push(text),
    stderr: (text) => {
      stderr.push(text);
      options.onStderr?.(text);
    },
    env: options.env,
    cwd: options.cwd,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const result = { code, stdout: stdout.join(''), stderr: stderr.join('') };
  for (const secret of options.secrets ?? []) {
    expect(result.stdout, `stdout of ${argv[0]} shows a secret`).not.toContain(secret);
    expect(result.stderr, `stderr of ${argv[0]} shows a secret`).not.toContain(secret);
  }
  return result;
}
