import type { JobEvent } from '../store/store.ts';

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
  | { kind: 'retry'; reason: string; retryAfterMs?: number }
  | { kind: 'reject'; reason: string };

export interface RenderContext {
  /** Epoch ms, for signatures and timestamps. */
  now: number;
  region: string;
  /** Console link template with `{region}`, `{project_id}`, `{job_id}`, `{queue_name}`. */
  consoleUrlTemplate: string;
}

/**
 * One destination type. Each platform lives in its own file under `lib/notify/` and exports one of these;
 * the outbox only ever talks to this interface.
 */
export interface Platform<D> {
  /** Builds the request for one event, signed if the platform signs. */
  render(event: JobEvent, destination: D, context: RenderContext): OutgoingRequest;
  /** Decides from the platform's own success test (chat-platforms.md table), never from the status alone. */
  judge(response: PlatformResponse): DeliveryOutcome;
}
