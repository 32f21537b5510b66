import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDliSimulator } from '../../lib/simulator/dli-simulator.ts';
import { createWebhookReceiver } from '../../lib/simulator/webhook-receiver.ts';
import { SqliteStore } from '../../lib/store/sqlite-store.ts';
import { pollLambdaContext, scheduledEvent, schedulerEvent } from '../support/lambda.ts';
import { captureStdout, jsonLines, type StdoutCapture } from '../support/stdout.ts';

/** A Powertools log or EMF line, as far as these tests read it. */
interface LogLine {
  message?: string;
  correlation_id?: string;
  JobsPolled?: number;
  CycleFailed?: number;
  _aws?: { CloudWatchMetrics: { Namespace: string }[] };
}

const PROJECT_ID = 'abcdef0123456789abcdef0123456789';
const SECRET_KEY = 'SK-handler-test-secret-value';
const simulator = createDliSimulator({
  projectId: PROJECT_ID,
  credentials: { accessKey: 'AKHANDLER', secretKey: SECRET_KEY },
});
const receiver = createWebhookReceiver();
const directory = mkdtempSync(join(tmpdir(), 'dli-watch-handler-'));
const storePath = join(directory, 'state.db');
let stdout: StdoutCapture;

beforeAll(async () => {
  const [dliUrl, receiverUrl] = await Promise.all([simulator.start(), receiver.start()]);
  simulator.addJob('lambda-job', { lifecycle: ['RUNNING', 'FAILED'], fields: { message: 'boom' } });
  const store = SqliteStore.open(storePath);
  await store.track([{ jobId: 'lambda-job' }], Date.now());
  await store.close();
  Object.assign(process.env, {
    DLI_REGION: 'cn-north-4',
    DLI_PROJECT_ID: PROJECT_ID,
    DLI_ENDPOINT: dliUrl,
    HUAWEICLOUD_SDK_AK: 'AKHANDLER',
    HUAWEICLOUD_SDK_SK: SECRET_KEY,
    DLI_WATCH_STORE: `sqlite:${storePath}`,
    DLI_WATCH_WEBHOOKS: `${receiverUrl}/services/T1/B1/handler-secret-path`,
    DLI_WATCH_CONFIG: '',
    POWERTOOLS_SERVICE_NAME: 'dli-watch',
  });
  // Read for the correlation id and the metrics.
  stdout = captureStdout({ echo: true });
});

afterAll(async () => {
  stdout.restore();
  await Promise.all([simulator.close(), receiver.close()]);
  rmSync(directory, { recursive: true, force: true });
});

describe('handlers/poll', () => {
  it('runs one cycle per scheduled invocation, with the schedule execution id as the correlation id', async () => {
    const { handler } = await import('../../handlers/poll.ts');
    const first = await handler(schedulerEvent('cycle-1'), pollLambdaContext(150_000));
    expect(first).toMatchObject({ polled: 1, changed: 1, notified: 0, errors: 0 });
    const second = await handler(schedulerEvent('cycle-2'), pollLambdaContext(150_000));
    expect(second).toMatchObject({ polled: 1, changed: 1, notified: 1 });
    expect(receiver.requests).toHaveLength(1);
    // A loopback URL in DLI_WATCH_WEBHOOKS is a generic (Standard Webhooks) destination.
    expect(JSON.parse(receiver.requests[0]?.body ?? '{}')).toMatchObject({ type: 'dli.job.failed' });

    const lines = jsonLines<LogLine>(stdout.chunks);
    const finished = lines.filter((entry) => entry.message === 'cycle finished');
    expect(finished.map((entry) => entry.correlation_id)).toEqual(['cycle-1', 'cycle-2']);
    expect(finished[0]).toMatchObject({
      scheduled_time: '2026-11-25T10:00:00Z',
      function_name: 'dli-watch-dev-poll',
      service: 'dli-watch',
      polled: 1,
    });
    // Each cycle's metrics go out as an EMF line (CloudWatch reads them from the logs).
    const emf = lines.filter((entry) => entry._aws !== undefined);
    expect(emf.filter((entry) => 'JobsPolled' in entry).map((entry) => entry.JobsPolled)).toEqual([1, 1]);
    expect(emf.find((entry) => 'JobsPolled' in entry)?._aws?.CloudWatchMetrics[0]?.Namespace).toBe(
      'DliWatch',
    );
    const everything = stdout.chunks.join('');
    expect(everything).not.toContain(SECRET_KEY);
    expect(everything).not.toContain('handler-secret-path');
  });

  it('starts no job when Lambda has too little time left for one to finish', async () => {
    const { handler } = await import('../../handlers/poll.ts');
    simulator.addJob('late-job', { lifecycle: ['FINISHED'] });
    const store = SqliteStore.open(storePath);
    await store.track([{ jobId: 'late-job' }], Date.now());
    await store.close();
    const summary = await handler(schedulerEvent('cycle-3'), pollLambdaContext(20_000));
    expect(summary).toMatchObject({ polled: 0, deferred: true });
    expect(simulator.pollCount('late-job')).toBe(0);
  });

  it('takes the correlation id from an EventBridge rule event, or else from the Lambda request id', async () => {
    const { handler } = await import('../../handlers/poll.ts');
    const before = stdout.chunks.length;
    await handler(scheduledEvent('rule-event-id'), pollLambdaContext(150_000, 'req-rule'));
    await handler({}, pollLambdaContext(150_000, 'req-empty-input'));
    const finished = jsonLines(stdout.chunks.slice(before)).filter(
      (entry) => entry.message === 'cycle finished',
    );
    expect(finished.map((entry) => entry.correlation_id)).toEqual(['rule-event-id', 'req-empty-input']);
    // A key appended for one invocation does not leak into the next.
    expect(finished.map((entry) => entry.scheduled_time)).toEqual([undefined, undefined]);
  });

  it("a cycle in which DLI answered no poll fails the invocation, with CycleFailed and the cycle's own metrics", async () => {
    const { handler } = await import('../../handlers/poll.ts');
    simulator.addJob('outage-job', { lifecycle: ['RUNNING'] });
    const store = SqliteStore.open(storePath);
    await store.track([{ jobId: 'outage-job' }], Date.now());
    await store.close();
    simulator.injectFault({ kind: 'server-error', status: 503 }, { times: 100 });
    const before = stdout.chunks.length;
    await expect(handler(schedulerEvent('cycle-outage'), pollLambdaContext(150_000))).rejects.toThrow(
      /every DLI request of the cycle failed/,
    );
    const lines = jsonLines<LogLine>(stdout.chunks.slice(before));
    const emf = lines.filter((entry) => entry._aws !== undefined);
    expect(emf.some((entry) => entry.CycleFailed === 1)).toBe(true);
    expect(emf.find((entry) => 'JobsPolled' in entry)).toMatchObject({ JobsPolled: 0 });
  });
});
