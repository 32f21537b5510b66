import { afterEach, describe, expect, it } from 'vitest';
import type { CycleSummary } from '../../lib/cycle/run-cycle.ts';
import { readWatchStates } from '../../lib/cycle/watch-state.ts';
import type { SimulatedJobFields } from '../../lib/simulator/dli-simulator.ts';
import type { JobStore } from '../../lib/store/job-store.ts';
import { SqliteStore } from '../../lib/store/sqlite-store.ts';
import { StoreError } from '../../lib/store/store-error.ts';
import { createWatch, type Watch } from '../../lib/watch.ts';
import { startDynalite } from '../support/dynalite.ts';
import { forwardingStore } from '../support/forwarding-store.ts';
import { startWatchHarness, type WatchHarness } from '../support/watch-harness.ts';

const MINUTE = 60_000;
const BUDGET = { budgetMs: 50_000 };

let harness: WatchHarness;
afterEach(async () => {
  await harness?.close();
});

/** A harness whose DLI runs on the harness clock, so jobs are submitted and end as the test moves time. */
async function start(options: Parameters<typeof startWatchHarness>[0] = {}): Promise<WatchHarness> {
  harness = await startWatchHarness({ sharedClock: true, ...options });
  const slack = harness.destinations[0];
  if (slack?.type !== 'slack') throw new Error('the harness lists Slack first');
  // One message per event, to count them.
  harness.destinations[0] = { ...slack, digestThreshold: 1000 };
  return harness;
}

const watch = createWatch;

/**
 * A job DLI shows from `submittedAt` on: RUNNING, then `ending` at `endsAt` when given. `fields` set its queue,
 * owner, type and tags.
 */
function submit(
  jobId: string,
  options: { at?: number; endsAt?: number; ending?: string; fields?: SimulatedJobFields } = {},
): void {
  const at = options.at ?? harness.clock.now();
  const timeline = [{ at, status: 'RUNNING' }];
  if (options.endsAt !== undefined)
    timeline.push({ at: options.endsAt, status: options.ending ?? 'FINISHED' });
  harness.simulator.addJob(jobId, { timeline, fields: { queue_name: 'default', ...options.fields } });
}

/** Runs `count` cycles a minute apart, as the schedule would. */
async function cycles(count: number, watches: Watch[], store?: JobStore): Promise<CycleSummary[]> {
  const watcher = harness.newWatcher({ watches, ...(store ? { store } : {}) });
  const summaries: CycleSummary[] = [];
  for (let index = 0; index < count; index++) {
    summaries.push(await watcher.tick(BUDGET));
    harness.clock.advance(MINUTE);
  }
  return summaries;
}

async function trackedIds(store: JobStore = harness.store): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const page = await store.list({ limit: 500, cursor });
    ids.push(...page.items.map((record) => record.jobId));
    cursor = page.cursor;
  } while (cursor);
  return ids.sort();
}

function webhookIds(): string[] {
  return harness.webhook.requests.map((request) => request.headers['webhook-id'] ?? '');
}

