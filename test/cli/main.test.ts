import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXIT_CREDENTIALS, EXIT_FAILURE, EXIT_OK, EXIT_STORE, EXIT_USAGE } from '../../lib/cli/cli-io.ts';
import {
  type CliResult,
  type CliWorkspace,
  createCliWorkspace,
  runCli,
  WEBHOOK_PATH_TOKEN,
} from '../support/cli-workspace.ts';
import {
  ACCESS_KEY,
  SECRET_KEY,
  SLACK_PATH,
  startWatchHarness,
  type WatchHarness,
  WEBHOOK_SECRET,
} from '../support/watch-harness.ts';

type Env = Record<string, string | undefined>;

/** One object of `list --json`. */
interface ListedJob {
  job_id: string;
  status: string;
  phase: string;
  labels: Record<string, string>;
  last_polled_at: string | null;
  pending_deliveries: { destination: string; attempts: number; last_error: string | null }[];
  dead_lettered_deliveries: { destination: string; attempts: number; last_error: string | null }[];
}

const COMMANDS = ['track', 'untrack', 'list', 'tick', 'run', 'demo'] as const;
const WRONG_SECRET_KEY = `SK-WRONG-${randomBytes(12).toString('hex')}`;
const AUTH_TOKEN = `MIIT-${randomBytes(24).toString('hex')}`;
/** Nothing the CLI prints, on either stream, may contain any of these. */
const SECRETS = [
  SECRET_KEY,
  WRONG_SECRET_KEY,
  AUTH_TOKEN,
  WEBHOOK_SECRET,
  WEBHOOK_SECRET.slice('whsec_'.length),
  SLACK_PATH,
  SLACK_PATH.split('/').at(-1) ?? SLACK_PATH,
  WEBHOOK_PATH_TOKEN,
];

let harness: WatchHarness;
let workspace: CliWorkspace;
let env: Env;

beforeEach(async () => {
  harness = await startWatchHarness();
  workspace = createCliWorkspace(harness, 'dli-watch-cli-', 'destinations.json');
  env = { ...workspace.env, DLI_WATCH_CONFIG: 'destinations.json' };
});

afterEach(async () => {
  await harness?.close();
  workspace?.remove();
});

/** Runs the CLI in-process and checks that neither stream shows a secret. */
function cli(
  argv: string[],
  options: { env?: Env; signal?: AbortSignal; onStderr?: (text: string) => void } = {},
): Promise<CliResult> {
  return runCli(argv, { ...options, env: options.env ?? env, cwd: workspace.directory, secrets: SECRETS });
}

async function listJson(): Promise<ListedJob[]> {
  const result = await cli(['list', '--json']);
  expect(result.code).toBe(EXIT_OK);
  return JSON.parse(result.stdout) as ListedJob[];
}

/** Every stderr line of a command that logs is a JSON log line or one of the CLI's own messages. */
function logLines(stderr: string): Record<string, unknown>[] {
  return stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function ids(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, index) => `${prefix}-${String(index).padStart(5, '0')}`);
}

