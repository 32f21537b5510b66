import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from '../../lib/cli/cli-io.ts';
import { summaryRecord } from '../../lib/daily-summary.ts';
import type { Delivery, JobRecord } from '../../lib/job.ts';
import type { JobDetailView, JobView } from '../../lib/job-view.ts';
import { DynamoDbStore } from '../../lib/store/dynamodb-store.ts';
import type { JobStore } from '../../lib/store/job-store.ts';
import { SqliteStore } from '../../lib/store/sqlite-store.ts';
import {
  type CliResult,
  type CliWorkspace,
  createCliWorkspace,
  runCli,
  WEBHOOK_PATH_TOKEN,
} from '../support/cli-workspace.ts';
import { LOCAL_AWS, type LocalDynamoDb, startDynalite } from '../support/dynalite.ts';
import { smallDailySummary } from '../support/events.ts';
import {
  SECRET_KEY,
  SLACK_PATH,
  startWatchHarness,
  type WatchHarness,
  WEBHOOK_SECRET,
} from '../support/watch-harness.ts';

// The operator's commands (show, redeliver, prune, list's filters, untrack --file) and what every command shares
// (--store, --config, --version, no store created by a command that only reads), through the real CLI: `main()`
// in-process against real SQLite files and loopback servers, and the real bin script where a process matters.

type Env = Record<string, string | undefined>;

const PROJECT_ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(PROJECT_ROOT, 'bin/dli-watch.js');
const SECRETS = [SECRET_KEY, WEBHOOK_SECRET, SLACK_PATH, WEBHOOK_PATH_TOKEN];
const DAY = 24 * 60 * 60_000;
const TIME = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/;

let harness: WatchHarness;
let workspace: CliWorkspace;
let env: Env;

beforeEach(async () => {
  harness = await startWatchHarness();
  workspace = createCliWorkspace(harness, 'dli-watch-operate-', 'destinations.json');
  env = { ...workspace.env, DLI_WATCH_CONFIG: 'destinations.json' };
});

afterEach(async () => {
  vi.unstubAllEnvs();
  await harness?.close();
  workspace?.remove();
});

/** Runs the CLI in-process and checks that neither stream shows a secret. */
function cli(argv: string[], options: { env?: Env } = {}): Promise<CliResult> {
  return runCli(argv, { env: options.env ?? env, cwd: workspace.directory, secrets: SECRETS });
}

async function listJson(...filters: string[]): Promise<JobView[]> {
  const result = await cli(['list', '--json', ...filters]);
  expect(result.code, result.stderr).toBe(EXIT_OK);
  return JSON.parse(result.stdout) as JobView[];
}

async function showJson(jobId: string): Promise<JobDetailView> {
  const result = await cli(['show', jobId, '--json']);
  expect(result.code, result.stderr).toBe(EXIT_OK);
  return JSON.parse(result.stdout) as JobDetailView;
}

function ids(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, index) => `${prefix}-${String(index).padStart(5, '0')}`);
}

/** A delivery as the cycle stores it. */
function delivery(overrides: Partial<Delivery>): Delivery {
  return {
    destination: 'alerts',
    state: 'pending',
    attempts: 1,
    createdAt: Date.now() - DAY,
    nextAttemptAt: Date.now() + 60_000,
    leaseUntil: null,
    lastError: null,
    ...overrides,
  };
}

/** Writes jobs into a store the way cycles would have left them, through the store's own compare-and-set. */
async function seed(store: JobStore, jobs: Record<string, Partial<JobRecord>>): Promise<void> {
  await store.track(
    Object.keys(jobs).map((jobId) => ({ jobId })),
    Date.now() - 60 * DAY,
  );
  for (const [jobId, changes] of Object.entries(jobs)) {
    const record = await store.get(jobId);
    if (record === null) throw new Error(`test setup: ${jobId} was not tracked`);
    const ended = changes.phase === 'terminal';
    const event = ended
      ? {
          id: `msg_${jobId}`,
          type: (changes.status ?? 'FINISHED') as 'FINISHED',
          status: changes.status ?? 'FINISHED',
          previousStatus: 'RUNNING',
          occurredAt: changes.lastPolledAt ?? Date.now(),
          projectId: 'p',
          labels: {},
          job: { job_id: jobId, status: changes.status ?? 'FINISHED' },
          routedTo: (changes.deliveries ?? []).map((owed) => owed.destination),
        }
      : null;
    const stored = await store.update({ ...record, event, ...changes }, record.version);
    if (stored === null) throw new Error(`test setup: ${jobId} lost its compare-and-set`);
  }
}

