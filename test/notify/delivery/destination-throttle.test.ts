import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bucketFor } from '../../../lib/notify/delivery/destination-throttle.ts';
import { createChatDestination } from '../../../lib/notify/destination.ts';
import { createWatcher } from '../../../lib/run/watcher.ts';
import type { Clock } from '../../../lib/util/clock.ts';
import { createDingTalkReceiver, type DingTalkReceiver } from '../../support/platforms/dingtalk-receiver.ts';
import { startWatchHarness, type WatchHarness } from '../../support/watch-harness.ts';

const DINGTALK_SECRET = 'SEC0123456789abcdef0123456789abcdef0123456789abcdef';
let harness: WatchHarness;
let dingtalk: DingTalkReceiver;

beforeEach(async () => {
  harness = await startWatchHarness();
  // DingTalk's clock is the cycle's: its 20-a-minute window sees the time the cycles think it is.
  dingtalk = createDingTalkReceiver({ secret: DINGTALK_SECRET, now: harness.clock.now });
  const url = await dingtalk.start();
  // Only the DingTalk robot, one message per event (digests off), so every event spends a token.
  harness.destinations.splice(
    0,
    harness.destinations.length,
    createChatDestination({
      name: 'robot',
      type: 'dingtalk',
      url,
      secret: DINGTALK_SECRET,
      digestThreshold: 1000,
    }),
  );
});
afterEach(async () => {
  await dingtalk?.close();
  await harness?.close();
});

async function burst(count: number): Promise<string[]> {
  const jobIds = Array.from({ length: count }, (_, index) => `burst-${String(index).padStart(3, '0')}`);
  for (const jobId of jobIds) harness.simulator.addJob(jobId, { lifecycle: ['FINISHED'] });
  await harness.store.track(
    jobIds.map((jobId) => ({ jobId })),
    harness.clock.now(),
  );
  return jobIds;
}

describe('per-destination rate limits', () => {
  it('keeps a token bucket within both published limits', () => {
    // 20/min: at most 20 in any minute, the burst included.
    const dingtalkBucket = bucketFor({ perMinute: 20 });
    expect(dingtalkBucket.burst + dingtalkBucket.ratePerSecond * 60).toBeLessThanOrEqual(20);
    // 5/s and 100/min.
    const feishuBucket = bucketFor({ perMinute: 100, perSecond: 5 });
    expect(feishuBucket.burst + feishuBucket.ratePerSecond).toBeLessThanOrEqual(5);
    expect(feishuBucket.burst + feishuBucket.ratePerSecond * 60).toBeLessThanOrEqual(100);
  });

  it('delivers a burst of 60 jobs ending together without ever getting a DingTalk robot throttled', async () => {
    const jobIds = await burst(60);
    const watcher = harness.newWatcher({ concurrency: 8 });
    const notified: number[] = [];
    for (let cycle = 0; cycle < 8 && notified.reduce((a, b) => a + b, 0) < 60; cycle += 1) {
      const summary = await watcher.tick({ budgetMs: 50_000 });
      notified.push(summary.notified);
      expect(summary.delivery_failures).toBe(0);
      harness.clock.advance(60_000);
    }
    // Every message accepted, none answered 130101, spread over several cycles at no more than 20 a minute.
    expect(dingtalk.posted).toHaveLength(60);
    expect(dingtalk.http.requests).toHaveLength(60);
    expect(notified.length).toBeGreaterThan(2);
    expect(Math.max(...notified)).toBeLessThanOrEqual(20);
    for (const jobId of jobIds) expect(await harness.store.get(jobId)).toMatchObject({ deliveries: [] });
  });

  it('pauses a destination the platform froze (DingTalk 130101) for ten minutes, then delivers', async () => {
    await burst(3);
    dingtalk.http.respondNext({
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ errcode: 130101, errmsg: 'send too fast, exceed 20 times per minute' }),
    });
    const watcher = harness.newWatcher();
    const first = await watcher.tick({ budgetMs: 50_000 });
    // One attempt, frozen: the other two are not even tried while the robot is paused.
    expect(first).toMatchObject({ notified: 0, delivery_failures: 1, dead_lettered: 0 });
    expect(dingtalk.http.requests).toHaveLength(1);
    for (let minute = 1; minute < 10; minute += 1) {
      harness.clock.advance(60_000);
      expect((await watcher.tick({ budgetMs: 50_000 })).notified).toBe(0);
    }
    expect(dingtalk.http.requests).toHaveLength(1);
    harness.clock.advance(61_000);
    expect((await watcher.tick({ budgetMs: 50_000 })).notified).toBe(3);
    expect(dingtalk.posted).toHaveLength(3);
  });

  it('hands a message waiting for its rate-limit slot back to the next cycle when a stop comes, never sends it early', async () => {
    const jobIds = await burst(5);
    const stop = new AbortController();
    // A stop arrives while the second message waits for its slot (DingTalk: 20 a minute, a burst of one).
    const clock: Clock = {
      now: harness.clock.now,
      sleep: (ms, signal) => {
        if (ms < 1_000) return harness.clock.sleep(ms, signal);
        setImmediate(() => stop.abort());
        return new Promise((resolve) => signal?.addEventListener('abort', () => resolve(), { once: true }));
      },
    };
    const watcher = createWatcher(harness.config, { store: harness.store, log: harness.log, clock });
    const summary = await watcher.tick({ budgetMs: 50_000, signal: stop.signal });
    expect(dingtalk.http.requests).toHaveLength(1);
    expect(summary).toMatchObject({ notified: 1, delivery_failures: 0, deferred: true });
    const owed = (await Promise.all(jobIds.map((jobId) => harness.store.get(jobId)))).flatMap(
      (record) => record?.deliveries ?? [],
    );
    expect(owed).toHaveLength(4);
    for (const delivery of owed)
      expect(delivery).toMatchObject({ state: 'pending', attempts: 0, leaseUntil: null });
  });
});