describe('help and usage', () => {
  it.each([['--help'], ['-h'], ['help']])('%s prints the usage and every command, exit 0', async (flag) => {
    const result = await cli([flag]);
    expect(result.code).toBe(EXIT_OK);
    expect(result.stdout).toContain('Usage: dli-watch <command>');
    for (const command of COMMANDS) expect(result.stdout).toContain(`  ${command}`);
    expect(result.stderr).toBe('');
  });

  it.each(COMMANDS)('%s --help prints that command’s usage, exit 0', async (command) => {
    for (const flag of ['--help', '-h']) {
      const result = await cli([command, flag]);
      expect(result.code).toBe(EXIT_OK);
      expect(result.stdout).toContain(`Usage: dli-watch ${command}`);
      expect(result.stderr).toBe('');
    }
    // Help needs no configuration and touches no store.
    expect(() => readFileSync(workspace.storePath)).toThrow();
  });

  it('no command: usage on stderr (stdout stays clean for scripts), exit 2', async () => {
    const result = await cli([]);
    expect(result.code).toBe(EXIT_USAGE);
    expect(result.stderr).toContain('Usage: dli-watch <command>');
    expect(result.stdout).toBe('');
  });

  it.each([['frobnicate'], ['main'], ['--frob'], ['TRACK'], ['constructor'], ['toString']])(
    'unknown command %s: exit 2, stderr names it',
    async (command) => {
      const result = await cli([command, 'job-1']);
      expect(result.code).toBe(EXIT_USAGE);
      expect(result.stderr).toContain(`'${command}'`);
      expect(result.stdout).toBe('');
    },
  );

  it.each([
    ['track', 'job-1', '--frob'],
    ['untrack', 'job-1', '--frob'],
    ['list', '--frob'],
    ['tick', '--frob'],
    ['run', '--frob'],
    ['demo', '--frob'],
    ['list', '-x'],
  ])('unknown option: %s … exit 2, stderr names the option', async (...argv) => {
    const result = await cli(argv);
    expect(result.code).toBe(EXIT_USAGE);
    expect(result.stderr).toContain(`'${argv.at(-1)}'`);
    expect(result.stderr).toContain(`dli-watch ${argv[0]} --help`);
    expect(result.stdout).toBe('');
    expect(await workspace.storedJobs()).toEqual([]);
  });

  it.each([
    [['tick', '--budget', '0'], '--budget'],
    [['tick', '--budget', 'soon'], '--budget'],
    [['run', '--interval', '0.5'], '--interval'],
    [['run', '--interval'], '--interval'],
    [['list', 'job-1'], 'list takes no job ids'],
    [['tick', 'now'], 'tick takes no arguments'],
    [['demo', 'fast'], 'demo takes no arguments'],
  ])('bad arguments %j: exit 2, stderr says what is wrong', async (argv, expected) => {
    const result = await cli(argv);
    expect(result.code).toBe(EXIT_USAGE);
    expect(result.stderr).toContain(expected);
    expect(harness.simulator.requestCount).toBe(0);
  });
});