/** {@link seed} into the workspace's SQLite store, which it creates. */
async function seedSqlite(
  jobs: Record<string, Partial<JobRecord>>,
  path = workspace.storePath,
): Promise<void> {
  const store = SqliteStore.open(path);
  try {
    await seed(store, jobs);
  } finally {
    await store.close();
  }
}

/** Jobs in every state a store holds, each finished one `age` ago. */
function mixedJobs(age: number): Record<string, Partial<JobRecord>> {
  const finishedAt = Date.now() - age;
  return {
    'job-running': { status: 'RUNNING', lastPolledAt: Date.now() - 60_000 },
    'job-waiting': {},
    'job-failed-dead': {
      phase: 'terminal',
      status: 'FAILED',
      lastPolledAt: finishedAt,
      statusChangedAt: finishedAt,
      deliveries: [
        delivery({ destination: 'audit', state: 'dead', attempts: 7, lastError: 'HTTP 410 Gone' }),
      ],
    },
    'job-finished': {
      phase: 'terminal',
      status: 'FINISHED',
      lastPolledAt: finishedAt,
      statusChangedAt: finishedAt,
    },
    'job-cancelled-owing': {
      phase: 'terminal',
      status: 'CANCELLED',
      lastPolledAt: finishedAt,
      statusChangedAt: finishedAt,
      deliveries: [delivery({ destination: 'alerts', lastError: 'HTTP 503' })],
    },
    'job-lost': { phase: 'lost', status: 'RUNNING', notFoundCount: 3, lastPolledAt: finishedAt },
  };
}

/** Ends the pending tests' harness work: a job that finished, its Slack delivery pending, its webhook one dead. */
async function endWithOneDeadLetter(
  jobId: string,
  status: 'FINISHED' | 'FAILED' = 'FINISHED',
): Promise<void> {
  harness.simulator.addJob(jobId, { lifecycle: [status] });
  expect((await cli(['track', jobId, '--label', 'team=bi'])).code).toBe(EXIT_OK);
  harness.slack.respondNext({ status: 429, headers: { 'retry-after': '600' }, body: 'rate_limited' });
  harness.webhook.respondNext({ status: 404, body: 'no such endpoint' });
  expect((await cli(['tick', '--json'])).code).toBe(EXIT_OK);
}

describe('show', () => {
  it('shows one job in full: status, labels, routing, event id and every delivery with its last error', async () => {
    await endWithOneDeadLetter('job-done');

    const view = await showJson('job-done');

    expect(view).toMatchObject({
      job_id: 'job-done',
      status: 'FINISHED',
      phase: 'terminal',
      labels: { team: 'bi' },
      routed_to: ['alerts', 'audit'],
      not_found_count: 0,
      event_id: expect.stringMatching(/^msg_[0-9a-f]{32}$/),
    });
    expect(view.status_changed_at).toBe(view.last_polled_at);
    // DLI's start time, from the poll: it places the job in the job list's windows.
    expect(view.start_time).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    expect(view.deliveries).toEqual([
      expect.objectContaining({
        destination: 'alerts',
        state: 'pending',
        attempts: 1,
        next_attempt_at: expect.any(String),
        leased_until: null,
        last_error: expect.stringContaining('429'),
      }),
      expect.objectContaining({
        destination: 'audit',
        state: 'dead_lettered',
        attempts: 1,
        next_attempt_at: null,
        last_error: expect.stringContaining('404'),
      }),
    ]);
    // About ten minutes on: the platform's Retry-After.
    expect(Date.parse(view.deliveries[0]?.next_attempt_at ?? '')).toBeGreaterThan(Date.now() + 9 * 60_000);

    const text = await cli(['show', 'job-done']);
    expect(text).toMatchObject({ code: EXIT_OK, stderr: '' });
    expect(text.stdout).toMatch(/^job\s+job-done$/m);
    expect(text.stdout).toMatch(/^status\s+FINISHED$/m);
    expect(text.stdout).toMatch(/^labels\s+team=bi$/m);
    expect(text.stdout).toMatch(/^routed to\s+alerts, audit$/m);
    expect(text.stdout).toMatch(/^not found\s+0 poll\(s\) in a row$/m);
    expect(text.stdout).toContain(view.event_id ?? 'no event id');
    expect(text.stdout).toMatch(/^DESTINATION\s+EVENT\s+STATE\s+ATTEMPTS\s+NEXT ATTEMPT\s+LAST ERROR$/m);
    expect(text.stdout).toMatch(
      new RegExp(`^alerts\\s+FINISHED\\s+pending\\s+1\\s+${TIME.source}\\s+.*429`, 'm'),
    );
    expect(text.stdout).toMatch(/^audit\s+FINISHED\s+dead-lettered\s+1\s+-\s+.*404/m);
  });

  it('shows LOST with its not-found count, and NOT_POLLED before the first poll', async () => {
    await cli(['track', 'job-gone']);
    for (let tick = 0; tick < 3; tick += 1) expect((await cli(['tick', '--json'])).code).toBe(EXIT_OK);
    await cli(['track', 'job-new']);

    expect(await showJson('job-gone')).toMatchObject({
      status: 'LOST',
      phase: 'lost',
      not_found_count: 3,
      routed_to: null,
      event_id: null,
      deliveries: [],
    });
    expect(await showJson('job-new')).toMatchObject({ status: 'NOT_POLLED', last_polled_at: null });
    const text = await cli(['show', 'job-gone']);
    expect(text.stdout).toMatch(/^status\s+LOST$/m);
    expect(text.stdout).toMatch(/^not found\s+3 poll\(s\) in a row$/m);
    expect(text.stdout).toMatch(/^routed to\s+- \(not ended yet\)$/m);
    expect(text.stdout).toMatch(/^no deliveries$/m);
  });

  it('an id that is not tracked: a clear message on stderr, exit 1', async () => {
    await cli(['track', 'job-a']);
    const result = await cli(['show', 'job-typo']);
    expect(result).toEqual({
      code: EXIT_FAILURE,
      stdout: '',
      stderr: 'dli-watch show: job job-typo is not tracked\n',
    });
  });

  it.each([[['show']], [['show', 'job-a', 'job-b']], [['show', 'bad id']], [['show', 'job-a', '--frob']]])(
    'bad usage %j: exit 2',
    async (argv) => {
      await cli(['track', 'job-a']);
      const result = await cli(argv);
      expect(result.code).toBe(EXIT_USAGE);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain("Run 'dli-watch show --help'");
    },
  );
});

