import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { CycleSummary } from '../cycle/run-cycle.ts';

/** CloudWatch namespace of every dli-watch metric; the alarms in serverless.yml read from it. */
export const METRICS_NAMESPACE = 'DliWatch';
/** The `service` dimension Powertools adds to every metric; the alarms in serverless.yml select on it. */
export const METRICS_SERVICE = 'dli-watch';

/**
 * Adds one cycle's numbers to `metrics` (flushed as EMF by `logMetrics` or `publishStoredMetrics`).
 * DLI errors are counted in total and, per kind, as `DliErrors` with a `kind` dimension: those go out at once as
 * single metrics, since the kind dimension must not spread to the cycle's other metrics.
 */
export function publishCycleMetrics(metrics: Metrics, summary: CycleSummary): void {
  metrics.addMetric('JobsPolled', MetricUnit.Count, summary.polled);
  metrics.addMetric('Transitions', MetricUnit.Count, summary.changed);
  metrics.addMetric('DeliveriesSent', MetricUnit.Count, summary.notified);
  metrics.addMetric('DeliveryFailures', MetricUnit.Count, summary.delivery_failures);
  metrics.addMetric('DeadLettered', MetricUnit.Count, summary.dead_lettered);
  metrics.addMetric('DliErrors', MetricUnit.Count, summary.errors);
  metrics.addMetric('CycleDuration', MetricUnit.Milliseconds, summary.duration_ms);
  if (summary.oldest_due_delivery_age_ms !== null)
    metrics.addMetric('OldestDueDeliveryAge', MetricUnit.Milliseconds, summary.oldest_due_delivery_age_ms);
  for (const [kind, count] of Object.entries(summary.errors_by_kind)) {
    if (count === undefined) continue;
    metrics.singleMetric().addDimension('kind', kind).addMetric('DliErrors', MetricUnit.Count, count);
  }
}

/** Counts a cycle that threw (before its summary existed), so the alarm on failing cycles hears of it. */
export function publishCycleFailure(metrics: Metrics): void {
  metrics.addMetric('CycleFailed', MetricUnit.Count, 1);
}