describe('track', () => {
  it('stores the ids with their labels, and needs no DLI configuration to do it', async () => {
    const result = await cli(['track', 'job-a', 'job-b', '--label', 'team=bi', '-l', 'env=prod=eu'], {
      env: { DLI_WATCH_STORE: env.DLI_WATCH_STORE },
    });
    expect(result).toMatchObject({ code: EXIT_OK, stderr: '' });
    expect(result.stdout).toContain('tracking 2 new job(s)');
    const records = await workspace.storedJobs();
    expect(records.map((record) => record.jobId)).toEqual(['job-a', 'job-b']);
    for (const record of records) {
      expect(record).toMatchObject({ phase: 'active', status: null, deliveries: [] });
      // Only the first "=" separates: a value may contain more.
      expect(record.labels).toEqual({ team: 'bi', env: 'prod=eu' });
    }
  });

  it('is idempotent: tracking again adds nothing and keeps the first labels', async () => {
    expect((await cli(['track', 'job-a', '--label', 'team=bi'])).code).toBe(EXIT_OK);
    const before = await workspace.storedJobs();
    const again = await cli(['track', 'job-a', 'job-a', 'job-b', '--label', 'team=ops']);
    expect(again.code).toBe(EXIT_OK);
    expect(again.stdout).toContain('tracking 1 new job(s), 1 already tracked');
    const after = await workspace.storedJobs();
    expect(after).toHaveLength(2);
    expect(after[0]).toEqual(before[0]);
    expect(after[1]?.labels).toEqual({ team: 'ops' });
  });

  it.each([
    ['bad id', '"bad id"'],
    ['x/y', '"x/y"'],
    ['a'.repeat(65), `"${'a'.repeat(65)}"`],
    ['', '""'],
    ['job_1', '"job_1"'],
  ])('one invalid id (%j) among valid ones: exit 2, named, nothing stored', async (bad, shown) => {
    const result = await cli(['track', 'job-ok-1', bad, 'job-ok-2']);
    expect(result.code).toBe(EXIT_USAGE);
    expect(result.stderr).toContain(shown);
    expect(result.stderr).toContain('Nothing was changed');
    expect(result.stdout).toBe('');
    expect(await workspace.storedJobs()).toEqual([]);
  });

  it('names every invalid id at once and stores none of the valid ones', async () => {
    const long = 'b'.repeat(65);
    const result = await cli(['track', 'job-ok', 'bad id', 'x/y', long, '', '--label', 'team=bi']);
    expect(result.code).toBe(EXIT_USAGE);
    for (const shown of ['"bad id"', '"x/y"', `"${long}"`, '""']) expect(result.stderr).toContain(shown);
    expect(result.stderr).toContain('4 invalid job id(s)');
    expect(await workspace.storedJobs()).toEqual([]);
  });

  it('keeps a tracked job exactly as it was when the next call has a bad id', async () => {
    await cli(['track', 'job-a', '--label', 'team=bi']);
    const before = await workspace.storedJobs();
    expect((await cli(['track', 'job-a', 'job-b', 'x/y'])).code).toBe(EXIT_USAGE);
    expect(await workspace.storedJobs()).toEqual(before);
  });

  it.each([['novalue'], ['=value'], ['bad key=value'], [`${'k'.repeat(65)}=v`]])(
    'bad label %j: exit 2, named, nothing stored',
    async (label) => {
      const result = await cli(['track', 'job-a', 'job-b', '--label', label]);
      expect(result.code).toBe(EXIT_USAGE);
      expect(result.stderr).toContain(`--label ${JSON.stringify(label)}`);
      expect(await workspace.storedJobs()).toEqual([]);
    },
  );

  it('tracks 1500 ids given on the command line in one call', async () => {
    const jobIds = ids('argv', 1500);
    const result = await cli(['track', ...jobIds]);
    expect(result.code).toBe(EXIT_OK);
    expect(result.stdout).toContain('tracking 1500 new job(s)');
    expect((await workspace.storedJobs()).map((record) => record.jobId)).toEqual(jobIds);
  });

  it('tracks 1200 ids from --file (comments, blank lines and CRLF allowed) with the positional ones', async () => {
    const fromFile = ids('file', 1200);
    writeFileSync(
      join(workspace.directory, 'jobs.txt'),
      `# nightly jobs\r\n\r\n${fromFile.map((id) => `  ${id}  `).join('\r\n')}\r\n`,
    );
    const result = await cli(['track', 'argv-only', '--file', 'jobs.txt', '-l', 'source=file']);
    expect(result.code).toBe(EXIT_OK);
    expect(result.stdout).toContain('tracking 1201 new job(s)');
    const records = await workspace.storedJobs();
    expect(records.map((record) => record.jobId).sort()).toEqual(['argv-only', ...fromFile].sort());
    expect(records.every((record) => record.labels.source === 'file')).toBe(true);
  });

  it('refuses a --file with one bad line and stores nothing from it', async () => {
    writeFileSync(join(workspace.directory, 'jobs.txt'), `${ids('file', 300).join('\n')}\nnot a job id\n`);
    const result = await cli(['track', '--file', 'jobs.txt']);
    expect(result.code).toBe(EXIT_USAGE);
    expect(result.stderr).toContain('"not a job id"');
    expect(await workspace.storedJobs()).toEqual([]);
  });

  it('a missing --file: exit 2, names the file', async () => {
    const result = await cli(['track', '--file', 'no-such-file.txt']);
    expect(result.code).toBe(EXIT_USAGE);
    expect(result.stderr).toContain('no-such-file.txt');
  });

  it('no ids at all: exit 2', async () => {
    const result = await cli(['track', '--label', 'team=bi']);
    expect(result.code).toBe(EXIT_USAGE);
    expect(result.stderr).toContain('at least one job id');
  });

  it.each([['track', 'job-a'], ['untrack', 'job-a'], ['list'], ['tick', '--json']])(
    'a garbage file at the store path: %s exits 4 with a clear message and leaves the file as it was',
    async (...argv) => {
      const garbage = Buffer.concat([Buffer.from('this is not a database\n'), randomBytes(4096)]);
      writeFileSync(workspace.storePath, garbage);
      const result = await cli(argv);
      expect(result.code).toBe(EXIT_STORE);
      expect(result.stderr).toContain('store is unusable');
      expect(result.stderr).toContain(workspace.storePath);
      expect(result.stderr).toContain('not a SQLite database');
      expect(result.stdout).toBe('');
      expect(readFileSync(workspace.storePath).equals(garbage)).toBe(true);
      expect(harness.simulator.requestCount).toBe(0);
    },
  );

  it('a bad DLI_WATCH_STORE: exit 2 naming it', async () => {
    const result = await cli(['track', 'job-a'], { env: { ...env, DLI_WATCH_STORE: 'postgres://db/jobs' } });
    expect(result.code).toBe(EXIT_USAGE);
    expect(result.stderr).toContain('DLI_WATCH_STORE');
  });
});

