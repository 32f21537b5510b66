import type { PlatformRegistry } from './outbox.ts';
import { slackPlatform } from './slack.ts';
import { webhookPlatform } from './webhook.ts';

/** Every destination type dli-watch can deliver to, by its `type` in the configuration. */
export const platforms: PlatformRegistry = {
  slack: slackPlatform,
  webhook: webhookPlatform,
};