describe('a watch', () => {
  it('finds the jobs on matching queues, owners, types and tags, labelled for routing, and never the others', async () => {
    await start();
    const watches = [
      watch('etl', { queues: ['etl_*'], labels: { team: 'data' } }),
      watch('finance', { owners: ['fin_*'], jobTypes: ['INSERT', 'QUERY'], tags: ['team=finance'] }),
      watch('ledger', { queues: ['reports'], sqlPattern: 'from *ledger' }),
    ];
    await cycles(1, watches);
    submit('etl-1', { fields: { queue_name: 'etl_daily' } });
    submit('etl-2', { fields: { queue_name: 'etl_hourly', owner: 'someone' } });
    submit('fin-1', {
      fields: { owner: 'fin_alice', job_type: 'INSERT', tags: [{ key: 'team', value: 'finance' }] },
    });
    submit('ledger-1', { fields: { queue_name: 'reports', statement: 'SELECT * FROM gl.Ledger_2026' } });
    // Each misses one filter: a queue that only looks alike, a DDL job, a fuzzy tag, another statement.
    submit('other-1', { fields: { queue_name: 'xetl_daily' } });
    submit('other-2', {
      fields: { owner: 'fin_bob', job_type: 'DDL', tags: [{ key: 'team', value: 'finance' }] },
    });
    submit('other-3', {
      fields: { owner: 'fin_carol', job_type: 'QUERY', tags: [{ key: 'team', value: 'finance-eu' }] },
    });
    submit('other-4', { fields: { queue_name: 'reports', statement: 'SELECT 1' } });
    harness.clock.advance(1_000);
    const [summary] = await cycles(1, watches);

    expect(summary?.discovered).toBe(4);
    expect(await trackedIds()).toEqual(['etl-1', 'etl-2', 'fin-1', 'ledger-1']);
    expect((await harness.store.get('etl-1'))?.labels).toEqual({ team: 'data', watch: 'etl' });
    expect((await harness.store.get('fin-1'))?.labels).toEqual({ watch: 'finance' });
    expect((await harness.store.get('etl-2'))?.status).toBe('RUNNING');
    const states = await readWatchStates(harness.store);
    expect(states.get('etl')?.found).toBe(2);
    expect(states.get('finance')?.found).toBe(1);
  });

  it('leaves a job already tracked as it is', async () => {
    await start();
    await cycles(1, [watch('all')]);
    submit('mine');
    await harness.store.track([{ jobId: 'mine', labels: { owner: 'me' } }], harness.clock.now());
    await cycles(2, [watch('all')]);
    expect((await harness.store.get('mine'))?.labels).toEqual({ owner: 'me' });
  });

  it('does not announce the history of the project, unless since backfills it', async () => {
    await start();
    const base = harness.clock.now();
    submit('old-finished', { at: base - 90 * MINUTE, endsAt: base - 80 * MINUTE });
    submit('old-running', { at: base - 50 * MINUTE });
    submit('ancient', { at: base - 5 * 60 * MINUTE, endsAt: base - 4 * 60 * MINUTE, ending: 'FAILED' });

    await cycles(3, [watch('fresh')]);
    expect(await trackedIds()).toEqual([]);
    expect(harness.slack.requests).toHaveLength(0);

    await cycles(2, [watch('backfill', { since: { kind: 'before-first-cycle', ms: 2 * 60 * MINUTE } })]);
    expect(await trackedIds()).toEqual(['old-finished', 'old-running']);
    // The backfilled job that had ended is told once; the one still running is watched until it ends.
    expect(harness.slack.requests).toHaveLength(1);
    expect((await harness.store.get('old-running'))?.phase).toBe('active');
  });

  it('notifies once a job that was submitted and ended between two cycles', async () => {
    await start();
    await cycles(1, [watch('etl', { queues: ['etl'] })]);
    const now = harness.clock.now();
    submit('quick', {
      at: now + 5_000,
      endsAt: now + 20_000,
      ending: 'FAILED',
      fields: { queue_name: 'etl', message: 'DLI.0005: Table not found' },
    });
    harness.clock.advance(30_000);
    await cycles(3, [watch('etl', { queues: ['etl'] })]);
    expect(harness.slack.requests).toHaveLength(1);
    expect(harness.webhook.requests).toHaveLength(1);
    const body = JSON.parse(harness.webhook.requests[0]?.body ?? '{}');
    expect(body).toMatchObject({
      type: 'dli.job.failed',
      data: { job_id: 'quick', previous_status: null, labels: { watch: 'etl' } },
    });
    expect(body.data).not.toHaveProperty('end_time');
  });

  it('moves its cursor only past jobs it stored: a failure to store them loses none', async () => {
    await start();
    const watches = [watch('all')];
    await cycles(1, watches);
    const cursorBefore = (await readWatchStates(harness.store)).get('all')?.cursor;
    for (let index = 0; index < 5; index++) submit(`lost-${index}`, { endsAt: harness.clock.now() + 1_000 });
    harness.clock.advance(10_000);

    let failures = 0;
    const failing = forwardingStore(harness.store, {
      track: async () => {
        failures++;
        throw new StoreError('the store went away');
      },
    });
    const [failed] = await cycles(1, watches, failing);
    expect(failures).toBe(1);
    expect(failed?.errors_by_kind.store).toBe(1);
    expect(await trackedIds()).toEqual([]);
    expect((await readWatchStates(harness.store)).get('all')?.cursor).toBe(cursorBefore);

    await cycles(2, watches);
    expect(await trackedIds()).toEqual(['lost-0', 'lost-1', 'lost-2', 'lost-3', 'lost-4']);
    expect(harness.slack.requests).toHaveLength(5);
    expect(new Set(webhookIds()).size).toBe(5);
  });

  it('leaves the cursor where it was when the list fails, and finds the jobs once DLI answers again', async () => {
    await start();
    const watches = [watch('all')];
    await cycles(1, watches);
    const cursorBefore = (await readWatchStates(harness.store)).get('all')?.cursor;
    submit('late');
    harness.clock.advance(1_000);
    // A malformed answer is not retried: the one list call of the cycle fails.
    harness.simulator.injectFault({ kind: 'malformed' }, { route: 'list', times: 1 });
    const [failed] = await cycles(1, watches).catch((error) => [error.summary as CycleSummary]);
    expect(failed?.errors_by_kind.malformed).toBeGreaterThan(0);
    expect(await trackedIds()).toEqual([]);
    expect((await readWatchStates(harness.store)).get('all')?.cursor).toBe(cursorBefore);
    await cycles(1, watches);
    expect(await trackedIds()).toEqual(['late']);
  });

  it('reads a window of more than 10,000 jobs to the end without asking for page 101', async () => {
    await start();
    const base = harness.clock.now();
    for (let index = 0; index < 10_500; index++) {
      submit(`bulk-${String(index).padStart(5, '0')}`, { at: base - 50 * MINUTE + index * 200 });
    }
    const [summary] = await cycles(1, [
      watch('all', { since: { kind: 'before-first-cycle', ms: 60 * MINUTE } }),
    ]);
    expect(summary?.errors).toBe(0);
    expect(summary?.discovered).toBe(10_500);
    expect((await trackedIds()).length).toBe(10_500);
    // 105 pages and a few more where rows share a boundary: never one call per job.
    expect(summary?.list_calls).toBeLessThan(120);
  });

  it('skips no job submitted while a scan pages, nor one DLI dates a little before the scan', async () => {
    await start();
    const watches = [watch('all')];
    await cycles(1, watches);
    const base = harness.clock.now();
    for (let index = 0; index < 350; index++) submit(`early-${index}`, { at: base + index });
    harness.clock.advance(5_000);
    // Every list request moves DLI's clock on: jobs keep being submitted while the scan pages, and some show up
    // in the list only after a delay, dated before the scan's end.
    let requests = 0;
    let submitting = true;
    const submitted: string[] = [];
    harness.simulator.onRequest((route) => {
      if (route !== 'list' || !submitting) return;
      requests++;
      const now = harness.clock.now();
      submit(`during-${requests}`, { at: now });
      submit(`lagging-${requests}`, { at: now, fields: { start_time: now - 20_000 } });
      submitted.push(`during-${requests}`, `lagging-${requests}`);
      harness.clock.advance(100);
    });
    const watcher = harness.newWatcher({ watches });
    for (let cycle = 0; cycle < 3; cycle++) {
      await watcher.tick(BUDGET);
      harness.clock.advance(MINUTE);
    }
    expect(requests).toBeGreaterThan(6);
    // One more cycle for the jobs submitted during the last one.
    submitting = false;
    await watcher.tick(BUDGET);
    const tracked = await trackedIds();
    const expected = [...Array.from({ length: 350 }, (_, index) => `early-${index}`), ...submitted].sort();
    expect(tracked).toEqual(expected);
  });

  it('tracks each job once and notifies each ending once when two cycles race on one store', async () => {
    await start();
    const watches = [watch('all')];
    await cycles(1, watches);
    for (let index = 0; index < 12; index++) {
      submit(
        `race-${index}`,
        index % 2 ? { endsAt: harness.clock.now() + 70_000 } : { endsAt: harness.clock.now() + 1 },
      );
    }
    harness.clock.advance(2_000);
    const other = SqliteStore.open(harness.storePath);
    try {
      const a = harness.newWatcher({ watches });
      const b = harness.newWatcher({ watches, store: other });
      for (let round = 0; round < 3; round++) {
        await Promise.all([a.tick(BUDGET), b.tick(BUDGET)]);
        harness.clock.advance(MINUTE);
      }
    } finally {
      await other.close();
    }
    expect((await trackedIds()).length).toBe(12);
    expect(harness.slack.requests).toHaveLength(12);
    expect(new Set(webhookIds()).size).toBe(12);
    expect((await readWatchStates(harness.store)).get('all')?.found).toBe(12);
  });

  it('tracks each job once and notifies each ending once when two cycles race on one DynamoDB table', async () => {
    await start();
    const dynamo = await startDynalite();
    try {
      const [a, b] = await dynamo.racingStores(harness.clock);
      const watches = [watch('all')];
      await cycles(1, watches, a);
      for (let index = 0; index < 8; index++) {
        submit(`dyn-${index}`, { endsAt: harness.clock.now() + (index % 2 ? 70_000 : 1) });
      }
      harness.clock.advance(2_000);
      const first = harness.newWatcher({ watches, store: a });
      const second = harness.newWatcher({ watches, store: b });
      for (let round = 0; round < 3; round++) {
        await Promise.all([first.tick(BUDGET), second.tick(BUDGET)]);
        harness.clock.advance(MINUTE);
      }
      expect((await trackedIds(a)).length).toBe(8);
      expect(harness.slack.requests).toHaveLength(8);
      expect(new Set(webhookIds()).size).toBe(8);
      expect(harness.webhook.requests).toHaveLength(8);
    } finally {
      await dynamo.close();
    }
  });
});