describe('redeliver', () => {
  it('sends a dead-lettered delivery again, with the webhook-id of its first attempt, and only that one', async () => {
    await endWithOneDeadLetter('job-failed', 'FAILED');
    expect(harness.webhook.requests).toHaveLength(1);
    const firstId = harness.webhook.requests[0]?.headers['webhook-id'];
    expect(firstId).toMatch(/^msg_/);
    expect((await listJson('--dead-lettered')).map((job) => job.job_id)).toEqual(['job-failed']);
    const before = Date.now();

    const result = await cli(['redeliver', 'job-failed']);

    expect(result.code, result.stderr).toBe(EXIT_OK);
    expect(result.stdout).toContain('job-failed: back to pending: audit\n');
    expect(result.stdout).toContain('redelivering 1 delivery(ies) of 1 job(s)');
    const audit = (await showJson('job-failed')).deliveries.find((owed) => owed.destination === 'audit');
    // Attempts are kept (they count requests really made); it is due now, the event id unchanged.
    expect(audit).toMatchObject({
      state: 'pending',
      attempts: 1,
      last_error: expect.stringContaining('404'),
    });
    expect(Date.parse(audit?.next_attempt_at ?? '')).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(audit?.next_attempt_at ?? '')).toBeLessThanOrEqual(Date.now());
    expect(await listJson('--dead-lettered')).toEqual([]);

    expect((await cli(['tick', '--json'])).code).toBe(EXIT_OK);

    expect(harness.webhook.requests).toHaveLength(2);
    expect(harness.webhook.requests[1]?.headers['webhook-id']).toBe(firstId);
    // The Slack delivery still waits out its Retry-After: redeliver touched nothing but the dead letter.
    expect(harness.slack.requests).toHaveLength(1);
    const [job] = await listJson();
    expect(job?.dead_lettered_deliveries).toEqual([]);
    expect(job?.pending_deliveries.map((owed) => owed.destination)).toEqual(['alerts']);
  });

  it('--destination redelivers only that one; unknown ids exit 1; nothing dead-lettered is left alone', async () => {
    const dead = (destination: string) =>
      delivery({ destination, state: 'dead', attempts: 9, lastError: 'x' });
    await seedSqlite({
      'job-two-dead': {
        phase: 'terminal',
        status: 'FAILED',
        lastPolledAt: 1,
        deliveries: [dead('alerts'), dead('audit')],
      },
      'job-fine': { phase: 'terminal', status: 'FINISHED', lastPolledAt: 1 },
    });
    const stateOf = async (jobId: string) =>
      (await showJson(jobId)).deliveries.map((owed) => `${owed.destination}:${owed.state}:${owed.attempts}`);

    const one = await cli(['redeliver', 'job-two-dead', '--destination', 'alerts']);
    expect(one.code, one.stderr).toBe(EXIT_OK);
    expect(one.stdout).toContain('job-two-dead: back to pending: alerts\n');
    expect(await stateOf('job-two-dead')).toEqual(['alerts:pending:9', 'audit:dead_lettered:9']);

    const again = await cli(['redeliver', '-d', 'alerts', 'job-two-dead']);
    expect(again.code).toBe(EXIT_OK);
    expect(again.stdout).toContain('nothing to alerts dead-lettered (left alone): job-two-dead');

    const rest = await cli(['redeliver', 'job-two-dead', 'job-fine', 'job-typo']);
    expect(rest.code).toBe(EXIT_FAILURE);
    expect(rest.stdout).toContain('job-two-dead: back to pending: audit\n');
    expect(rest.stdout).toContain('nothing dead-lettered (left alone): job-fine\n');
    expect(rest.stderr).toContain('not tracked: job-typo');
    expect(await stateOf('job-two-dead')).toEqual(['alerts:pending:9', 'audit:pending:9']);
    expect(await stateOf('job-fine')).toEqual([]);
  });

  it('reads ids from --file; an invalid id or no id at all changes nothing, exit 2', async () => {
    const dead = [delivery({ destination: 'audit', state: 'dead' })];
    await seedSqlite({
      'job-a': { phase: 'terminal', status: 'FAILED', lastPolledAt: 1, deliveries: dead },
      'job-b': { phase: 'terminal', status: 'FAILED', lastPolledAt: 1, deliveries: dead },
    });
    const invalid = await cli(['redeliver', 'job-a', 'x/y']);
    expect(invalid.code).toBe(EXIT_USAGE);
    expect(invalid.stderr).toContain('"x/y"');
    expect((await cli(['redeliver'])).code).toBe(EXIT_USAGE);
    expect((await cli(['redeliver', 'job-a', '--destination='])).code).toBe(EXIT_USAGE);
    expect((await listJson('--dead-lettered')).map((job) => job.job_id)).toEqual(['job-a', 'job-b']);

    writeFileSync(join(workspace.directory, 'dead.txt'), '# after the outage\njob-a\n\njob-b\n');
    const fromFile = await cli(['redeliver', '--file', 'dead.txt']);
    expect(fromFile.code, fromFile.stderr).toBe(EXIT_OK);
    expect(fromFile.stdout).toContain('redelivering 2 delivery(ies) of 2 job(s)');
    expect(await listJson('--dead-lettered')).toEqual([]);
  });
});