describe('untrack', () => {
  it('reports what it removed and names what was not tracked', async () => {
    await cli(['track', 'job-a', 'job-b', 'job-c']);
    const result = await cli(['untrack', 'job-a', 'job-c', 'job-typo']);
    expect(result.code).toBe(EXIT_OK);
    expect(result.stdout).toContain('untracked 2 job(s)');
    expect(result.stdout).toMatch(/not tracked.*job-typo/);
    expect(result.stdout).not.toMatch(/not tracked.*job-a/);
    expect((await workspace.storedJobs()).map((record) => record.jobId)).toEqual(['job-b']);
  });

  it('an invalid id: exit 2 and nothing is removed', async () => {
    await cli(['track', 'job-a']);
    const result = await cli(['untrack', 'job-a', 'x/y']);
    expect(result.code).toBe(EXIT_USAGE);
    expect(result.stderr).toContain('"x/y"');
    expect((await workspace.storedJobs()).map((record) => record.jobId)).toEqual(['job-a']);
  });
});

describe('list', () => {
  it('an empty store: an empty JSON array, and a table with only its header', async () => {
    // A store that exists but holds nothing (list itself creates none).
    await cli(['track', 'job-x']);
    await cli(['untrack', 'job-x']);
    expect(await listJson()).toEqual([]);
    const table = await cli(['list']);
    expect(table.code).toBe(EXIT_OK);
    expect(table.stdout.trim().split('\n')).toHaveLength(1);
    expect(table.stdout).toMatch(/^JOB ID\s+STATUS\s+LAST CHANGE\s+ROUTED TO\s+PENDING\s+DEAD-LETTERED\n$/);
  });

  it('shows status, last poll, pending and dead-lettered deliveries, and LOST jobs', async () => {
    harness.simulator.addJob('job-done', { lifecycle: ['FINISHED'] });
    harness.simulator.addJob('job-running', { lifecycle: ['RUNNING'] });
    // job-gone is unknown to DLI: three "no such job" answers in a row make it lost.
    await cli(['track', 'job-done', 'job-running', 'job-gone', '--label', 'team=bi']);
    harness.slack.respondNext({ status: 429, headers: { 'retry-after': '600' }, body: 'rate_limited' });
    harness.webhook.respondNext({ status: 404, body: 'no such endpoint' });
    for (let tick = 0; tick < 3; tick += 1) expect((await cli(['tick', '--json'])).code).toBe(EXIT_OK);
    // Tracked after the last cycle: never polled yet.
    await cli(['track', 'job-waiting']);

    const jobs = await listJson();
    expect(jobs.map((job) => job.job_id)).toEqual(['job-done', 'job-gone', 'job-running', 'job-waiting']);
    const [done, gone, running, waiting] = jobs;
    expect(done).toMatchObject({ status: 'FINISHED', labels: { team: 'bi' } });
    expect(done?.pending_deliveries).toEqual([
      expect.objectContaining({
        destination: 'alerts',
        attempts: 1,
        last_error: expect.stringContaining('429'),
      }),
    ]);
    expect(done?.dead_lettered_deliveries).toEqual([
      expect.objectContaining({
        destination: 'audit',
        attempts: 1,
        last_error: expect.stringContaining('404'),
      }),
    ]);
    expect(gone).toMatchObject({ status: 'LOST', pending_deliveries: [], dead_lettered_deliveries: [] });
    expect(running).toMatchObject({
      status: 'RUNNING',
      pending_deliveries: [],
      dead_lettered_deliveries: [],
    });
    expect(waiting).toMatchObject({ status: 'NOT_POLLED', last_polled_at: null });
    for (const job of [done, gone, running]) {
      expect(Date.parse(job?.last_polled_at ?? '')).toBeGreaterThan(Date.now() - 60_000);
    }

    const table = await cli(['list']);
    expect(table.code).toBe(EXIT_OK);
    expect(table.stderr).toBe('');
    const rows = table.stdout.trimEnd().split('\n');
    expect(rows).toHaveLength(5);
    expect(rows[1]).toMatch(
      /^job-done\s+FINISHED\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\s+alerts,audit\s+alerts\s+audit$/,
    );
    expect(rows[2]).toMatch(/^job-gone\s+LOST\s+\S+\s+-\s+-\s+-$/);
    expect(rows[3]).toMatch(/^job-running\s+RUNNING\s/);
    expect(rows[4]).toMatch(/^job-waiting\s+NOT_POLLED\s+-\s+-\s+-\s+-$/);
  });

  it('lists more jobs than one store page as one valid JSON array', async () => {
    const jobIds = ids('many', 1234);
    await cli(['track', ...jobIds]);
    const jobs = await listJson();
    expect(jobs.map((job) => job.job_id)).toEqual(jobIds);
    const table = await cli(['list']);
    expect(table.stdout.trimEnd().split('\n')).toHaveLength(1 + 1234);
  });
});

