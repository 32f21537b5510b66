import type { JobEvent } from '../../job.ts';

/** An HTTP request ready to send: rendering and signing are pure, sending is the only I/O. */
export interface OutgoingRequest {
  url: string;
  method: 'POST';
  headers: Record<string, string>;
  body: string;
}

/** What a platform really answered, as far as deciding success needs it. */
export interface PlatformResponse {
  status: number;
  headers: Headers;
  body: string;
}

/**
 * The verdict on one attempt. `retry` means "try again later" (throttled, server trouble, network);
 * `reject` is a permanent refusal (bad URL, deleted channel): retrying cannot help, so it dead-letters at once.
 */
export type DeliveryOutcome =
  | { kind: 'delivered' }
  | {
      kind: 'retry';
      reason: string;
      retryAfterMs?: number;
      /** The platform froze the whole destination (DingTalk 130101): send it nothing for this long. */
      pauseDestinationMs?: number;
    }
  | { kind: 'reject'; reason: string };

export interface RenderContext {
  /** Epoch ms, for signatures and timestamps. */
  now: number;
  region: string;
  /** Console link template with `{region}`, `{project_id}`, `{job_id}`, `{queue_name}`. */
  consoleUrlTemplate: string;
  /** The destination's own title template (placeholders in `fillTitle`, job-facts.ts); default title when absent. */
  titleTemplate?: string | null;
}

/** A platform's published send limit per webhook; the outbox keeps one bucket per destination URL. */
export interface RateLimit {
  perMinute: number;
  /** A tighter short-term limit, where the platform has one (Feishu: 5/s). */
  perSecond?: number;
}

/**
 * One destination type. Each platform lives in its own file under `lib/notify/` and exports one of these;
 * the outbox only ever talks to this interface.
 */
export interface Platform<D> {
  /** Builds the request for one event, signed if the platform signs. */
  render(event: JobEvent, destination: D, context: RenderContext): OutgoingRequest;
  /**
   * One summary message for several events at once (the digest), or absent when the destination type always
   * gets one delivery per event (generic webhooks).
   */
  renderDigest?(events: readonly JobEvent[], destination: D, context: RenderContext): OutgoingRequest;
  /** Decides from the platform's own success test (chat-platforms.md table), never from the status alone. */
  judge(response: PlatformResponse): DeliveryOutcome;
  /** `null` when the platform publishes no limit (the receiver's own, for generic webhooks). */
  rateLimit: RateLimit | null;
}