describe('a daily summary in the store', () => {
  it('is shown, redelivered and untracked by its record id, and sent again with its first webhook-id', async () => {
    const summary = { ...smallDailySummary(), id: 'summary:audit:2026-12-03', destination: 'audit' };
    const record = summaryRecord(summary, summary.occurredAt);
    const store = SqliteStore.open(workspace.storePath);
    try {
      const [owed] = record.deliveries;
      if (!owed) throw new Error('test setup: a summary record owes one delivery');
      const dead = { ...owed, state: 'dead' as const, attempts: 9, lastError: '404 no such endpoint' };
      expect(await store.create({ ...record, deliveries: [dead] })).toBe(true);
    } finally {
      await store.close();
    }

    expect(await showJson(summary.id)).toMatchObject({
      job_id: summary.id,
      status: 'SUMMARY',
      summary: { destination: 'audit', day: '2026-12-03', counts: { FINISHED: 10, FAILED: 3, CANCELLED: 0 } },
      deliveries: [
        expect.objectContaining({ destination: 'audit', event: 'SUMMARY', state: 'dead_lettered' }),
      ],
    });
    const text = await cli(['show', summary.id]);
    expect(text.stdout).toMatch(
      /^summary of\s+2026-12-03 \(Asia\/Shanghai\): 10 finished, 3 failed, 0 cancelled/m,
    );

    expect((await cli(['redeliver', summary.id])).stdout).toContain(`${summary.id}: back to pending: audit`);
    expect((await cli(['tick', '--json'])).code).toBe(EXIT_OK);
    const [sent] = harness.webhook.requests;
    expect(JSON.parse(sent?.body ?? '{}').type).toBe('dli.summary.daily');
    expect(sent?.headers['webhook-id']).toBe(summary.id);

    expect((await cli(['untrack', summary.id])).stdout).toContain('untracked 1 job(s)');
    // A DLI job id never has a colon: a summary's id cannot be tracked as a job.
    const tracked = await cli(['track', summary.id]);
    expect(tracked.code).toBe(EXIT_USAGE);
    expect(tracked.stderr).toContain('invalid job id');
  });
});