describe('tick', () => {
  it('--json: one JSON summary object on stdout, the logs on stderr', async () => {
    harness.simulator.addJob('job-done', { lifecycle: ['FINISHED'] });
    harness.simulator.addJob('job-running', { lifecycle: ['RUNNING'] });
    await cli(['track', 'job-done', 'job-running']);
    const result = await cli(['tick', '--json']);
    expect(result.code).toBe(EXIT_OK);
    expect(result.stdout.endsWith('\n')).toBe(true);
    expect(result.stdout.trimEnd().split('\n')).toHaveLength(1);
    const summary = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(summary).toMatchObject({ polled: 2, changed: 2, notified: 2, delivery_failures: 0, errors: 0 });
    expect(summary.duration_ms).toEqual(expect.any(Number));
    // Every stderr line is a log line; the "delivered" ones went there, not to stdout.
    const lines = result.stderr.trimEnd().split('\n');
    expect(logLines(result.stderr)).toHaveLength(lines.length);
    expect(logLines(result.stderr).filter((line) => line.message === 'delivered')).toHaveLength(2);
    expect(harness.slack.requests).toHaveLength(1);
    expect(harness.webhook.requests).toHaveLength(1);
    expect(harness.webhook.requests[0]?.path).toBe(`/dli/${WEBHOOK_PATH_TOKEN}`);
  });

  it('without --json: one summary line', async () => {
    harness.simulator.addJob('job-done', { lifecycle: ['FINISHED'] });
    await cli(['track', 'job-done']);
    const result = await cli(['tick']);
    expect(result.code).toBe(EXIT_OK);
    expect(result.stdout).toMatch(/^polled 1, changed 1, notified 2, .* in \d+ ms\n$/);
  });

  it('exits 0 when a job’s DLI request fails and when a delivery fails: both wait for a later cycle', async () => {
    harness.simulator.addJob('job-broken', { lifecycle: ['FINISHED'] });
    harness.simulator.addJob('job-done', { lifecycle: ['FINISHED'] });
    harness.simulator.injectFault({ kind: 'malformed' }, { jobId: 'job-broken' });
    harness.webhook.respondNext({ status: 404 });
    await cli(['track', 'job-broken', 'job-done']);
    const result = await cli(['tick', '--json']);
    expect(result.code).toBe(EXIT_OK);
    expect(JSON.parse(result.stdout)).toMatchObject({
      polled: 1,
      notified: 1,
      delivery_failures: 1,
      errors: 1,
    });
    expect(
      logLines(result.stderr).some((line) => line.job_id === 'job-broken' && line.level === 'WARN'),
    ).toBe(true);
    const broken = (await workspace.storedJobs()).find((record) => record.jobId === 'job-broken');
    expect(broken).toMatchObject({ status: null, version: 1 });
  });

  it('rejected AK/SK: exit 3, names the credential variables, shows no secret, changes nothing', async () => {
    harness.simulator.addJob('job-done', { lifecycle: ['FINISHED'] });
    await cli(['track', 'job-done', 'job-other']);
    const before = await workspace.storedJobs();
    const result = await cli(['tick', '--json'], { env: { ...env, HUAWEICLOUD_SDK_SK: WRONG_SECRET_KEY } });
    expect(result.code).toBe(EXIT_CREDENTIALS);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('DLI rejected the credentials');
    expect(result.stderr).toContain('HUAWEICLOUD_SDK_AK');
    expect(result.stderr).toContain('HUAWEICLOUD_SDK_SK');
    expect(await workspace.storedJobs()).toEqual(before);
    expect(harness.slack.requests).toHaveLength(0);
  });

  it('a rejected DLI_AUTH_TOKEN: exit 3, names DLI_AUTH_TOKEN, does not show the token', async () => {
    await cli(['track', 'job-done']);
    const { HUAWEICLOUD_SDK_AK: _ak, HUAWEICLOUD_SDK_SK: _sk, ...withoutAkSk } = env;
    const result = await cli(['tick'], { env: { ...withoutAkSk, DLI_AUTH_TOKEN: AUTH_TOKEN } });
    expect(result.code).toBe(EXIT_CREDENTIALS);
    expect(result.stderr).toContain('DLI_AUTH_TOKEN');
  });

  it('a bad configuration: exit 2, every problem listed by variable, nothing in the store changed', async () => {
    harness.simulator.addJob('job-done', { lifecycle: ['FINISHED'] });
    await cli(['track', 'job-done']);
    const before = await workspace.storedJobs();
    const bad: Env = {
      DLI_WATCH_STORE: env.DLI_WATCH_STORE,
      DLI_REGION: 'north-pole',
      DLI_PROJECT_ID: 'project/with/slashes',
      DLI_ENDPOINT: 'http://dli.example.com',
      HUAWEICLOUD_SDK_AK: ACCESS_KEY,
      DLI_WATCH_CONCURRENCY: '0',
      DLI_WATCH_MAX_RPS: 'fast',
      DLI_WATCH_DLI_TIMEOUT_MS: '1',
      DLI_WATCH_LOG_LEVEL: 'chatty',
      DLI_WATCH_WEBHOOKS: `http://hooks.example.com/${WEBHOOK_PATH_TOKEN}`,
      DLI_WATCH_CONFIG: 'missing.json',
    };
    const expected = [
      'DLI_REGION',
      'DLI_PROJECT_ID',
      'DLI_ENDPOINT',
      'HUAWEICLOUD_SDK_SK',
      'DLI_WATCH_CONCURRENCY',
      'DLI_WATCH_MAX_RPS',
      'DLI_WATCH_DLI_TIMEOUT_MS',
      'DLI_WATCH_LOG_LEVEL',
      'DLI_WATCH_WEBHOOKS',
      'DLI_WATCH_CONFIG',
    ];
    for (const argv of [['tick', '--json'], ['run']]) {
      const result = await cli(argv, { env: bad });
      expect(result.code).toBe(EXIT_USAGE);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain(`${expected.length} problem(s)`);
      for (const variable of expected) expect(result.stderr).toMatch(new RegExp(`^  - ${variable}: `, 'm'));
    }
    expect(await workspace.storedJobs()).toEqual(before);
    expect(harness.simulator.requestCount).toBe(0);
  });

  it('a bad DLI_WATCH_STORE is listed with the other problems', async () => {
    const result = await cli(['tick'], {
      env: { ...env, DLI_WATCH_STORE: 'redis:jobs', DLI_REGION: undefined },
    });
    expect(result.code).toBe(EXIT_USAGE);
    expect(result.stderr).toContain('DLI_WATCH_STORE');
    expect(result.stderr).toContain('DLI_REGION');
  });

  it('DLI_WATCH_WEBHOOKS destinations are delivered to without their URL showing anywhere', async () => {
    harness.simulator.addJob('job-failed', { lifecycle: ['FAILED'] });
    await cli(['track', 'job-failed']);
    const webhookOrigin = new URL(harness.destinations[1]?.url ?? '').origin;
    const result = await cli(['tick', '--json'], {
      env: {
        ...env,
        DLI_WATCH_CONFIG: undefined,
        DLI_WATCH_WEBHOOKS: `${webhookOrigin}/shortcut/${WEBHOOK_PATH_TOKEN}`,
      },
    });
    expect(result.code).toBe(EXIT_OK);
    expect(JSON.parse(result.stdout)).toMatchObject({ notified: 1 });
    expect(harness.webhook.requests.map((request) => request.path)).toEqual([
      `/shortcut/${WEBHOOK_PATH_TOKEN}`,
    ]);
  });
});

