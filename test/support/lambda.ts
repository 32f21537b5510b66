import type { Context, EventBridgeEvent } from 'aws-lambda';

/** A Lambda context for the poll function, with `remainingMs` left and the given request id. */
export function pollLambdaContext(remainingMs = 150_000, awsRequestId = 'req-1'): Context {
  return {
    awsRequestId,
    functionName: 'dli-watch-dev-poll',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:dli-watch-dev-poll',
    memoryLimitInMB: '256',
    logGroupName: '/aws/lambda/dli-watch-dev-poll',
    logStreamName: 'stream',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => remainingMs,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** A scheduled invocation's event, as EventBridge sends it. */
export function scheduledEvent(id: string): EventBridgeEvent<string, unknown> {
  return {
    id,
    version: '0',
    account: '123456789012',
    time: new Date().toISOString(),
    region: 'eu-west-1',
    resources: [],
    source: 'aws.events',
    'detail-type': 'Scheduled Event',
    detail: {},
  };
}

/**
 * The poll's event from EventBridge Scheduler: the `input` that `serverless.yml` declares, with the
 * placeholders filled in as Scheduler fills them.
 */
export function schedulerEvent(
  executionId: string,
  scheduledTime = '2026-11-25T10:00:00Z',
): Record<string, string> {
  return { execution_id: executionId, scheduled_time: scheduledTime };
}
