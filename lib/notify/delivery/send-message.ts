import type { DailySummary, JobEvent } from '../../job.ts';
import type { Clock } from '../../util/clock.ts';
import type { Log } from '../../util/log.ts';
import type { DeliveryOutcome, OutgoingRequest, Platform } from '../platforms/platform.ts';
import { type Destination, type PlatformRegistry, platformFor } from '../platforms/registry.ts';
import type { RenderContext } from '../render/job-facts.ts';
import type { DestinationThrottle } from './destination-throttle.ts';
import { postOnce } from './post-once.ts';
import { inCyclePause } from './retry-schedule.ts';

export interface OutboxOptions {
  platforms: PlatformRegistry;
  throttle: DestinationThrottle;
  clock: Clock;
  log: Log;
  /** The global render settings; a destination's own console link and title template override them. */
  render: Omit<RenderContext, 'now'>;
  sendTimeoutMs: number;
  /** Epoch ms after which no attempt is started. */
  deadline: number;
  signal?: AbortSignal;
}

/** One message to one destination: a single event, a digest of several, or its daily summary. */
export interface OutgoingMessage {
  destination: Destination;
  /** Empty for a summary. */
  events: readonly JobEvent[];
  digest: boolean;
  summary?: DailySummary;
}

export type MessageResult =
  /** Attempts were made; `outcome` is the last one's. */
  | {
      kind: 'attempted';
      attempts: number;
      outcome: DeliveryOutcome;
      /** Attempts that got no answer within the send timeout (each may have been posted all the same). */
      timeouts: number;
    }
  /** Not attempted: the destination is paused or out of tokens until `until`. Not a failure. */
  | { kind: 'deferred'; until: number };

/**
 * Whether `destination` is sent digests: a chat platform that has them, and more due events than its threshold —
 * or, after its quiet hours, more than one event that waited for them to end (`waited`): a person coming back to a
 * channel reads one summary of the night rather than a burst of messages.
 */
export function wantsDigest(
  destination: Destination,
  platforms: PlatformRegistry,
  dueEvents: number,
  waited = 0,
): boolean {
  if (destination.type === 'webhook' || platformFor(platforms, destination).renderDigest === undefined)
    return false;
  return dueEvents > destination.digestThreshold || waited > 1;
}

/**
 * Sends one message: waits for the destination's rate-limit slot (or defers the message when the slot or a
 * platform pause is too far off), then attempts it up to three times in this cycle after short pauses. The
 * caller turns the result into the stored state of each delivery the message carries.
 */
export async function sendMessage(message: OutgoingMessage, options: OutboxOptions): Promise<MessageResult> {
  const { clock, log } = options;
  const { destination } = message;
  const platform = platformFor(options.platforms, destination);
  const host = new URL(destination.url).host;
  const logFields = {
    destination: destination.name,
    host,
    events: message.events.length,
    ...(message.summary && { summary: message.summary.id }),
    ...(message.events.length === 1 && {
      job_id: message.events[0]?.job.job_id,
      event_id: message.events[0]?.id,
    }),
  };
  let attempts = 0;
  let timeouts = 0;
  for (;;) {
    // A destination's messages go out one after another, beside other destinations', so waiting here for its
    // next slot holds up nobody else; a slot beyond the budget defers the message to a later cycle instead.
    const closedFor = await options.throttle.reserve(
      destination.url,
      platform.rateLimit,
      Math.max(0, options.deadline - clock.now()),
      options.signal,
    );
    if (closedFor > 0) {
      log.debug('destination closed for now; message deferred', {
        ...logFields,
        wait_ms: Math.round(closedFor),
      });
      return attempts === 0
        ? { kind: 'deferred', until: clock.now() + closedFor }
        : {
            kind: 'attempted',
            attempts,
            outcome: { kind: 'retry', reason: 'rate limited by dli-watch' },
            timeouts,
          };
    }
    const now = clock.now();
    // Not cancelled by a stop request: a send cut off mid-flight may have arrived, and recording it as failed
    // would send it again. The stop only skips the in-cycle retries below.
    const outcome = await postOnce(
      platform,
      render(platform, message, { ...renderContextFor(destination, options), now }),
      { timeoutMs: options.sendTimeoutMs },
    );
    attempts += 1;
    if (outcome.kind === 'retry' && outcome.timedOut) timeouts += 1;
    if (outcome.kind === 'delivered') {
      const what = message.summary
        ? 'daily summary delivered'
        : message.digest
          ? 'digest delivered'
          : 'delivered';
      log.info(what, { ...logFields, attempt: attempts });
      return { kind: 'attempted', attempts, outcome, timeouts };
    }
    log.warn('delivery attempt failed', {
      ...logFields,
      attempt: attempts,
      outcome: outcome.kind,
      reason: outcome.reason,
    });
    if (outcome.kind === 'retry' && outcome.pauseDestinationMs) {
      options.throttle.pause(destination.url, clock.now() + outcome.pauseDestinationMs);
      log.warn('the platform paused this destination', {
        ...logFields,
        pause_ms: outcome.pauseDestinationMs,
      });
    }
    const pause = inCyclePause(outcome, attempts);
    const later = clock.now();
    if (
      pause === null ||
      options.signal?.aborted ||
      later + pause + options.sendTimeoutMs > options.deadline
    ) {
      return { kind: 'attempted', attempts, outcome, timeouts };
    }
    await clock.sleep(pause, options.signal);
  }
}

/** The render settings for one destination: its own console link and title template win over the global ones. */
export function renderContextFor(destination: Destination, options: Pick<OutboxOptions, 'render'>) {
  return {
    ...options.render,
    consoleUrlTemplate: destination.consoleUrlTemplate ?? options.render.consoleUrlTemplate,
    titleTemplate: destination.titleTemplate,
    language: destination.language,
  };
}

function render(
  platform: Platform<Destination>,
  message: OutgoingMessage,
  context: RenderContext,
): OutgoingRequest {
  const [first] = message.events;
  if (message.summary) return platform.renderSummary(message.summary, message.destination, context);
  if (message.digest && platform.renderDigest)
    return platform.renderDigest(message.events, message.destination, context);
  if (!first) throw new Error('a message carries at least one event');
  return platform.render(first, message.destination, context);
}