describe('run', () => {
  it('cycles until the signal aborts, then exits 0 with every delivery recorded', async () => {
    harness.simulator.addJob('job-done', { lifecycle: ['RUNNING', 'FINISHED'] });
    harness.simulator.addJob('job-failed', { lifecycle: ['FAILED'] });
    await cli(['track', 'job-done', 'job-failed']);
    const stop = new AbortController();
    const result = await cli(['run', '--interval', '1'], {
      signal: stop.signal,
      // Stops between cycles, once both jobs have ended and been delivered (the second cycle).
      onStderr: (line) => {
        if (line.includes('"cycle finished"') && harness.slack.requests.length === 2) stop.abort();
      },
    });
    expect(result.code).toBe(EXIT_OK);
    expect(result.stdout).toBe('');
    const messages = logLines(result.stderr).map((line) => line.message);
    expect(messages.filter((message) => message === 'cycle finished')).toHaveLength(2);
    expect(messages.at(-1)).toBe('stopped');
    const jobs = await listJson();
    expect(jobs.map((job) => [job.job_id, job.status, job.pending_deliveries.length])).toEqual([
      ['job-done', 'FINISHED', 0],
      ['job-failed', 'FAILED', 0],
    ]);
    expect(harness.slack.requests).toHaveLength(2);
    expect(harness.webhook.requests).toHaveLength(2);
  });

  // A stop must not cut off a delivery the receiver already has: recorded as failed, it would be sent again by
  // the next cycle. `run --help` and CycleOptions.signal both promise the work under way finishes.
  it('a stop while a delivery is in flight waits for its answer and records it: nothing is sent twice', async () => {
    harness.simulator.addJob('job-failed', { lifecycle: ['FAILED'] });
    await cli(['track', 'job-failed']);
    harness.webhook.respondNext({ status: 204, delayMs: 500 });
    const stop = new AbortController();
    const running = cli(['run', '--interval', '1'], { signal: stop.signal });
    await harness.webhook.waitForRequests(1, 15_000);
    // The receiver has the message and holds its answer: stop now.
    stop.abort();
    const result = await running;
    expect(result.code).toBe(EXIT_OK);
    const [job] = await listJson();
    expect(job).toMatchObject({ status: 'FAILED', pending_deliveries: [], dead_lettered_deliveries: [] });
    expect(harness.webhook.requests).toHaveLength(1);
  });

  it('rejected credentials end the loop with exit 3 instead of retrying forever', async () => {
    await cli(['track', 'job-a']);
    const result = await cli(['run', '--interval', '1'], {
      env: { ...env, HUAWEICLOUD_SDK_SK: WRONG_SECRET_KEY },
      // Only a safety net: a loop that kept going would end here with exit 0 and fail the test.
      signal: AbortSignal.timeout(15_000),
    });
    expect(result.code).toBe(EXIT_CREDENTIALS);
    expect(result.stderr).toContain('HUAWEICLOUD_SDK_SK');
  });
});

