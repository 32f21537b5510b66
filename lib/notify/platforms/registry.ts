import type { PlatformRegistry } from '../delivery/send-message.ts';
import { dingtalkPlatform } from './dingtalk.ts';
import { discordPlatform } from './discord.ts';
import { feishuPlatform } from './feishu.ts';
import { googleChatPlatform } from './googlechat.ts';
import { slackPlatform } from './slack.ts';
import { teamsPlatform } from './teams.ts';
import { webhookPlatform } from './webhook.ts';
import { wecomPlatform } from './wecom.ts';

/** Every destination type dli-watch can deliver to, by its `type` in the configuration. */
export const platforms: PlatformRegistry = {
  slack: slackPlatform,
  teams: teamsPlatform,
  discord: discordPlatform,
  feishu: feishuPlatform,
  dingtalk: dingtalkPlatform,
  wecom: wecomPlatform,
  googlechat: googleChatPlatform,
  webhook: webhookPlatform,
};
