import type { DailySummary, JobEvent } from '../../job.ts';
import type { ChatDestination, WebhookDestination } from '../destination.ts';
import type { RenderContext } from '../render/job-facts.ts';

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
      /**
       * No answer came within the send timeout: the platform may have accepted the message all the same, so a retry
       * may post it twice. Counted, to show how rare that is.
       */
      timedOut?: true;
    }
  | { kind: 'reject'; reason: string };

/** A platform's published send limit per webhook; the outbox keeps one bucket per destination URL. */
export interface RateLimit {
  perMinute: number;
  /** A tighter short-term limit, where the platform has one (Feishu: 5/s). */
  perSecond?: number;
}

/** How a platform writes its signing secret, so the configuration can refuse one that cannot sign. */
export interface SigningSecretRule {
  accepts(text: string): boolean;
  /** What a valid secret looks like, for the problem shown when `accepts` refuses one. */
  rule: string;
}

/**
 * Where a platform's incoming webhooks live, so that a bare URL (`DLI_WATCH_WEBHOOKS`) is sent in the platform's
 * own format: exact hosts, host suffixes (regional subdomains), and a path prefix where the same hosts serve more
 * than webhooks.
 */
export interface WebhookHosts {
  hosts?: readonly string[];
  hostSuffixes?: readonly string[];
  pathPrefix?: string;
}

/**
 * One destination type: everything dli-watch knows about it. Each platform lives in its own file under
 * `notify/platforms/` and exports one of these; the registry lists them, the configuration derives its types and
 * checks from them, and the sender only ever talks to this interface.
 */
export interface Platform<D> {
  /** `chat`: a message a person reads (mentions, digests); `webhook`: event data for a program. */
  kind: 'chat' | 'webhook';
  /** Builds the request for one event, signed if the platform signs. */
  render(event: JobEvent, destination: D, context: RenderContext): OutgoingRequest;
  /**
   * One summary message for several events at once (the digest), or absent when the destination type always
   * gets one delivery per event (generic webhooks).
   */
  renderDigest?(events: readonly JobEvent[], destination: D, context: RenderContext): OutgoingRequest;
  /** Builds the request for a destination's daily summary: the layout of a digest for chat, the data for webhooks. */
  renderSummary(summary: DailySummary, destination: D, context: RenderContext): OutgoingRequest;
  /** Decides from the platform's own success test (docs/platforms.md), never from the status alone. */
  judge(response: PlatformResponse): DeliveryOutcome;
  /** `null` when the platform publishes no limit (the receiver's own, for generic webhooks). */
  rateLimit: RateLimit | null;
  /** Absent when the platform takes no signing secret (its credential is in the URL). */
  signingSecret?: SigningSecretRule;
  /** Whether it can mention a group of people by id (Slack user groups, Discord roles). */
  mentionsGroups?: boolean;
  /** Absent for generic webhooks: any URL no platform claims is one. */
  webhookHosts?: WebhookHosts;
}

/** A chat platform: a message a person reads. */
export type ChatPlatform = Platform<ChatDestination> & { kind: 'chat' };
/** The generic signed webhook: event data for a program. */
export type WebhookPlatform = Platform<WebhookDestination> & { kind: 'webhook' };
