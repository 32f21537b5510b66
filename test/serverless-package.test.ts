import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliNodeFlags } from '../lib/cli/node-flags.ts';
import { createDliSimulator } from '../lib/simulator/dli-simulator.ts';
import { createWebhookReceiver } from '../lib/simulator/webhook-receiver.ts';
import {
  DYNAMODB_DUE_INDEX,
  DYNAMODB_TTL_ATTRIBUTE,
  DynamoDbStore,
  dynamoDbTableDefinition,
} from '../lib/store/dynamodb-store.ts';
import { apiGatewayEvent } from './support/api-gateway.ts';
import { type LocalDynamoDb, startDynalite } from './support/dynalite.ts';
import type { BundleInvocation, BundleOutcome } from './support/invoke-bundle.ts';
import { functionEnvironment, packageService, type Template } from './support/serverless-package.ts';
import { createFakeSsm, fakeSsmEnv } from './support/ssm.ts';
import { jsonLines } from './support/stdout.ts';
import { extractZip } from './support/zip.ts';

const output = mkdtempSync(join(tmpdir(), 'dli-watch-package-'));
const keyOutput = mkdtempSync(join(tmpdir(), 'dli-watch-package-kms-'));

/**
 * Zipped size each function may reach. Measured with `npx serverless package` (esbuild, minified, the AWS SDK
 * bundled and tree-shaken): poll 431 KB (with undici's Agent), api 184 KB. The budgets sit a little above, under
 * the 500 KB target.
 */
const zipBudgetBytes: Record<string, number> = {
  poll: 460 * 1024,
  api: 225 * 1024,
};

type Resource = Template['Resources'][string];
interface PolicyStatement {
  Effect: string;
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: unknown;
  NotResource?: unknown;
}
let template: Template;

beforeAll(async () => {
  template = await packageService(output);
}, 150_000);

afterAll(() => {
  for (const directory of [output, keyOutput]) rmSync(directory, { recursive: true, force: true });
});

function resourcesOfType(type: string): Resource[] {
  return Object.values(template.Resources).filter((resource) => resource.Type === type);
}

function functionWithHandler(handler: string): Resource {
  const found = resourcesOfType('AWS::Lambda::Function').find(
    (resource) => resource.Properties.Handler === handler,
  );
  if (found === undefined) throw new Error(`no function with handler ${handler} in the template`);
  return found;
}

function asList<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** A statement, or both branches of a statement that is there only under a condition (`Fn::If`). */
function unlessConditional(statement: unknown): PolicyStatement[] {
  const branches = (statement as { 'Fn::If'?: unknown[] })['Fn::If'];
  if (branches === undefined) return [statement as PolicyStatement];
  return branches
    .slice(1)
    .filter(
      (branch): branch is PolicyStatement =>
        typeof branch === 'object' && branch !== null && 'Effect' in branch,
    );
}

/**
 * Every statement of every policy document anywhere in `template`, wherever a resource type keeps it, with
 * conditional statements counted whichever way their condition goes.
 */
function policyStatements(from: Template = template): { where: string; statement: PolicyStatement }[] {
  const found: { where: string; statement: PolicyStatement }[] = [];
  const visit = (value: unknown, where: string): void => {
    if (Array.isArray(value)) {
      for (const [index, item] of value.entries()) visit(item, `${where}[${index}]`);
      return;
    }
    if (typeof value !== 'object' || value === null) return;
    for (const [key, child] of Object.entries(value)) {
      if (/PolicyDocument$/.test(key) && typeof child === 'object' && child !== null) {
        for (const statement of asList((child as { Statement?: unknown }).Statement).flatMap(
          unlessConditional,
        ))
          found.push({ where: `${where}.${key}`, statement });
      }
      visit(child, `${where}.${key}`);
    }
  };
  visit(from.Resources, 'Resources');
  return found;
}

/** Actions AWS offers no resource-level permission for: the only ones a `*` resource is allowed with. */
const actionsWithoutResourceLevelPermissions = new Set(['cloudwatch:PutMetricData']);

