import type { JobEvent } from '../../job.ts';
import type { DeliveryOutcome } from '../platforms/platform.ts';
import { type Destination, type PlatformRegistry, platformFor } from '../platforms/registry.ts';
import { catalogueFor } from '../render/catalogues.ts';
import type { RenderContext } from '../render/job-facts.ts';
import { postOnce } from './post-once.ts';

/** A clearly marked FINISHED event about no real job, for `dli-watch test-destination`. */
export function testEvent(projectId: string, now: number): JobEvent {
  return {
    id: `msg_test_${now}`,
    type: 'FINISHED',
    status: 'FINISHED',
    previousStatus: 'RUNNING',
    occurredAt: now,
    projectId,
    labels: { dli_watch_test: 'true' },
    job: {
      is_success: true,
      message: '',
      job_id: 'dli-watch-test',
      job_type: 'QUERY',
      job_mode: 'async',
      queue_name: 'test',
      owner: 'dli-watch',
      start_time: now - 2_500,
      duration: 2_500,
      status: 'FINISHED',
      statement: "SELECT 'this is a test message from dli-watch'",
    },
    routedTo: [],
  };
}

export interface TestResult {
  destination: string;
  type: Destination['type'];
  host: string;
  /** What the platform really answered, judged by its own success test. */
  outcome: DeliveryOutcome;
}

/** Sends one test message to `destination` — once, no retries — and reports what the platform answered. */
export async function sendTestMessage(
  destination: Destination,
  options: {
    platforms: PlatformRegistry;
    render: Omit<RenderContext, 'now'>;
    projectId: string;
    now: number;
    timeoutMs: number;
  },
): Promise<TestResult> {
  const platform = platformFor(options.platforms, destination);
  // Every test message carries this title, in the destination's language, so nobody mistakes it for a real job.
  const context = {
    ...options.render,
    now: options.now,
    language: destination.language,
    titleTemplate: catalogueFor(destination.language).testTitle,
  };
  const request = platform.render(testEvent(options.projectId, options.now), destination, context);
  return {
    destination: destination.name,
    type: destination.type,
    host: new URL(destination.url).host,
    outcome: await postOnce(platform, request, { timeoutMs: options.timeoutMs }),
  };
}
