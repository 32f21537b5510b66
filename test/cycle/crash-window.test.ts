/**
 * The crash window, measured from outside: a real `dli-watch tick` process, killed with SIGKILL in the middle
 * of sending a page of messages, and the next process picking up after it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDliSimulator, type DliSimulator } from '../../lib/simulator/dli-simulator.ts';
import { createWebhookReceiver, type WebhookReceiver } from '../../lib/simulator/webhook-receiver.ts';
import { SqliteStore } from '../../lib/store/sqlite-store.ts';
import { ACCESS_KEY, PROJECT_ID, SECRET_KEY } from '../support/watch-harness.ts';

const BIN = resolve(import.meta.dirname, '../../bin/dli-watch.js');
const JOBS = 20;

let simulator: DliSimulator;
let receiver: WebhookReceiver;
let receiverUrl: string;
let directory: string;
let env: Record<string, string>;

beforeEach(async () => {
  simulator = createDliSimulator({
    projectId: PROJECT_ID,
    credentials: { accessKey: ACCESS_KEY, secretKey: SECRET_KEY },
  });
  receiver = createWebhookReceiver({ defaultResponse: { status: 204 } });
  const [dliUrl, startedReceiver] = await Promise.all([simulator.start(), receiver.start()]);
  receiverUrl = startedReceiver;
  directory = mkdtempSync(join(tmpdir(), 'dli-watch-crash-'));
  writeFileSync(
    join(directory, 'dli-watch.config.json'),
    JSON.stringify({ destinations: [{ name: 'audit', type: 'webhook', url: `${receiverUrl}/events` }] }),
  );
  env = {
    DLI_REGION: 'cn-north-4',
    DLI_PROJECT_ID: PROJECT_ID,
    DLI_ENDPOINT: dliUrl,
    HUAWEICLOUD_SDK_AK: ACCESS_KEY,
    HUAWEICLOUD_SDK_SK: SECRET_KEY,
    DLI_WATCH_STORE: 'sqlite:state.db',
    // Short, so that the killed cycle's lease (its budget plus three send timeouts and two pauses) ends soon.
    DLI_WATCH_SEND_TIMEOUT_MS: '500',
    DLI_WATCH_LOG_LEVEL: 'warn',
  };
});

afterEach(async () => {
  await Promise.all([simulator.close(), receiver.close()]);
  rmSync(directory, { recursive: true, force: true });
});

function tick(): { child: ChildProcess; exited: Promise<{ code: number | null; signal: string | null }> } {
  const child = spawn(process.execPath, [BIN, 'tick', '--budget', '1'], {
    cwd: directory,
    env,
    stdio: 'ignore',
  });
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolveExit, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolveExit({ code, signal }));
  });
  return { child, exited };
}

/** Ids of the jobs whose event the receiver got, one entry per request. */
function receivedJobIds(): string[] {
  return receiver.requests.map(
    (request) => (JSON.parse(request.body) as { data: { job_id: string } }).data.job_id,
  );
}

async function pendingDeliveries(): Promise<number> {
  const store = SqliteStore.open(join(directory, 'state.db'));
  try {
    const page = await store.list({ limit: 1000 });
    return page.items.reduce((sum, record) => sum + record.deliveries.length, 0);
  } finally {
    await store.close();
  }
}

describe('a cycle killed while it sends', () => {
  it('repeats only the message in flight: the next cycle sends each other job once', async () => {
    const ids = Array.from({ length: JOBS }, (_, index) => `job-${String(index + 1).padStart(2, '0')}`);
    for (const id of ids) simulator.addJob(id, { lifecycle: ['FAILED'] });
    const track = spawn(process.execPath, [BIN, 'track', ...ids], { cwd: directory, env, stdio: 'ignore' });
    await new Promise((resolveTrack) => track.on('close', resolveTrack));

    // The first message is answered at once; the second is held, and the process is killed while it waits.
    receiver.respondNext({ status: 204 }, { status: 204, delayMs: 3_000 });
    const first = tick();
    const stopAtSecond = receiver.onRequest(() => {
      if (receiver.requests.length === 2) first.child.kill('SIGKILL');
    });
    expect((await first.exited).signal).toBe('SIGKILL');
    stopAtSecond();
    const [delivered, inFlight] = receivedJobIds();

    // Cycles until everything is delivered: the killed cycle's lease must run out first.
    const deadline = Date.now() + 25_000;
    while ((await pendingDeliveries()) > 0) {
      if (Date.now() > deadline) throw new Error('deliveries still pending after 25 s');
      expect((await tick().exited).code).toBe(0);
    }

    const counts = Map.groupBy(receivedJobIds(), (id) => id);
    expect([...counts.keys()].sort()).toEqual(ids);
    const doubled = [...counts].filter(([, copies]) => copies.length > 1).map(([id]) => id);
    // The delivered one was recorded before the next went out; only the one in flight at the kill repeats.
    expect(doubled).toEqual([inFlight]);
    expect(counts.get(delivered ?? '')).toHaveLength(1);
    expect(receiver.requests).toHaveLength(JOBS + 1);
  });
});

describe('a cycle killed while a watch scans', () => {
  it('loses no job it found: the next cycle finds the rest, and each ending is told once', async () => {
    writeFileSync(
      join(directory, 'dli-watch.config.json'),
      JSON.stringify({
        destinations: [{ name: 'audit', type: 'webhook', url: `${receiverUrl}/events` }],
        watches: [{ name: 'all' }],
      }),
    );
    // The watch's first cycle: it starts now.
    expect((await tick().exited).code).toBe(0);
    // Three pages of jobs submitted since, all already ended by the next cycle.
    const now = Date.now();
    const ids = Array.from({ length: 250 }, (_, index) => `found-${String(index).padStart(3, '0')}`);
    ids.forEach((id, index) => {
      simulator.addJob(id, {
        timeline: [
          { at: now - 10_000 + index, status: 'RUNNING' },
          { at: now - 5_000, status: 'FAILED' },
        ],
      });
    });

    // Killed as it asks for the second page: the first page's jobs are tracked, the cursor not yet moved.
    const killed = tick();
    let listCalls = 0;
    simulator.onRequest((route) => {
      if (route === 'list' && ++listCalls === 2) killed.child.kill('SIGKILL');
    });
    expect((await killed.exited).signal).toBe('SIGKILL');
    const store = SqliteStore.open(join(directory, 'state.db'));
    try {
      const trackedAfterKill = (await store.list({ limit: 1000 })).items.length;
      expect(trackedAfterKill).toBeGreaterThan(0);
      expect(trackedAfterKill).toBeLessThan(ids.length);
    } finally {
      await store.close();
    }

    const deadline = Date.now() + 25_000;
    for (;;) {
      expect((await tick().exited).code).toBe(0);
      if (receiver.requests.length >= ids.length && (await pendingDeliveries()) === 0) break;
      if (Date.now() > deadline) throw new Error('not every found job was told after 25 s');
    }
    const counts = Map.groupBy(receivedJobIds(), (id) => id);
    expect([...counts.keys()].sort()).toEqual(ids);
    expect([...counts.values()].every((copies) => copies.length === 1)).toBe(true);
  });
});