describe('batched status', () => {
  it('reads the statuses of many jobs a hundred a request, and writes nothing for a job that did not change', async () => {
    await start();
    const base = harness.clock.now();
    const jobIds = Array.from({ length: 300 }, (_, index) => `many-${String(index).padStart(3, '0')}`);
    jobIds.forEach((jobId, index) => {
      submit(jobId, {
        at: base - 30 * MINUTE + index * 1000,
        ...(index < 3 ? { endsAt: base + 90_000 } : {}),
      });
    });
    await harness.store.track(
      jobIds.map((jobId) => ({ jobId })),
      base,
    );
    let updates = 0;
    const written = new Set<string>();
    const counting = forwardingStore(harness.store, {
      update: (next, expected) => {
        updates++;
        written.add(next.jobId);
        return harness.store.update(next, expected);
      },
    });
    const watcher = harness.newWatcher({ store: counting });
    const first = await watcher.tick(BUDGET);
    // Never polled: no start time known yet, so each gets its status call once, and is then placed.
    expect(first.status_calls).toBe(300);
    expect(updates).toBe(300);
    harness.clock.advance(MINUTE);

    updates = 0;
    const second = await watcher.tick(BUDGET);
    expect(second.status_plan).toBe('window');
    expect(second.status_calls).toBe(0);
    expect(second.list_calls).toBeLessThanOrEqual(10);
    expect(second.polled).toBe(300);
    expect(updates).toBe(0);
    harness.clock.advance(MINUTE);

    written.clear();
    const third = await watcher.tick(BUDGET);
    expect(third.changed).toBe(3);
    // The three that ended, and their deliveries' outcomes: nothing for the 297 still running.
    expect([...written].sort()).toEqual(['many-000', 'many-001', 'many-002']);
    expect(harness.slack.requests).toHaveLength(3);
  });

  it('writes nothing for an unchanged job polled one by one either', async () => {
    await start({ statusPlan: 'per-job' });
    submit('steady-1');
    submit('steady-2');
    await harness.store.track([{ jobId: 'steady-1' }, { jobId: 'steady-2' }], harness.clock.now());
    let updates = 0;
    const counting = forwardingStore(harness.store, {
      update: (next, expected) => {
        updates++;
        return harness.store.update(next, expected);
      },
    });
    const watcher = harness.newWatcher({ store: counting });
    await watcher.tick(BUDGET);
    expect(updates).toBe(2);
    updates = 0;
    for (let round = 0; round < 3; round++) {
      harness.clock.advance(MINUTE);
      const summary = await watcher.tick(BUDGET);
      expect(summary.polled).toBe(2);
      expect(summary.list_calls).toBe(0);
    }
    expect(updates).toBe(0);
  });

  it('takes up where the last cycle stopped when jobs polled one by one do not all fit, writing nothing', async () => {
    await harness?.close();
    // Every DLI answer costs a second of the cycle's clock: a 5.5 s budget polls about four jobs.
    harness = await startWatchHarness({ statusPlan: 'per-job', dliRequestCostMs: 1_000 });
    const jobIds = Array.from({ length: 10 }, (_, index) => `round-${index}`);
    for (const jobId of jobIds) harness.simulator.addJob(jobId, { lifecycle: ['RUNNING'] });
    await harness.store.track(
      jobIds.map((jobId) => ({ jobId })),
      harness.clock.now(),
    );
    const watcher = harness.newWatcher({ concurrency: 1 });
    // First polls: each is a change (the status becomes known), so every job is written once.
    for (let cycle = 0; cycle < 3; cycle++) {
      await watcher.tick({ budgetMs: 5_500 });
      harness.clock.advance(MINUTE);
    }
    expect(jobIds.every((jobId) => harness.simulator.pollCount(jobId) >= 1)).toBe(true);

    const before = new Map(jobIds.map((jobId) => [jobId, harness.simulator.pollCount(jobId)]));
    let updates = 0;
    const counting = forwardingStore(harness.store, {
      update: (next, expected) => {
        updates++;
        return harness.store.update(next, expected);
      },
    });
    const rounds = harness.newWatcher({ concurrency: 1, store: counting });
    const polledPerCycle: number[] = [];
    for (let cycle = 0; cycle < 3; cycle++) {
      const summary = await rounds.tick({ budgetMs: 5_500 });
      expect(summary.deferred).toBe(true);
      polledPerCycle.push(summary.polled);
      harness.clock.advance(MINUTE);
    }
    // Three cycles of about four polls each went round all ten jobs: none was polled twice before another once.
    const polledAgain = jobIds.map((jobId) => harness.simulator.pollCount(jobId) - (before.get(jobId) ?? 0));
    expect(polledPerCycle.reduce((sum, polled) => sum + polled, 0)).toBeGreaterThanOrEqual(10);
    expect(Math.min(...polledAgain)).toBeGreaterThanOrEqual(1);
    expect(Math.max(...polledAgain) - Math.min(...polledAgain)).toBeLessThanOrEqual(1);
    expect(updates).toBe(0);
  });

  it('falls back to status calls when the list fails, changing nothing it did not read', async () => {
    await start();
    const base = harness.clock.now();
    for (const [index, jobId] of ['fb-1', 'fb-2', 'fb-3'].entries()) {
      submit(jobId, { at: base - 10 * MINUTE + index, endsAt: base + 30_000 });
    }
    await harness.store.track(
      ['fb-1', 'fb-2', 'fb-3'].map((jobId) => ({ jobId })),
      base,
    );
    await cycles(1, []);
    harness.simulator.injectFault({ kind: 'server-error', status: 503 }, { route: 'list', times: 20 });
    const [summary] = await cycles(1, []);
    expect(summary?.status_plan).toBe('per-job');
    expect(summary?.status_calls).toBe(3);
    expect(summary?.changed).toBe(3);
    expect(harness.slack.requests).toHaveLength(3);
  });

  it('sends the same messages whichever plan read the statuses', async () => {
    const clockStart = Math.floor(Date.now() / MINUTE) * MINUTE;
    const lifecycle = (jobId: string, index: number) => {
      const base = harness.clock.now();
      const endings = ['FINISHED', 'FAILED', 'CANCELLED'];
      submit(jobId, {
        at: base - 20 * MINUTE + index * 1000,
        endsAt: base + MINUTE + index * 10_000,
        ending: endings[index % 3] ?? 'FINISHED',
        fields: {
          queue_name: 'etl',
          owner: 'alice',
          ...(index % 3 === 1 ? { message: 'DLI.0005: AnalysisException: Table or view not found' } : {}),
        },
      });
    };
    const run = async (statusPlan: 'auto' | 'per-job') => {
      await start({ statusPlan, clockStart });
      const jobIds = ['same-a', 'same-b', 'same-c', 'same-d'];
      jobIds.forEach(lifecycle);
      await harness.store.track(
        jobIds.map((jobId) => ({ jobId, labels: { team: 'data' } })),
        harness.clock.now(),
      );
      const summaries = await cycles(4, []);
      const slack = harness.slack.requests.map((request) => JSON.parse(request.body));
      const webhooks = harness.webhook.requests.map((request) => {
        const body = JSON.parse(request.body);
        delete body.data.job_mode;
        return body;
      });
      await harness.close();
      harness = undefined as unknown as WatchHarness;
      return { summaries, slack, webhooks };
    };
    const perJob = await run('per-job');
    const batched = await run('auto');
    expect(perJob.summaries.map((summary) => summary.status_plan)).toEqual([
      'per-job',
      'per-job',
      'per-job',
      'per-job',
    ]);
    expect(batched.summaries[1]?.status_plan).toBe('window');
    expect(perJob.slack).toHaveLength(4);
    expect(batched.slack).toEqual(perJob.slack);
    expect(batched.webhooks).toEqual(perJob.webhooks);
  });
});
