import type { Metrics } from '@aws-lambda-powertools/metrics';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CycleSummary } from '../../lib/cycle/run-cycle.ts';
import {
  createCycleMetrics,
  METRICS_NAMESPACE,
  METRICS_SERVICE,
  publishCycleFailure,
  publishCycleMetrics,
} from '../../lib/run/cycle-metrics.ts';
import { captureStdout, jsonLines, type StdoutCapture } from '../support/stdout.ts';

interface EmfLine {
  _aws: {
    CloudWatchMetrics: {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string; Unit: string }[];
    }[];
  };
  [key: string]: unknown;
}

const summary: CycleSummary = {
  polled: 7,
  changed: 3,
  discovered: 2,
  notices: 1,
  status_plan: 'window',
  list_calls: 5,
  status_calls: 7,
  notified: 4,
  digests: 1,
  summaries_raised: 1,
  daily_summaries: 1,
  delivery_failures: 2,
  dead_lettered: 1,
  held_for_quiet_hours: 5,
  send_timeouts: 2,
  cancelled_polls: 0,
  poll_lag_ms: 120_000,
  lost: 0,
  errors: 3,
  errors_by_kind: { throttled: 2, store: 1 },
  deferred: false,
  duration_ms: 1234,
  oldest_due_delivery_age_ms: 90_000,
};

let stdout: StdoutCapture;

beforeEach(() => {
  // CloudWatch turns the EMF lines into metrics.
  stdout = captureStdout();
});

afterEach(() => {
  stdout.restore();
});

function emfLines(): EmfLine[] {
  return jsonLines<EmfLine>(stdout.chunks).filter((line) => line._aws !== undefined);
}

/** Metric name → unit, for one EMF line. */
function unitsOf(line: EmfLine): Record<string, string> {
  return Object.fromEntries(
    line._aws.CloudWatchMetrics.flatMap((group) => group.Metrics).map((metric) => [metric.Name, metric.Unit]),
  );
}

function newMetrics(): Metrics {
  return createCycleMetrics({ DLI_WATCH_STAGE: 'prod' });
}

describe('publishCycleMetrics', () => {
  it('emits one EMF line with the cycle counts and durations, in the DliWatch namespace per service', () => {
    const metrics = newMetrics();
    publishCycleMetrics(metrics, summary);
    metrics.publishStoredMetrics();
    const cycleLine = emfLines().find((line) => 'JobsPolled' in line);
    expect(cycleLine).toBeDefined();
    const line = cycleLine as EmfLine;
    expect(line).toMatchObject({
      service: 'dli-watch',
      JobsPolled: 7,
      Transitions: 3,
      JobsDiscovered: 2,
      Notices: 1,
      DliRequests: 12,
      DeliveriesSent: 4,
      DailySummaries: 1,
      DeliveryFailures: 2,
      DeadLettered: 1,
      HeldForQuietHours: 5,
      SendTimeouts: 2,
      DliErrors: 3,
      CycleDuration: 1234,
      OldestDueDeliveryAge: 90_000,
      PollLag: 120_000,
      stage: 'prod',
    });
    expect(line._aws.CloudWatchMetrics[0]?.Namespace).toBe(METRICS_NAMESPACE);
    expect(line._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['service', 'stage']]);
    expect(unitsOf(line)).toEqual({
      JobsPolled: 'Count',
      Transitions: 'Count',
      JobsDiscovered: 'Count',
      Notices: 'Count',
      DliRequests: 'Count',
      DeliveriesSent: 'Count',
      DailySummaries: 'Count',
      DeliveryFailures: 'Count',
      DeadLettered: 'Count',
      HeldForQuietHours: 'Count',
      SendTimeouts: 'Count',
      DliErrors: 'Count',
      CycleDuration: 'Milliseconds',
      OldestDueDeliveryAge: 'Milliseconds',
      PollLag: 'Milliseconds',
    });
  });

  it("takes namespace, service and stage from the environment, so one stage never trips another stage's alarms", () => {
    const metrics = createCycleMetrics({
      POWERTOOLS_METRICS_NAMESPACE: 'Team/DliWatch',
      POWERTOOLS_SERVICE_NAME: 'dli-watch-eu',
      DLI_WATCH_STAGE: 'dev',
    });
    publishCycleMetrics(metrics, summary);
    metrics.publishStoredMetrics();
    const line = emfLines().find((entry) => 'JobsPolled' in entry) as EmfLine;
    expect(line).toMatchObject({ service: 'dli-watch-eu', stage: 'dev' });
    expect(line._aws.CloudWatchMetrics[0]?.Namespace).toBe('Team/DliWatch');
    expect(METRICS_SERVICE).toBe('dli-watch');
  });

  it('emits DLI errors per kind with a kind dimension, apart from the cycle line', () => {
    const metrics = newMetrics();
    publishCycleMetrics(metrics, summary);
    metrics.publishStoredMetrics();
    const perKind = emfLines().filter((line) => 'kind' in line);
    expect(perKind.map((line) => [line.kind, line.DliErrors]).sort()).toEqual([
      ['store', 1],
      ['throttled', 2],
    ]);
    for (const line of perKind) {
      expect(line._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['service', 'stage', 'kind']]);
      expect(unitsOf(line)).toEqual({ DliErrors: 'Count' });
    }
  });

  it('leaves out the oldest due delivery age and the poll lag when nothing was due', () => {
    const metrics = newMetrics();
    publishCycleMetrics(metrics, {
      ...summary,
      errors: 0,
      errors_by_kind: {},
      oldest_due_delivery_age_ms: null,
      poll_lag_ms: null,
    });
    metrics.publishStoredMetrics();
    const lines = emfLines();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ JobsPolled: 7, DliErrors: 0 });
    expect(lines[0]).not.toHaveProperty('OldestDueDeliveryAge');
    expect(lines[0]).not.toHaveProperty('PollLag');
  });

  it('counts a failed cycle as CycleFailed 1', () => {
    const metrics = newMetrics();
    publishCycleFailure(metrics);
    metrics.publishStoredMetrics();
    const [line] = emfLines();
    expect(line).toMatchObject({ service: 'dli-watch', CycleFailed: 1 });
    expect(unitsOf(line as EmfLine)).toEqual({ CycleFailed: 'Count' });
  });
});
