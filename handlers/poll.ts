import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, EventBridgeEvent } from 'aws-lambda';
import { loadConfig } from '../lib/config.ts';
import { type CycleSummary, cycleBudgetMs } from '../lib/cycle.ts';
import { openStore } from '../lib/store/open-store.ts';
import { createWatcher } from '../lib/watcher.ts';

const logger = new Logger({ serviceName: 'dli-watch' });
// Built once per container: a bad configuration fails the cold start loudly instead of every cycle quietly.
const config = loadConfig(process.env, { cwd: process.cwd() });
const watcher = openStore(config.store).then((store) => createWatcher(config, { store, log: logger }));

/** The scheduled poll: one cycle, budgeted by the time Lambda has left. */
export const handler = middy(
  async (event: EventBridgeEvent<string, unknown>, context: Context): Promise<CycleSummary> => {
    // EventBridge gives every scheduled invocation its own id: the cycle's correlation id.
    logger.setCorrelationId(event.id ?? context.awsRequestId);
    const summary = await (await watcher).tick({
      budgetMs: cycleBudgetMs(context.getRemainingTimeInMillis(), { dliTimeoutMs: config.dli.timeoutMs }),
    });
    logger.info('cycle finished', { ...summary });
    return summary;
  },
).use(injectLambdaContext(logger, { resetKeys: true }));
