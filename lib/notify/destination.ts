import type { TerminalStatus } from '../dli/schemas.ts';

interface DestinationBase {
  /** Unique among destinations; the outbox records deliveries by it. */
  name: string;
  /** Secret (a webhook URL is a credential): log `new URL(url).host` only. */
  url: string;
  /** Terminal statuses this destination wants to hear about. */
  events: TerminalStatus[];
}

/** Slack incoming webhook. */
export interface SlackDestination extends DestinationBase {
  type: 'slack';
}

/** Any HTTPS endpoint, signed per Standard Webhooks when it has a `secret` (`whsec_…`). */
export interface WebhookDestination extends DestinationBase {
  type: 'webhook';
  secret: string | null;
}

export type Destination = SlackDestination | WebhookDestination;
export type DestinationType = Destination['type'];