describe('list filters', () => {
  beforeEach(async () => {
    await seedSqlite(mixedJobs(DAY));
  });

  const listed = async (...filters: string[]) => (await listJson(...filters)).map((job) => job.job_id);

  it('--status matches the status as shown (LOST and NOT_POLLED too), in any case, any of several', async () => {
    expect(await listed('--status', 'FAILED')).toEqual(['job-failed-dead']);
    expect(await listed('--status', 'failed,Cancelled')).toEqual(['job-cancelled-owing', 'job-failed-dead']);
    expect(await listed('--status', 'FINISHED', '--status', 'LOST')).toEqual(['job-finished', 'job-lost']);
    expect(await listed('--status', 'NOT_POLLED')).toEqual(['job-waiting']);
    // A lost job's last seen status was RUNNING; it shows, and filters, as LOST.
    expect(await listed('--status', 'RUNNING')).toEqual(['job-running']);
    expect(await listed('--status', 'SCALING')).toEqual([]);
  });

  it('--active and --dead-lettered, combined with each other and with --status by AND', async () => {
    expect(await listed('--active')).toEqual(['job-running', 'job-waiting']);
    expect(await listed('--dead-lettered')).toEqual(['job-failed-dead']);
    expect(await listed('--active', '--status', 'RUNNING')).toEqual(['job-running']);
    expect(await listed('--dead-lettered', '--status', 'FAILED')).toEqual(['job-failed-dead']);
    expect(await listed('--dead-lettered', '--status', 'FINISHED')).toEqual([]);
    expect(await listed('--dead-lettered', '--active')).toEqual([]);
  });

  it('filters the table too, header always first', async () => {
    const table = await cli(['list', '--status', 'failed,lost']);
    expect(table.code).toBe(EXIT_OK);
    const rows = table.stdout.trimEnd().split('\n');
    expect(rows).toHaveLength(3);
    expect(rows[0]).toMatch(/^JOB ID\s+STATUS/);
    expect(rows[1]).toMatch(/^job-failed-dead\s+FAILED\s+\S+\s+audit\s+-\s+audit$/);
    expect(rows[2]).toMatch(/^job-lost\s+LOST\s/);
    const none = await cli(['list', '--dead-lettered', '--active']);
    expect(none.stdout.trimEnd().split('\n')).toHaveLength(1);
  });

  it.each([[['--status', '']], [['--status', 'FAILED,']], [['--status']], [['--dead-lettered=yes']]])(
    'a bad filter %j: exit 2',
    async (filter) => {
      const result = await cli(['list', ...filter]);
      expect(result.code).toBe(EXIT_USAGE);
      expect(result.stdout).toBe('');
    },
  );
});

describe('list table', () => {
  /** Where each header title starts: every row's cells must start there too. */
  function columnStarts(header: string): number[] {
    return ['JOB ID', 'STATUS', 'LAST CHANGE', 'ROUTED TO', 'PENDING', 'DEAD-LETTERED'].map((title) =>
      header.indexOf(title),
    );
  }

  it('sizes each column from its content: narrow for short cells, wide enough for the widest', async () => {
    await cli(['track', 'a', 'b-2']);
    const narrow = (await cli(['list'])).stdout.trimEnd().split('\n');
    // Two spaces after the widest cell of each column: "JOB ID" (6) is wider than "a" and "b-2".
    expect(columnStarts(narrow[0] ?? '')).toEqual([0, 8, 20, 33, 44, 53]);
    expect(narrow[1]).toBe('a       NOT_POLLED  -            -          -        -');

    const long = 'x'.repeat(64);
    await cli(['track', long]);
    const wide = (await cli(['list'])).stdout.trimEnd().split('\n');
    const starts = columnStarts(wide[0] ?? '');
    expect(starts[1]).toBe(66);
    for (const row of wide.slice(1)) {
      expect(row.indexOf('NOT_POLLED'), row).toBe(starts[1]);
      expect(row.slice(starts[2]).startsWith('-'), row).toBe(true);
    }
  });

  it('keeps control characters in a cell from breaking the table', async () => {
    await seedSqlite({
      'job-odd': { status: 'RUN\nNING', lastPolledAt: Date.now() },
    });
    const rows = (await cli(['list'])).stdout.trimEnd().split('\n');
    expect(rows).toHaveLength(2);
    expect(rows[1]).toMatch(/^job-odd\s+RUN\\nNING\s/);
  });
});

