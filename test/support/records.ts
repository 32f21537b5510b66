import type { JobStatusResponse } from '../../lib/dli/schemas.ts';
import type { EventType, JobRecord } from '../../lib/job.ts';
import { createChatDestination, createWebhookDestination } from '../../lib/notify/destination.ts';
import type { Destination } from '../../lib/notify/platforms/registry.ts';

/** A freshly tracked job, as every store creates it. */
export function trackedRecord(jobId: string, overrides: Partial<JobRecord> = {}): JobRecord {
  return {
    jobId,
    version: 1,
    phase: 'active',
    status: null,
    labels: {},
    notFoundCount: 0,
    trackedAt: 1_000,
    startTime: null,
    lastPolledAt: null,
    statusChangedAt: null,
    warnAfterMs: null,
    keyFrom: null,
    event: null,
    notices: [],
    deliveries: [],
    ...overrides,
  };
}

export function statusResponse(
  jobId: string,
  status: string,
  extra: Partial<JobStatusResponse> = {},
): JobStatusResponse {
  return {
    is_success: true,
    message: '',
    job_id: jobId,
    job_type: 'QUERY',
    job_mode: 'async',
    queue_name: 'default',
    owner: 'alice',
    start_time: 1_700_000_000_000,
    duration: 2_500,
    status,
    input_size: 22,
    result_count: 4,
    statement: 'select 1',
    ...extra,
  };
}

export const allEvents = ['FINISHED', 'FAILED', 'CANCELLED'] as const;

export function slackDestination(
  name: string,
  url: string,
  events: EventType[] = [...allEvents],
): Destination {
  return createChatDestination({ name, type: 'slack', url, events });
}

export function webhookDestination(
  name: string,
  url: string,
  secret: string | null,
  events: EventType[] = [...allEvents],
): Destination {
  return createWebhookDestination({ name, url, secret, events });
}