describe('npx serverless package', () => {
  it('packages the poll function for nodejs24.x on arm64 from the esbuild bundle', () => {
    expect(functionWithHandler('handlers/poll.handler').Properties).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      ReservedConcurrentExecutions: 1,
    });
    // The cycle reserves about 71 s for a job started at the last moment and runs at most 50 s.
    expect(functionWithHandler('handlers/poll.handler').Properties.Timeout).toBeGreaterThanOrEqual(121);
  });

  it('packages the API function for nodejs24.x on arm64', () => {
    expect(functionWithHandler('handlers/api.handler').Properties).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
    });
  });

  it('gives the functions the same heap flags as the CLI', () => {
    for (const handler of ['handlers/poll.handler', 'handlers/api.handler'])
      expect(functionEnvironment(functionWithHandler(handler)).NODE_OPTIONS).toBe(cliNodeFlags().join(' '));
  });

  it('points both functions at the stage DynamoDB table through DLI_WATCH_STORE', () => {
    const [table] = resourcesOfType('AWS::DynamoDB::Table');
    expect(table?.Properties.TableName).toBe('dli-watch-ci-jobs');
    for (const handler of ['handlers/poll.handler', 'handlers/api.handler'])
      expect(functionEnvironment(functionWithHandler(handler)).DLI_WATCH_STORE).toBe(
        'dynamodb:dli-watch-ci-jobs',
      );
  });

  it('declares the table exactly as the DynamoDB store creates it, with TTL and point-in-time recovery', () => {
    const tables = resourcesOfType('AWS::DynamoDB::Table');
    expect(tables).toHaveLength(1);
    const { TableName, ...layout } = dynamoDbTableDefinition('dli-watch-ci-jobs');
    expect(tables[0]?.Properties).toEqual({
      TableName,
      ...layout,
      TimeToLiveSpecification: { AttributeName: DYNAMODB_TTL_ATTRIBUTE, Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
    expect(layout.BillingMode).toBe('PAY_PER_REQUEST');
    expect(layout.GlobalSecondaryIndexes?.[0]?.IndexName).toBe(DYNAMODB_DUE_INDEX);
  });

  it('runs the poll function every minute, UTC, on an EventBridge Scheduler schedule and no rule', () => {
    expect(resourcesOfType('AWS::Events::Rule')).toEqual([]);
    const schedules = resourcesOfType('AWS::Scheduler::Schedule');
    expect(schedules).toHaveLength(1);
    expect(schedules[0]?.Properties).toMatchObject({
      ScheduleExpression: 'rate(1 minute)',
      ScheduleExpressionTimezone: 'UTC',
      State: 'ENABLED',
      Target: { Arn: { 'Fn::GetAtt': ['PollLambdaFunction', 'Arn'] } },
    });
    // Scheduler fills these in on every invocation; the poll handler logs under the execution id.
    const target = schedules[0]?.Properties.Target as { Input?: string };
    expect(JSON.parse(target.Input ?? 'null')).toEqual({
      execution_id: '<aws.scheduler.execution-id>',
      scheduled_time: '<aws.scheduler.scheduled-time>',
    });
  });

  it('serves the five tracking routes behind AWS_IAM authorization, and nothing else', () => {
    const routes = resourcesOfType('AWS::ApiGatewayV2::Route');
    expect(routes.map((route) => route.Properties.RouteKey).sort()).toEqual([
      'DELETE /jobs/{job_id}',
      'GET /jobs',
      'GET /jobs/{job_id}',
      'POST /jobs',
      'POST /jobs/{job_id}/redeliver',
    ]);
    for (const route of routes) expect(route.Properties.AuthorizationType).toBe('AWS_IAM');
  });

  it('grants no policy statement a * action, and a * resource only for actions that have no other', () => {
    const statements = policyStatements();
    // Lambda roles, the scheduler's role and the deployment bucket's policy at least.
    expect(statements.length).toBeGreaterThanOrEqual(5);
    const grants = statements.filter(({ statement }) => statement.Effect === 'Allow');
    for (const { where, statement } of grants) {
      expect(statement.NotAction, where).toBeUndefined();
      expect(statement.NotResource, where).toBeUndefined();
      const actions = asList(statement.Action);
      for (const action of actions) expect(action, where).not.toMatch(/^\*$|:\*$/);
      if (asList(statement.Resource).includes('*')) {
        for (const action of actions)
          expect(actionsWithoutResourceLevelPermissions.has(action), where).toBe(true);
      }
    }
  });

  it('gives each function only the DynamoDB actions its code calls, on the table or the due index', () => {
    const dynamoDbGrants = (roleLogicalId: string) =>
      policyStatements()
        .filter(({ where }) => where.startsWith(`Resources.${roleLogicalId}.`))
        .map(({ statement }) => statement)
        .filter((statement) => asList(statement.Action).some((action) => action.startsWith('dynamodb:')));
    const tableArn = { 'Fn::GetAtt': ['JobsTable', 'Arn'] };
    expect(dynamoDbGrants('PollRole')).toEqual([
      { Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:PutItem'], Resource: tableArn },
      {
        Effect: 'Allow',
        Action: 'dynamodb:Query',
        Resource: { 'Fn::Sub': `\${JobsTable.Arn}/index/${DYNAMODB_DUE_INDEX}` },
      },
    ]);
    expect(dynamoDbGrants('ApiRole')).toEqual([
      {
        Effect: 'Allow',
        Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:Scan'],
        Resource: tableArn,
      },
    ]);
    expect(functionWithHandler('handlers/poll.handler').Properties.Role).toEqual({
      'Fn::GetAtt': ['PollRole', 'Arn'],
    });
    expect(functionWithHandler('handlers/api.handler').Properties.Role).toEqual({
      'Fn::GetAtt': ['ApiRole', 'Arn'],
    });
  });

  it('grants kms:Decrypt only when the secrets are under a customer-managed key, only on it, only through SSM', async () => {
    const kmsGrants = (from: Template) =>
      policyStatements(from)
        .map(({ statement }) => statement)
        .filter((statement) => asList(statement.Action).some((action) => action.startsWith('kms:')));
    expect(kmsGrants(template)).toHaveLength(1);
    const keyArn = 'arn:aws:kms:eu-west-1:123456789012:key/0a1b2c3d-0000-1111-2222-333344445555';
    const withKey = await packageService(keyOutput, 'ci', { secretsKmsKeyArn: keyArn });
    expect(JSON.stringify(withKey.Resources.ApiRole?.Properties)).not.toContain('kms:');
    expect(kmsGrants(withKey)).toEqual([
      {
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: keyArn,
        Condition: {
          StringEquals: { 'kms:ViaService': { 'Fn::Sub': `ssm.\${AWS::Region}.\${AWS::URLSuffix}` } },
        },
      },
    ]);
    // Without the parameter the condition is false: the statement is not there at deploy time.
    expect(template.Conditions?.HasSecretsKmsKey).toEqual({ 'Fn::Not': [{ 'Fn::Equals': ['', ''] }] });
    expect(withKey.Conditions?.HasSecretsKmsKey).toEqual({ 'Fn::Not': [{ 'Fn::Equals': [keyArn, ''] }] });
  }, 150_000);

  it('keeps function logs for a bounded time', () => {
    const logGroups = resourcesOfType('AWS::Logs::LogGroup');
    expect(logGroups.length).toBeGreaterThanOrEqual(2);
    for (const logGroup of logGroups) expect(logGroup.Properties.RetentionInDays).toBe(30);
  });

  it('alarms on dead letters, failing cycles, DLI errors and poll lag, per stage, notifying nobody by default', () => {
    const alarms = resourcesOfType('AWS::CloudWatch::Alarm');
    // The stage's own metrics only (packaged as stage ci): a dev stage's dead letters must not trip prod's alarm.
    const stageDimensions = [
      { Name: 'service', Value: 'dli-watch' },
      { Name: 'stage', Value: 'ci' },
    ];
    const deadLettered = alarms.find((alarm) => alarm.Properties.MetricName === 'DeadLettered');
    expect(deadLettered?.Properties).toMatchObject({
      Namespace: 'DliWatch',
      Dimensions: stageDimensions,
      Statistic: 'Sum',
      Period: 300,
      EvaluationPeriods: 1,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
    const failing = alarms.find(
      (alarm) => alarm.Properties.Namespace === 'AWS/Lambda' && alarm.Properties.MetricName === 'Errors',
    );
    expect(failing?.Properties).toMatchObject({
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: 'PollLambdaFunction' } }],
      Statistic: 'Sum',
      Period: 300,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 2,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
    const dliErrors = alarms.find((alarm) => alarm.Properties.MetricName === 'DliErrors');
    expect(dliErrors?.Properties).toMatchObject({
      Namespace: 'DliWatch',
      Dimensions: stageDimensions,
      Statistic: 'Sum',
      Period: 300,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      Threshold: 10,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    const pollLag = alarms.find((alarm) => alarm.Properties.MetricName === 'PollLag');
    expect(pollLag?.Properties).toMatchObject({
      Namespace: 'DliWatch',
      Dimensions: stageDimensions,
      Statistic: 'Maximum',
      Threshold: 600_000,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    // The function's metrics carry the same namespace, service and stage; the tuning knobs are params.
    expect(functionEnvironment(template.Resources.PollLambdaFunction)).toMatchObject({
      POWERTOOLS_METRICS_NAMESPACE: 'DliWatch',
      POWERTOOLS_SERVICE_NAME: 'dli-watch',
      DLI_WATCH_STAGE: 'ci',
      POWERTOOLS_LOG_LEVEL: 'INFO',
      DLI_WATCH_CONCURRENCY: '8',
      DLI_WATCH_MAX_RPS: '100',
      DLI_WATCH_DLI_TIMEOUT_MS: '10000',
      DLI_WATCH_SEND_TIMEOUT_MS: '10000',
      DLI_WATCH_STATUS_PLAN: 'auto',
      DLI_WATCH_QUEUES: '',
      DLI_ENDPOINT: '',
    });
    // Without the alarmTopicArn parameter the condition is false, so the actions resolve to AWS::NoValue.
    expect(template.Conditions?.HasAlarmTopic).toEqual({ 'Fn::Not': [{ 'Fn::Equals': ['', ''] }] });
    for (const alarm of [deadLettered, failing, dliErrors, pollLag])
      expect(alarm?.Properties.AlarmActions).toEqual({
        'Fn::If': ['HasAlarmTopic', [''], { Ref: 'AWS::NoValue' }],
      });
  });

  it('keeps each function zip within its size budget', () => {
    for (const [name, budget] of Object.entries(zipBudgetBytes)) {
      expect(statSync(join(output, `${name}.zip`)).size, `${name}.zip`).toBeLessThanOrEqual(budget);
    }
  });
});

const run = promisify(execFile);
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
let dynamo: LocalDynamoDb;
let table: string;
let baseEnv: Record<string, string>;

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

describe('the packaged functions, unpacked outside the project and run in a fresh Node process', () => {
  // As Lambda runs them: no node_modules in reach, the template's own environment, against DynamoDB (dynalite)
  // and Parameter Store (a loopback fake).
  beforeAll(async () => {
    const [local, dliUrl, receiverUrl, ssmUrl] = await Promise.all([
      startDynalite(),
      simulator.start(),
      receiver.start(),
      ssm.start(),
    ]);
    dynamo = local;
    for (const name of ['poll', 'api']) extractZip(join(output, `${name}.zip`), join(output, name));
    table = await dynamo.createJobTable();
    baseEnv = {
      ...fakeSsmEnv(ssmUrl),
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      DLI_WATCH_STORE: `dynamodb:${table}`,
      DLI_ENDPOINT: dliUrl,
      DLI_PROJECT_ID: PROJECT_ID,
    };
    const poll = functionEnvironment(template.Resources.PollLambdaFunction);
    ssm.put(
      poll.DLI_WATCH_DLI_CREDENTIALS_PARAMETER ?? '',
      JSON.stringify({ ak: ACCESS_KEY, sk: SECRET_KEY }),
    );
    ssm.put(
      poll.DLI_WATCH_DESTINATIONS_PARAMETER ?? '',
      JSON.stringify({
        destinations: [{ name: 'ops', type: 'webhook', url: `${receiverUrl}/hooks/bundle-secret-path` }],
      }),
    );
  });

  afterAll(async () => {
    await Promise.all([dynamo?.close(), simulator.close(), receiver.close(), ssm.close()]);
  });

  it('poll: runs scheduled cycles on DynamoDB with secrets from Parameter Store, logging under the schedule id', async () => {
    const store = new DynamoDbStore({ table, client: dynamo.client });
    await store.track([{ jobId: 'bundle-job' }], Date.now());
    simulator.addJob('bundle-job', { lifecycle: ['RUNNING', 'FINISHED'] });
    // The event is the schedule's input from the template, filled in as Scheduler fills it.
    const [schedule] = resourcesOfType('AWS::Scheduler::Schedule');
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
      { ...functionEnvironment(template.Resources.PollLambdaFunction), ...baseEnv },
    );

    expect(outcomes).toMatchObject([
      { result: { polled: 1, changed: 1, notified: 0, errors: 0 } },
      { result: { polled: 1, changed: 1, notified: 1, errors: 0 } },
    ]);
    expect(receiver.requests).toHaveLength(1);
    expect(JSON.parse(receiver.requests[0]?.body ?? '{}')).toMatchObject({ type: 'dli.job.finished' });
    expect((await store.get('bundle-job'))?.status).toBe('FINISHED');
    const finished = jsonLines(stdout).filter((line) => line.message === 'cycle finished');
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
      { ...functionEnvironment(template.Resources.ApiLambdaFunction), ...baseEnv },
    );
    expect(outcomes).toMatchObject([{ result: { statusCode: 201 } }, { result: { statusCode: 200 } }]);
    const [, read] = outcomes;
    const body = read !== undefined && 'result' in read ? (read.result as { body: string }).body : '{}';
    expect(JSON.parse(body)).toMatchObject({ job_id: 'api-bundle-job', status: 'NOT_POLLED' });
  });
});