describe('untrack --file', () => {
  it('reads ids from a file (comments, blank lines, CRLF) with the positional ones', async () => {
    const fromFile = ids('file', 300);
    await cli(['track', 'argv-only', 'kept', ...fromFile]);
    writeFileSync(
      join(workspace.directory, 'done.txt'),
      `# finished last night\r\n\r\n${fromFile.map((id) => `  ${id}  `).join('\r\n')}\r\nnever-tracked\r\n`,
    );

    const result = await cli(['untrack', 'argv-only', '--file', 'done.txt']);

    expect(result.code).toBe(EXIT_OK);
    expect(result.stdout).toContain('untracked 301 job(s)');
    expect(result.stdout).toContain('not tracked (left alone): never-tracked');
    expect((await workspace.storedJobs()).map((record) => record.jobId)).toEqual(['kept']);
  });

  it('a missing file, or one bad line, is exit 2 and removes nothing', async () => {
    await cli(['track', 'job-a', 'job-b']);
    const missing = await cli(['untrack', '-f', 'no-such-file.txt']);
    expect(missing.code).toBe(EXIT_USAGE);
    expect(missing.stderr).toContain('no-such-file.txt');
    writeFileSync(join(workspace.directory, 'bad.txt'), 'job-a\nnot a job id\n');
    const bad = await cli(['untrack', '--file', 'bad.txt']);
    expect(bad.code).toBe(EXIT_USAGE);
    expect(bad.stderr).toContain('"not a job id"');
    expect((await workspace.storedJobs()).map((record) => record.jobId)).toEqual(['job-a', 'job-b']);
  });
});

describe('prune', () => {
  it('removes jobs finished longer ago than --older-than that owe nothing; dead-lettered only when asked', async () => {
    await seedSqlite({
      ...mixedJobs(40 * DAY),
      'job-recent': { phase: 'terminal', status: 'FINISHED', lastPolledAt: Date.now() - 10 * DAY },
    });
    const remaining = async () => (await workspace.storedJobs()).map((record) => record.jobId);

    const first = await cli(['prune', '--older-than', '30d']);

    expect(first.code, first.stderr).toBe(EXIT_OK);
    expect(first.stdout).toMatch(new RegExp(`^pruned 2 job\\(s\\) that finished before ${TIME.source}\n`));
    expect(first.stdout).toContain('kept 1 that hold dead-lettered deliveries');
    expect(first.stdout).toContain('--include-dead-lettered');
    expect(await remaining()).toEqual([
      'job-cancelled-owing',
      'job-failed-dead',
      'job-recent',
      'job-running',
      'job-waiting',
    ]);

    const dead = await cli(['prune', '--older-than', '30d', '--include-dead-lettered']);
    expect(dead.stdout).toBe(
      `pruned 1 job(s) that finished before ${/before (\S+)/.exec(dead.stdout)?.[1] ?? '?'}\n`,
    );
    expect(await remaining()).toEqual(['job-cancelled-owing', 'job-recent', 'job-running', 'job-waiting']);

    expect((await cli(['prune', '--older-than', '1w'])).stdout).toMatch(/^pruned 1 job\(s\)/);
    // What still polls or still owes a delivery is never pruned.
    expect(await remaining()).toEqual(['job-cancelled-owing', 'job-running', 'job-waiting']);
  });

  it.each([
    [[]],
    [['--older-than']],
    [['--older-than', 'soon']],
    [['--older-than', '30']],
    [['--older-than', '0d']],
    [['--older-than', '-1d']],
    [['--older-than', '1.5d']],
    [['--older-than', '30x']],
    [['--older-than', '1e3d']],
    [['--older-than', '30d12h']],
    [['--older-than', '999999999w']],
    [['--older-than', '30d', 'job-a']],
  ])('refuses %j with exit 2 and removes nothing', async (args) => {
    await seedSqlite(mixedJobs(40 * DAY));
    const result = await cli(['prune', ...args]);
    expect(result.code).toBe(EXIT_USAGE);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain("Run 'dli-watch prune --help'");
    expect(await workspace.storedJobs()).toHaveLength(6);
  });
});

describe('a command that needs an existing store', () => {
  const DEFAULT_STORE_DIRECTORY = '.dli-watch';

  it.each([
    [['list']],
    [['list', '--json']],
    [['show', 'job-a']],
    [['redeliver', 'job-a']],
    [['untrack', 'job-a']],
    [['prune', '--older-than', '30d']],
  ])('%j says there is no store at the default path, exit 1, and creates nothing', async (argv) => {
    const { DLI_WATCH_STORE: _unset, ...withoutStore } = env;
    const before = readdirSync(workspace.directory).sort();

    const result = await cli(argv, { env: withoutStore });

    expect(result.code).toBe(EXIT_FAILURE);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(
      `there is no store at ${join(workspace.directory, '.dli-watch', 'state.db')}`,
    );
    expect(result.stderr).toContain('DLI_WATCH_STORE');
    expect(result.stderr).toContain('--store');
    expect(existsSync(join(workspace.directory, DEFAULT_STORE_DIRECTORY))).toBe(false);
    expect(readdirSync(workspace.directory).sort()).toEqual(before);
  });

  it('names the path --store gave, and track still creates the store', async () => {
    const result = await cli(['list', '--store', 'sqlite:elsewhere/jobs.db']);
    expect(result.code).toBe(EXIT_FAILURE);
    expect(result.stderr).toContain(`no store at ${join(workspace.directory, 'elsewhere', 'jobs.db')}`);
    expect(existsSync(join(workspace.directory, 'elsewhere'))).toBe(false);

    expect((await cli(['track', 'job-a', '--store', 'sqlite:elsewhere/jobs.db'])).code).toBe(EXIT_OK);
    expect(existsSync(join(workspace.directory, 'elsewhere', 'jobs.db'))).toBe(true);
    const listed = await cli(['list', '--json', '--store', 'sqlite:elsewhere/jobs.db']);
    expect((JSON.parse(listed.stdout) as JobView[]).map((job) => job.job_id)).toEqual(['job-a']);
  });
});

