import type { SummarySchedule } from '../daily-summary.ts';
import { DEFAULT_EVENT_TYPES, type EventType } from '../job.ts';
import type { QuietHours } from './quiet-hours.ts';
import type { Language } from './render/catalogue.ts';

/**
 * Which jobs a destination wants, beyond `events`. Each list is `null` for "any"; otherwise a job must match at
 * least one entry of every non-null list. Entries may contain `*` wildcards; `tags` and `labels` entries are
 * `key=value` (DLI job tags, dli-watch tracking labels).
 */
export interface RouteFilter {
  queues: string[] | null;
  owners: string[] | null;
  jobTypes: string[] | null;
  tags: string[] | null;
  labels: string[] | null;
}

/** Who a chat destination mentions when a job FAILED; each platform maps these to its own mention syntax. */
export interface Mentions {
  /** User ids (Slack `U…`, Feishu `ou_…`, Discord ids, Teams UPNs) or mobiles (DingTalk, WeCom). */
  users: string[];
  /** Group ids: Slack user groups (`S…`), Discord roles. */
  groups: string[];
  /** Everyone in the channel (`@all`, `<!channel>`, `@everyone`). */
  all: boolean;
}

/** What every destination has, whatever its platform. */
export interface DestinationBase {
  /** Unique among destinations; the outbox records deliveries by it. */
  name: string;
  /** Secret (a webhook URL is a credential): log `new URL(url).host` only. */
  url: string;
  /** What this destination wants to hear about: ends by status, long-running warnings, recoveries. */
  events: EventType[];
  route: RouteFilter;
  /** FAILED only from this failure in a row of a run key on (1: every failure). */
  onlyAfterFailures: number;
  /** When messages wait (all but the `except` types) until the quiet hours end; `null`: never. */
  quietHours: QuietHours | null;
  /** When it is sent its daily summary of the day before; `null`: never. */
  summary: SummarySchedule | null;
  /** The language of every word its messages add to DLI's: its own `language`, else `DLI_WATCH_LANGUAGE`. */
  language: Language;
  /** Overrides the global console link template for this destination. */
  consoleUrlTemplate: string | null;
  /** Overrides the message title: `{status}`, `{job_id}`, `{short_job_id}`, `{queue_name}`, `{owner}`, `{job_type}`. */
  titleTemplate: string | null;
}

/**
 * A chat platform's incoming webhook or custom bot. `T` is the platform's `type`; the registry
 * (`platforms/registry.ts`) narrows it to the chat platforms it holds.
 */
export interface ChatDestination<T extends string = string> extends DestinationBase {
  type: T;
  /** Signing secret where the platform signs (Feishu, DingTalk); `null` elsewhere or when the bot has none. */
  secret: string | null;
  mentions: Mentions;
  /** More events than this for this destination in one cycle are sent as one digest message. */
  digestThreshold: number;
}

/** Any HTTPS endpoint, signed per Standard Webhooks when it has a `secret` (`whsec_…`); one delivery per event. */
export interface WebhookDestination extends DestinationBase {
  type: 'webhook';
  secret: string | null;
}

/** Matches everything: the route of a destination that sets no filter. */
export const ANY_ROUTE: RouteFilter = {
  queues: null,
  owners: null,
  jobTypes: null,
  tags: null,
  labels: null,
};
export const NO_MENTIONS: Mentions = { users: [], groups: [], all: false };
export const DEFAULT_DIGEST_THRESHOLD = 5;

/** What every destination has when the configuration says nothing: all events, any job, unsigned. */
function baseDefaults() {
  return {
    events: [...DEFAULT_EVENT_TYPES],
    route: ANY_ROUTE,
    onlyAfterFailures: 1,
    quietHours: null,
    summary: null,
    language: 'en' as const,
    consoleUrlTemplate: null,
    titleTemplate: null,
    secret: null,
  };
}

/** A chat destination with every optional setting at its default (all events, any job, no mentions). */
export function createChatDestination<T extends string>(
  fields: Pick<ChatDestination<T>, 'name' | 'type' | 'url'> & Partial<ChatDestination<T>>,
): ChatDestination<T> {
  return { ...baseDefaults(), mentions: NO_MENTIONS, digestThreshold: DEFAULT_DIGEST_THRESHOLD, ...fields };
}

/** A generic webhook destination with every optional setting at its default (all events, any job, unsigned). */
export function createWebhookDestination(
  fields: Pick<WebhookDestination, 'name' | 'url'> & Partial<WebhookDestination>,
): WebhookDestination {
  return { ...baseDefaults(), ...fields, type: 'webhook' };
}
