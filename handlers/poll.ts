import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { type CycleSummary, cycleBudgetMs } from '../lib/cycle/run-cycle.ts';
import { CycleFailedError } from '../lib/cycle/summary.ts';
import { createCycleMetrics, publishCycleFailure, publishCycleMetrics } from '../lib/run/cycle-metrics.ts';
import { loadRuntimeSecrets } from '../lib/run/ssm-secrets.ts';
import { createWatcherProvider } from '../lib/run/watcher.ts';

const logger = new Logger({ serviceName: 'dli-watch' });
const metrics = createCycleMetrics(process.env);
// One per container: the store stays open across invocations, and the watcher (with its rate limiter) is
// rebuilt only when the secrets in Parameter Store rotate.
const watchers = createWatcherProvider({
  env: process.env,
  cwd: process.cwd(),
  log: logger,
  loadSecrets: loadRuntimeSecrets,
});

/**
 * What invokes the poll: the EventBridge Scheduler input that `serverless.yml` declares, or (for a schedule
 * made by hand) an EventBridge rule's event, which has an `id` instead. Anything else is still a cycle.
 */
interface PollEvent {
  execution_id?: unknown;
  scheduled_time?: unknown;
  id?: unknown;
}

function textOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The scheduled poll: one cycle with the current secrets, budgeted by the time Lambda has left. */
export const handler = middy(async (event: PollEvent | null, context: Context): Promise<CycleSummary> => {
  // Scheduler gives every invocation its own execution id: the cycle's correlation id.
  logger.setCorrelationId(
    textOrUndefined(event?.execution_id) ?? textOrUndefined(event?.id) ?? context.awsRequestId,
  );
  const scheduledTime = textOrUndefined(event?.scheduled_time);
  if (scheduledTime !== undefined) logger.appendKeys({ scheduled_time: scheduledTime });
  let summary: CycleSummary;
  try {
    const { watcher, config } = await watchers.current();
    summary = await watcher.tick({
      budgetMs: cycleBudgetMs(context.getRemainingTimeInMillis(), {
        dliTimeoutMs: config.dli.timeoutMs,
        sendTimeoutMs: config.sendTimeoutMs,
      }),
    });
  } catch (error) {
    // logMetrics flushes on errors too, so the alarm on failing cycles sees this count.
    publishCycleFailure(metrics);
    if (error instanceof CycleFailedError) {
      // It did run: what it did still counts (DLI errors above all, which have an alarm of their own).
      publishCycleMetrics(metrics, error.summary);
      logger.error(`cycle failed: ${error.message}`, { ...error.summary });
    }
    throw error;
  }
  publishCycleMetrics(metrics, summary);
  logger.info('cycle finished', { ...summary });
  return summary;
})
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics, { captureColdStartMetric: true }));