describe('test-destination', () => {
  it('sends a marked test message to every destination and prints what each accepted', async () => {
    const result = await cli(['test-destination']);
    expect(result.code).toBe(EXIT_OK);
    expect(result.stdout).toMatch(/^alerts \(slack, 127\.0\.0\.1:\d+\): accepted$/m);
    expect(result.stdout).toMatch(/^audit \(webhook, 127\.0\.0\.1:\d+\): accepted$/m);
    const slackText = JSON.parse(harness.slack.requests[0]?.body ?? '{}').text as string;
    expect(JSON.stringify(JSON.parse(harness.slack.requests[0]?.body ?? '{}').blocks)).toContain(
      'test message',
    );
    expect(slackText).toContain('dli-watch test message');
    const webhookBody = JSON.parse(harness.webhook.requests[0]?.body ?? '{}');
    expect(webhookBody.data).toMatchObject({ job_id: 'dli-watch-test', labels: { dli_watch_test: 'true' } });
    // Nothing was tracked or stored by a test message.
    expect(await workspace.storedJobs()).toEqual([]);
  });

  it('words the test message in the destination’s language', async () => {
    const result = await cli(['test-destination', 'alerts'], {
      env: { ...env, DLI_WATCH_LANGUAGE: 'zh-CN' },
    });
    expect(result.code).toBe(EXIT_OK);
    const slackText = JSON.parse(harness.slack.requests[0]?.body ?? '{}').text as string;
    expect(slackText).toBe('✅ 🧪 dli-watch 测试消息：并无 DLI 作业结束');
  });

  it('prints the platform’s own error for a destination that refuses, and exits 1', async () => {
    harness.slack.respondNext({ status: 404, body: 'channel_not_found' });
    const result = await cli(['test-destination', 'alerts']);
    expect(result.code).toBe(EXIT_FAILURE);
    expect(result.stdout).toMatch(/^alerts \(slack, 127\.0\.0\.1:\d+\): rejected: 404 channel_not_found$/m);
    expect(harness.webhook.requests).toHaveLength(0);
  });

  it('refuses an unknown destination name, listing the configured ones', async () => {
    const result = await cli(['test-destination', 'nope']);
    expect(result.code).toBe(EXIT_USAGE);
    expect(result.stderr).toContain('no destination is called nope (configured: alerts, audit)');
    expect(harness.slack.requests).toHaveLength(0);
  });
});
