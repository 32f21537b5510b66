import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DliAuthError } from '../../lib/dli/errors.ts';
import { createDliSimulator } from '../../lib/simulator/dli-simulator.ts';
import { createWebhookReceiver } from '../../lib/simulator/webhook-receiver.ts';
import { SqliteStore } from '../../lib/store/sqlite-store.ts';
import { pollLambdaContext, scheduledEvent } from '../support/lambda.ts';
import { createFakeSsm, fakeSsmEnv } from '../support/ssm.ts';
import { captureStdout, type StdoutCapture } from '../support/stdout.ts';

const PROJECT_ID = 'abcdef0123456789abcdef0123456789';
const ACCESS_KEY = 'AKSSMHANDLER';
const SECRET_KEY = 'SK-ssm-handler-secret-value';
const WRONG_SECRET_KEY = 'SK-ssm-handler-wrong-value';
const CREDENTIALS_PARAMETER = '/dli-watch/test/dli-credentials';
const DESTINATIONS_PARAMETER = '/dli-watch/test/destinations';
const simulator = createDliSimulator({
  projectId: PROJECT_ID,
  credentials: { accessKey: ACCESS_KEY, secretKey: SECRET_KEY },
});
const receiver = createWebhookReceiver();
const ssm = createFakeSsm();
const directory = mkdtempSync(join(tmpdir(), 'dli-watch-handler-ssm-'));
const storePath = join(directory, 'state.db');
const savedEnv = { ...process.env };
let stdout: StdoutCapture;
let receiverOrigin = '';

async function track(jobId: string): Promise<void> {
  const store = SqliteStore.open(storePath);
  await store.track([{ jobId }], Date.now());
  await store.close();
}

beforeAll(async () => {
  const [dliUrl, receiverUrl, ssmUrl] = await Promise.all([simulator.start(), receiver.start(), ssm.start()]);
  receiverOrigin = receiverUrl;
  ssm.put(CREDENTIALS_PARAMETER, JSON.stringify({ ak: ACCESS_KEY, sk: SECRET_KEY }));
  ssm.put(
    DESTINATIONS_PARAMETER,
    JSON.stringify({
      destinations: [{ name: 'ops', type: 'webhook', url: `${receiverUrl}/hooks/ssm-secret-path` }],
    }),
  );
  simulator.addJob('ssm-job', { lifecycle: ['RUNNING', 'FAILED'], fields: { message: 'boom' } });
  await track('ssm-job');
  for (const name of [
    'HUAWEICLOUD_SDK_AK',
    'HUAWEICLOUD_SDK_SK',
    'HUAWEICLOUD_SDK_SECURITY_TOKEN',
    'DLI_AUTH_TOKEN',
  ])
    delete process.env[name];
  Object.assign(process.env, fakeSsmEnv(ssmUrl), {
    DLI_REGION: 'cn-north-4',
    DLI_PROJECT_ID: PROJECT_ID,
    DLI_ENDPOINT: dliUrl,
    DLI_WATCH_STORE: `sqlite:${storePath}`,
    DLI_WATCH_CONFIG: '',
    DLI_WATCH_WEBHOOKS: '',
    DLI_WATCH_DLI_CREDENTIALS_PARAMETER: CREDENTIALS_PARAMETER,
    DLI_WATCH_DESTINATIONS_PARAMETER: DESTINATIONS_PARAMETER,
    // Every invocation reads Parameter Store afresh: a rotation shows on the very next cycle.
    DLI_WATCH_SECRETS_MAX_AGE_SECONDS: '0',
    POWERTOOLS_SERVICE_NAME: 'dli-watch',
  });
  stdout = captureStdout({ echo: true });
});

afterAll(async () => {
  stdout.restore();
  process.env = savedEnv;
  await Promise.all([simulator.close(), receiver.close(), ssm.close()]);
  rmSync(directory, { recursive: true, force: true });
});

describe('handlers/poll with secrets in Parameter Store', () => {
  it('polls and notifies with credentials and destinations that exist only in SSM, following a rotation', async () => {
    const { handler } = await import('../../handlers/poll.ts');
    expect(await handler(scheduledEvent('ssm-1'), pollLambdaContext(150_000, 'req-ssm'))).toMatchObject({
      polled: 1,
      changed: 1,
    });
    expect(await handler(scheduledEvent('ssm-2'), pollLambdaContext(150_000, 'req-ssm'))).toMatchObject({
      polled: 1,
      notified: 1,
    });
    expect(receiver.requests.map((request) => request.path)).toEqual(['/hooks/ssm-secret-path']);
    expect(ssm.requests.every((request) => request.withDecryption === true)).toBe(true);

    // A wrong key rotated in: the next cycle signs with it and DLI refuses.
    simulator.addJob('rotation-job', { lifecycle: ['RUNNING', 'FINISHED'] });
    await track('rotation-job');
    ssm.put(CREDENTIALS_PARAMETER, JSON.stringify({ ak: ACCESS_KEY, sk: WRONG_SECRET_KEY }));
    await expect(
      handler(scheduledEvent('ssm-3'), pollLambdaContext(150_000, 'req-ssm')),
    ).rejects.toBeInstanceOf(DliAuthError);

    // Rotated back: the next cycle works again without a cold start.
    ssm.put(CREDENTIALS_PARAMETER, JSON.stringify({ ak: ACCESS_KEY, sk: SECRET_KEY }));
    expect(await handler(scheduledEvent('ssm-4'), pollLambdaContext(150_000, 'req-ssm'))).toMatchObject({
      polled: 1,
      errors: 0,
    });

    const everything = stdout.chunks.join('');
    expect(everything).toContain('"correlation_id":"ssm-4"');
    for (const secret of [SECRET_KEY, WRONG_SECRET_KEY, 'ssm-secret-path'])
      expect(everything).not.toContain(secret);
  });

  it('finds jobs with the watches that come in the destinations parameter', async () => {
    const { handler } = await import('../../handlers/poll.ts');
    ssm.put(
      DESTINATIONS_PARAMETER,
      JSON.stringify({
        destinations: [{ name: 'ops', type: 'webhook', url: `${receiverOrigin}/hooks/ssm-secret-path` }],
        watches: [{ name: 'lambda-etl', queues: ['etl_*'] }],
      }),
    );
    // The watch's first cycle starts it; the job is submitted after.
    await handler(scheduledEvent('watch-1'), pollLambdaContext(150_000, 'req-watch'));
    const submitted = Date.now();
    simulator.addJob('console-etl-job', {
      timeline: [
        { at: submitted, status: 'RUNNING' },
        { at: submitted + 1, status: 'FAILED' },
      ],
      fields: { queue_name: 'etl_daily', message: 'boom' },
    });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const before = receiver.requests.length;
    expect(await handler(scheduledEvent('watch-2'), pollLambdaContext(150_000, 'req-watch'))).toMatchObject({
      discovered: 1,
      notified: 1,
    });
    const sent = receiver.requests.slice(before).map((request) => JSON.parse(request.body).data);
    expect(sent).toEqual([
      expect.objectContaining({ job_id: 'console-etl-job', labels: { watch: 'lambda-etl' } }),
    ]);
  });
});
