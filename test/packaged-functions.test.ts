import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDliSimulator } from '../lib/simulator/dli-simulator.ts';
import { createWebhookReceiver } from '../lib/simulator/webhook-receiver.ts';
import { DynamoDbStore } from '../lib/store/dynamodb-store.ts';
import { apiGatewayEvent } from './support/api-gateway.ts';
import { type LocalDynamoDb, startDynalite } from './support/dynalite.ts';
import type { BundleInvocation, BundleOutcome } from './support/invoke-bundle.ts';
import { packageService, type Template } from './support/serverless-package.ts';
import { createFakeSsm, fakeSsmEnv } from './support/ssm.ts';
import { extractZip } from './support/zip.ts';

// The zips `serverless package` builds, each unpacked into a directory of its own outside the project and run in
// a fresh Node process, as Lambda runs them: they must work with no node_modules in reach, with the template's
// own environment, against DynamoDB (dynalite) and Parameter Store (a loopback fake).
const run = promisify(execFile);
const output = mkdtempSync(join(tmpdir(), 'dli-watch-packaged-'));
const invoker = join(import.meta.dirname, 'support/invoke-bundle.ts');
const PROJECT_ID = 'abcdef0123456789abcdef0123456789';
const ACCESS_KEY = 'AKBUNDLE';
const SECRET_KEY = 'SK-bundle-test-secret-value';
const simulator = createDliSimulator({
  projectId: PROJECT_ID,
  credentials: { accessKey: ACCESS_KEY, secretKey: SECRET_KEY },
});
const receiver = createWebhookReceiver();
const ssm = createFakeSsm();
let template: Template;
let dynamo: LocalDynamoDb;
let table: string;
let baseEnv: Record<string, string>;

function functionEnvironment(logicalId: string): Record<string, string> {
  const properties = template.Resources[logicalId]?.Properties as {
    Environment: { Variables: Record<string, unknown> };
  };
  // Values the template leaves to CloudFormation (none today) would not be strings: leave them out.
  return Object.fromEntries(
    Object.entries(properties.Environment.Variables).filter(
      (entry): entry is [string, string] => typeof entry[1] === 'string',
    ),
  );
}

/** Calls the unpacked function `name` once per invocation in one fresh process; returns outcomes and stdout. */
async function invokePackaged(
  name: string,
  invocations: BundleInvocation[],
  env: Record<string, string>,
): Promise<{ outcomes: BundleOutcome[]; stdout: string }> {
  const directory = join(output, name);
  const invocationsPath = join(directory, 'invocations.json');
  const outcomesPath = join(directory, 'outcomes.json');
  writeFileSync(invocationsPath, JSON.stringify(invocations));
  const { stdout } = await run(
    process.execPath,
    [invoker, join(directory, `handlers/${name}.mjs`), invocationsPath, outcomesPath],
    { cwd: directory, env: { PATH: process.env.PATH ?? '', ...env }, timeout: 60_000 },
  );
  return { outcomes: JSON.parse(readFileSync(outcomesPath, 'utf8')) as BundleOutcome[], stdout };
}

function logLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

beforeAll(async () => {
  const [packaged, local, dliUrl, receiverUrl, ssmUrl] = await Promise.all([
    packageService(output),
    startDynalite(),
    simulator.start(),
    receiver.start(),
    ssm.start(),
  ]);
  template = packaged;
  dynamo = local;
  for (const name of ['poll', 'api']) extractZip(join(output, `${name}.zip`), join(output, name));
  table = await dynamo.createJobTable();
  baseEnv = {
    ...fakeSsmEnv(ssmUrl),
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    DLI_WATCH_STORE: `dynamodb:${table}`,
  };
  const poll = functionEnvironment('PollLambdaFunction');
  ssm.put(poll.DLI_WATCH_DLI_CREDENTIALS_PARAMETER ?? '', JSON.stringify({ ak: ACCESS_KEY, sk: SECRET_KEY }));
  ssm.put(
    poll.DLI_WATCH_DESTINATIONS_PARAMETER ?? '',
    JSON.stringify({
      destinations: [{ name: 'ops', type: 'webhook', url: `${receiverUrl}/hooks/bundle-secret-path` }],
    }),
  );
  Object.assign(baseEnv, { DLI_ENDPOINT: dliUrl, DLI_PROJECT_ID: PROJECT_ID });
}, 150_000);

afterAll(async () => {
  await Promise.all([dynamo?.close(), simulator.close(), receiver.close(), ssm.close()]);
  rmSync(output, { recursive: true, force: true });
});

describe('the packaged functions', () => {
  it('poll: runs scheduled cycles on DynamoDB with secrets from Parameter Store, logging under the schedule id', async () => {
    const store = new DynamoDbStore({ table, client: dynamo.client });
    await store.track([{ jobId: 'bundle-job' }], Date.now());
    simulator.addJob('bundle-job', { lifecycle: ['RUNNING', 'FINISHED'] });
    // The event is the schedule's input from the template, filled in as Scheduler fills it.
    const schedule = Object.values(template.Resources).find(
      (resource) => resource.Type === 'AWS::Scheduler::Schedule',
    );
    const input = (schedule?.Properties.Target as { Input?: string } | undefined)?.Input ?? '';
    const eventFor = (executionId: string) =>
      JSON.parse(
        input
          .replace('<aws.scheduler.execution-id>', executionId)
          .replace('<aws.scheduler.scheduled-time>', '2026-11-25T10:00:00Z'),
      );

    const { outcomes, stdout } = await invokePackaged(
      'poll',
      [
        { event: eventFor('exec-1'), requestId: 'req-1' },
        { event: eventFor('exec-2'), requestId: 'req-2' },
      ],
      { ...functionEnvironment('PollLambdaFunction'), ...baseEnv },
    );

    expect(outcomes).toMatchObject([
      { result: { polled: 1, changed: 1, notified: 0, errors: 0 } },
      { result: { polled: 1, changed: 1, notified: 1, errors: 0 } },
    ]);
    expect(receiver.requests).toHaveLength(1);
    expect(JSON.parse(receiver.requests[0]?.body ?? '{}')).toMatchObject({ type: 'dli.job.finished' });
    expect((await store.get('bundle-job'))?.status).toBe('FINISHED');
    const finished = logLines(stdout).filter((line) => line.message === 'cycle finished');
    expect(finished.map((line) => line.correlation_id)).toEqual(['exec-1', 'exec-2']);
    for (const secret of [SECRET_KEY, 'bundle-secret-path']) expect(stdout).not.toContain(secret);
    await store.close();
  });

  it('api: tracks a job and reads it back from DynamoDB', async () => {
    const { outcomes } = await invokePackaged(
      'api',
      [
        {
          event: apiGatewayEvent({ method: 'POST', url: '/jobs', json: { job_id: 'api-bundle-job' } }),
          requestId: 'r1',
        },
        { event: apiGatewayEvent({ method: 'GET', url: '/jobs/api-bundle-job' }), requestId: 'r2' },
      ],
      { ...functionEnvironment('ApiLambdaFunction'), ...baseEnv },
    );
    expect(outcomes).toMatchObject([{ result: { statusCode: 201 } }, { result: { statusCode: 200 } }]);
    const [, read] = outcomes;
    const body = read !== undefined && 'result' in read ? (read.result as { body: string }).body : '{}';
    expect(JSON.parse(body)).toMatchObject({ job_id: 'api-bundle-job', status: 'NOT_POLLED' });
  });
});
