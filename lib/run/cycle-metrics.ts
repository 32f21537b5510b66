import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { CycleSummary } from '../cycle/summary.ts';
import { type Env, envValue } from '../util/env.ts';

/** CloudWatch namespace of every dli-watch metric, unless `POWERTOOLS_METRICS_NAMESPACE` names another. */
export const METRICS_NAMESPACE = 'DliWatch';
/** The `service` dimension Powertools adds to every metric, unless `POWERTOOLS_SERVICE_NAME` names another. */
export const METRICS_SERVICE = 'dli-watch';
/** Names the deployment stage (`serverless.yml` sets it per stage); every metric carries it as `stage`. */
export const STAGE_VARIABLE = 'DLI_WATCH_STAGE';

/**
 * The metrics of one deployment: namespace and service from the Powertools variables, and the stage as a dimension
 * of every metric, so that the alarms of one stage (which select on service and stage) never hear another's.
 */
export function createCycleMetrics(env: Env): Metrics {
  const stage = envValue(env, STAGE_VARIABLE);
  return new Metrics({
    namespace: envValue(env, 'POWERTOOLS_METRICS_NAMESPACE') ?? METRICS_NAMESPACE,
    serviceName: envValue(env, 'POWERTOOLS_SERVICE_NAME') ?? METRICS_SERVICE,
    ...(stage === undefined ? {} : { defaultDimensions: { stage } }),
  });
}

/**
 * Adds one cycle's numbers to `metrics` (flushed as EMF by `logMetrics` or `publishStoredMetrics`).
 * DLI errors are counted in total and, per kind, as `DliErrors` with a `kind` dimension: those go out at once as
 * single metrics, since the kind dimension must not spread to the cycle's other metrics.
 */
export function publishCycleMetrics(metrics: Metrics, summary: CycleSummary): void {
  metrics.addMetric('JobsPolled', MetricUnit.Count, summary.polled);
  metrics.addMetric('Transitions', MetricUnit.Count, summary.changed);
  metrics.addMetric('JobsDiscovered', MetricUnit.Count, summary.discovered);
  // Long-running warnings and recoveries raised: a rising count of warnings is a queue in trouble.
  metrics.addMetric('Notices', MetricUnit.Count, summary.notices);
  // What the cycle asked of DLI, the gateway's rate limit counts them all: list windows and status calls.
  metrics.addMetric('DliRequests', MetricUnit.Count, summary.list_calls + summary.status_calls);
  metrics.addMetric('DeliveriesSent', MetricUnit.Count, summary.notified);
  metrics.addMetric('DailySummaries', MetricUnit.Count, summary.daily_summaries);
  metrics.addMetric('DeliveryFailures', MetricUnit.Count, summary.delivery_failures);
  metrics.addMetric('DeadLettered', MetricUnit.Count, summary.dead_lettered);
  metrics.addMetric('HeldForQuietHours', MetricUnit.Count, summary.held_for_quiet_hours);
  // A send that timed out may have been posted all the same: its retry posts it twice (README, "Guarantees").
  metrics.addMetric('SendTimeouts', MetricUnit.Count, summary.send_timeouts);
  metrics.addMetric('DliErrors', MetricUnit.Count, summary.errors);
  metrics.addMetric('CycleDuration', MetricUnit.Milliseconds, summary.duration_ms);
  if (summary.oldest_due_delivery_age_ms !== null)
    metrics.addMetric('OldestDueDeliveryAge', MetricUnit.Milliseconds, summary.oldest_due_delivery_age_ms);
  if (summary.poll_lag_ms !== null)
    metrics.addMetric('PollLag', MetricUnit.Milliseconds, summary.poll_lag_ms);
  for (const [kind, count] of Object.entries(summary.errors_by_kind)) {
    if (count === undefined) continue;
    metrics.singleMetric().addDimension('kind', kind).addMetric('DliErrors', MetricUnit.Count, count);
  }
}

/** Counts a cycle that threw (before its summary existed), so the alarm on failing cycles hears of it. */
export function publishCycleFailure(metrics: Metrics): void {
  metrics.addMetric('CycleFailed', MetricUnit.Count, 1);
}