describe('--store and --config', () => {
  it('--store wins over DLI_WATCH_STORE, before or after the command, spaced or with =', async () => {
    expect(env.DLI_WATCH_STORE).toBe('sqlite:state.db');
    expect((await cli(['track', 'job-flag', '--store', 'sqlite:flag.db'])).code).toBe(EXIT_OK);
    expect(existsSync(workspace.storePath)).toBe(false);

    for (const argv of [
      ['--store', 'sqlite:flag.db', 'list', '--json'],
      ['--store=sqlite:flag.db', 'list', '--json'],
      ['list', '--store=sqlite:flag.db', '--json'],
    ]) {
      const result = await cli(argv);
      expect(result.code, result.stderr).toBe(EXIT_OK);
      expect((JSON.parse(result.stdout) as JobView[]).map((job) => job.job_id)).toEqual(['job-flag']);
    }
    // The variable still counts without the flag.
    expect((await cli(['list'])).code).toBe(EXIT_FAILURE);
  });

  it('--config wins over DLI_WATCH_CONFIG', async () => {
    const withMissingConfig = { ...env, DLI_WATCH_CONFIG: 'no-such-config.json' };
    const refused = await cli(['tick', '--json'], { env: withMissingConfig });
    expect(refused.code).toBe(EXIT_USAGE);
    expect(refused.stderr).toContain('no-such-config.json');

    harness.simulator.addJob('job-done', { lifecycle: ['FINISHED'] });
    await cli(['track', 'job-done']);
    const ran = await cli(['tick', '--json', '--config', 'destinations.json'], { env: withMissingConfig });
    expect(ran.code, ran.stderr).toBe(EXIT_OK);
    expect(JSON.parse(ran.stdout)).toMatchObject({ notified: 2, errors: 0 });
    expect(harness.slack.requests).toHaveLength(1);
  });

  it.each([
    [['list', '--store']],
    [['list', '--store', '--json']],
    [['list', '--store=']],
    [['--config']],
    [['tick', '--config', '--json']],
  ])('%j without a value: exit 2', async (argv) => {
    const result = await cli(argv);
    expect(result.code).toBe(EXIT_USAGE);
    expect(result.stderr).toMatch(/--(store|config) needs/);
    expect(result.stdout).toBe('');
  });

  it('leaves what follows -- alone', async () => {
    const result = await cli(['track', '--', '--store']);
    expect(result.code, result.stderr).toBe(EXIT_OK);
    expect((await workspace.storedJobs()).map((record) => record.jobId)).toEqual(['--store']);
  });
});

describe('--version and help', () => {
  it.each([['--version'], ['-v']])('%s prints the version in package.json, exit 0', async (flag) => {
    const { version } = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
      version: string;
    };
    expect(await cli([flag])).toEqual({ code: EXIT_OK, stdout: `${version}\n`, stderr: '' });
  });

  it('the main help names the new commands and the options every command takes', async () => {
    const { stdout } = await cli(['--help']);
    for (const text of [
      '  show ',
      '  redeliver ',
      '  prune ',
      '--store <spec>',
      '--config <path>',
      '--version',
    ]) {
      expect(stdout).toContain(text);
    }
    expect(stdout).toContain('list [--json] [--status s] [--active] [--dead-lettered]');
    expect(stdout).toContain('untrack <job-id>... [--file <path>]');
  });

  it.each([
    ['show', ['--json']],
    ['redeliver', ['--destination', '--file']],
    ['prune', ['--older-than', '--include-dead-lettered']],
    ['list', ['--status', '--active', '--dead-lettered']],
    ['untrack', ['--file']],
  ])('%s --help documents its options and touches no store', async (command, options) => {
    const result = await cli([command, '--help']);
    expect(result.code).toBe(EXIT_OK);
    expect(result.stdout).toContain(`Usage: dli-watch ${command}`);
    for (const option of options) expect(result.stdout).toContain(option);
    expect(existsSync(workspace.storePath)).toBe(false);
  });
});

