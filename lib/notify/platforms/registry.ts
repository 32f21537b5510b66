import type { ChatDestination, WebhookDestination } from '../destination.ts';
import { dingtalkPlatform } from './dingtalk.ts';
import { discordPlatform } from './discord.ts';
import { feishuPlatform } from './feishu.ts';
import { googleChatPlatform } from './googlechat.ts';
import type { ChatPlatform, Platform, WebhookPlatform } from './platform.ts';
import { slackPlatform } from './slack.ts';
import { teamsPlatform } from './teams.ts';
import { webhookPlatform } from './webhook.ts';
import { wecomPlatform } from './wecom.ts';

/**
 * Every destination type dli-watch can deliver to, by its `type` in the configuration. The one list of platforms:
 * the configuration's types, its secret and mention rules and the URL shortcut are all derived from it, so a new
 * platform is its own file and one line here.
 */
export const platforms = {
  slack: slackPlatform,
  teams: teamsPlatform,
  discord: discordPlatform,
  feishu: feishuPlatform,
  dingtalk: dingtalkPlatform,
  wecom: wecomPlatform,
  googlechat: googleChatPlatform,
  webhook: webhookPlatform,
} satisfies Record<string, ChatPlatform | WebhookPlatform>;

/** The registry's shape, for callers that are handed one (the cycle, `test-destination`). */
export type PlatformRegistry = typeof platforms;
/** Every `type` a destination can have. */
export type DestinationType = keyof PlatformRegistry;
/** The types whose platform is a chat platform. */
export type ChatPlatformType = {
  [T in DestinationType]: PlatformRegistry[T] extends { kind: 'chat' } ? T : never;
}[DestinationType];
/** A destination of any type the registry holds. */
export type Destination = ChatDestination<ChatPlatformType> | WebhookDestination;

/** Every destination type, in registry order. */
export const DESTINATION_TYPES = Object.keys(platforms) as DestinationType[];
/** The chat platforms' types, in registry order. */
export const CHAT_PLATFORM_TYPES = DESTINATION_TYPES.filter(
  (type): type is ChatPlatformType => platforms[type].kind === 'chat',
);

export function isDestinationType(type: unknown): type is DestinationType {
  return typeof type === 'string' && Object.hasOwn(platforms, type);
}

/** The platform that delivers to `destination`. */
export function platformFor(registry: PlatformRegistry, destination: Destination): Platform<Destination> {
  return registry[destination.type] as Platform<Destination>;
}

/**
 * The destination type a webhook URL belongs to, judged by its host (docs/platforms.md): the platform whose
 * webhooks it serves, or `webhook` for any other endpoint.
 */
export function destinationTypeForUrl(url: URL): DestinationType {
  // A fully qualified name may end in a dot and still reach the same host.
  const host = url.hostname.toLowerCase().replace(/\.$/, '');
  for (const type of DESTINATION_TYPES) {
    const where = (platforms[type] as Platform<unknown>).webhookHosts;
    if (where === undefined) continue;
    const hostMatches =
      (where.hosts?.includes(host) ?? false) ||
      (where.hostSuffixes?.some((suffix) => host.endsWith(suffix)) ?? false);
    if (hostMatches && (where.pathPrefix === undefined || url.pathname.startsWith(where.pathPrefix))) {
      return type;
    }
  }
  return 'webhook';
}