describe('on DynamoDB', () => {
  let dynamo: LocalDynamoDb;

  beforeAll(async () => {
    dynamo = await startDynalite();
  });

  afterAll(async () => {
    await dynamo?.close();
  });

  it('show, list filters, redeliver and prune work on a table that --store names', async () => {
    const table = await dynamo.createJobTable();
    // The SDK reads the AWS variables from the process, not from the CLI's environment.
    vi.stubEnv('AWS_REGION', LOCAL_AWS.region);
    vi.stubEnv('AWS_ACCESS_KEY_ID', LOCAL_AWS.credentials.accessKeyId);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', LOCAL_AWS.credentials.secretAccessKey);
    vi.stubEnv('AWS_SESSION_TOKEN', undefined);
    vi.stubEnv('AWS_PROFILE', undefined);
    vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', dynamo.endpoint);
    const store = new DynamoDbStore({ client: dynamo.client, table });
    try {
      await seed(store, mixedJobs(40 * DAY));
    } finally {
      await store.close();
    }
    const onTable = (...argv: string[]) => cli([...argv, '--store', `dynamodb:${table}`]);

    const shown = await onTable('show', 'job-failed-dead', '--json');
    expect(JSON.parse(shown.stdout)).toMatchObject({
      status: 'FAILED',
      deliveries: [
        { destination: 'audit', state: 'dead_lettered', attempts: 7, last_error: 'HTTP 410 Gone' },
      ],
    });
    const active = await onTable('list', '--json', '--active');
    expect((JSON.parse(active.stdout) as JobView[]).map((job) => job.job_id).sort()).toEqual([
      'job-running',
      'job-waiting',
    ]);

    const pruned = await onTable('prune', '--older-than', '30d');
    expect(pruned.stdout).toMatch(/^pruned 2 job\(s\)/);
    expect(pruned.stdout).toContain('kept 1 that hold dead-lettered deliveries');

    const redelivered = await onTable('redeliver', 'job-failed-dead', 'job-finished');
    expect(redelivered.code).toBe(EXIT_FAILURE);
    expect(redelivered.stdout).toContain('job-failed-dead: back to pending: audit');
    expect(redelivered.stderr).toContain('not tracked: job-finished');
    const dead = await onTable('list', '--json', '--dead-lettered');
    expect(JSON.parse(dead.stdout)).toEqual([]);
    // Owing a pending delivery again, so nothing is finished-and-done any more.
    expect((await onTable('prune', '--older-than', '1s', '--include-dead-lettered')).stdout).toMatch(
      /^pruned 0 job\(s\)/,
    );
    expect(existsSync(workspace.storePath)).toBe(false);
  });
});

describe('bin/dli-watch.js', () => {
  interface Exit {
    code: number | null;
    signal: NodeJS.Signals | null;
    stderr: string;
  }

  function spawnCli(args: string[], stdin = ''): { child: ChildProcess; exited: Promise<Exit> } {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: workspace.directory,
      env: workspace.env,
      stdio: 'pipe',
    });
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.stdin?.end(stdin);
    const exited = new Promise<Exit>((resolveExit, reject) => {
      child.on('error', reject);
      child.on('close', (code, signal) => resolveExit({ code, signal, stderr }));
    });
    return { child, exited };
  }

  it.each([[['list']], [['list', '--json']]])(
    '%j into a reader that stops after one line (list | head -1) ends quietly, exit 0',
    async (args) => {
      // Far more than a pipe buffer holds, so the list is still writing when the reader goes.
      expect((await cli(['track', ...ids('piped', 5000)])).code).toBe(EXIT_OK);
      const { child, exited } = spawnCli(args);
      let firstLine = '';
      child.stdout?.setEncoding('utf8');
      child.stdout?.once('data', (chunk: string) => {
        firstLine = chunk.split('\n', 1)[0] ?? '';
        child.stdout?.destroy();
      });

      const exit = await exited;

      expect(firstLine).toMatch(/^(JOB ID|\[)/);
      expect(exit.stderr).toBe('');
      expect(exit).toEqual({ code: 0, signal: null, stderr: '' });
    },
  );

  it('untrack --file - reads the ids from standard input', async () => {
    await cli(['track', 'job-1', 'job-2', 'job-3']);
    const exit = await spawnCli(['untrack', '--file', '-'], '# done\njob-1\n\njob-3\n').exited;
    expect(exit).toEqual({ code: 0, signal: null, stderr: '' });
    expect((await workspace.storedJobs()).map((record) => record.jobId)).toEqual(['job-2']);
  });
});
