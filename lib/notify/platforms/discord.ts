import type { DailySummary, EventType, JobEvent } from '../../job.ts';
import { type Mentions, NO_MENTIONS } from '../destination.ts';
import type { Catalogue } from '../render/catalogue.ts';
import { describeDailySummary } from '../render/daily-summary-facts.ts';
import {
  type DigestSummary,
  digestMentions,
  fitSections,
  formatDigestLine,
  summarizeDigest,
} from '../render/digest.ts';
import { describeJobEvent, type JobFacts, mentionsFor, type RenderContext } from '../render/job-facts.ts';
import { markdownLink } from '../render/links.ts';
import {
  countUtf16Units,
  defuseCodeFences,
  fitEscaped,
  joinWhole,
  truncateToFit,
} from '../render/text-fit.ts';
import { describeAnswer, judgeCommonAnswer } from './common-answers.ts';
import { parseJsonObject, postJson } from './json-body.ts';
import type { ChatPlatform, DeliveryOutcome, PlatformResponse } from './platform.ts';

// Discord's message and embed limits (docs/platforms.md). Discord counts characters; we count UTF-16 units,
// which is never fewer, so a message we accept Discord accepts.
export const DISCORD_LIMITS = {
  content: 2000,
  title: 256,
  description: 4096,
  fields: 25,
  fieldName: 256,
  fieldValue: 1024,
  footer: 2048,
  /** Title, description, field names and values, footer and author of all embeds together. */
  embedTotal: 6000,
  /** Ids per `allowed_mentions.users` / `.roles` list. */
  allowedMentionIds: 100,
} as const;

/**
 * Our own caps, tighter than Discord's, so the facts leave the description room within the 6000 total: eleven
 * fields of 200 plus title and footer still leave over 3000 for the error and the SQL.
 */
const FIELD_VALUE_MAX = 200;
const FOOTER_MAX = 200;
/** A summary's list heading stays one short line, whatever a translation makes of it. */
const HEADING_MAX = 100;
/** Leaves room after the mentions for the notification line in `content`. */
const MENTIONS_MAX = 1500;
/** Discord has no documented limit for an embed's `url`; longer links than this are unusual enough to drop. */
const LINK_MAX = 2048;

/** Fields shown three to a row: short values. The id and the tag/label lists get a row of their own. */
/** The fields shown full width, by their name in the message's language. */
const wideFields = (text: Catalogue) => new Set([text.fields.jobId, text.fields.tags, text.fields.labels]);

const STATUS_COLOR: Record<EventType, number> = {
  FINISHED: 0x57f287, // Discord's green
  FAILED: 0xed4245, // Discord's red
  CANCELLED: 0x95a5a6, // grey
  LONG_RUNNING: 0xfee75c, // Discord's yellow
  RECOVERED: 0x57f287,
};

export interface DiscordEmbedField {
  name: string;
  value: string;
  inline: boolean;
}

export interface DiscordEmbed {
  title: string;
  description?: string;
  url?: string;
  color: number;
  fields?: DiscordEmbedField[];
  footer?: { text: string };
  /** ISO-8601: Discord shows it in each reader's own time zone. */
  timestamp: string;
}

/** Who may be pinged: nobody beyond these, whatever the text says (`parse: []` turns off the rest). */
export interface DiscordAllowedMentions {
  parse: 'everyone'[];
  users?: string[];
  roles?: string[];
}

/** An execute-webhook body. `content` carries the mentions, since mentions inside embeds notify nobody. */
export interface DiscordMessage {
  content?: string;
  embeds: DiscordEmbed[];
  allowed_mentions: DiscordAllowedMentions;
}

/**
 * Escapes Discord Markdown in user text (embed descriptions, field values and content render it): emphasis,
 * code, spoilers, masked links, quotes, headings, lists, `<@…>`/`<#…>`/`<t:…>` tags and `@everyone`/`@here`
 * (a backslash makes them plain text, so user text cannot ping even where `allowed_mentions` would let it). Escaping is per
 * character (never "only at the start of a line"), so the escaped length of a text is the sum of its pieces'
 * and cutting it to a limit stays exact.
 */
export function escapeDiscordMarkdown(text: string): string {
  return text.replace(/[\\*_~`|[\]<>#@-]/g, '\\$&');
}

/**
 * `content` mention tokens and the `allowed_mentions` that lets exactly them ping: `<@id>` per user, `<@&id>` per
 * role, `@everyone` when `mentions.all`. Ids must be Discord snowflakes (digits): anything else would make
 * Discord refuse the whole message (400, invalid `allowed_mentions`), so it is left out. Tokens are kept whole
 * within the mention budget and at most 100 ids per list, Discord's maximum.
 */
export function renderDiscordMentions(mentions: Mentions): { text: string; allowed: DiscordAllowedMentions } {
  const users = [...new Set(mentions.users.filter(isSnowflake))].slice(0, DISCORD_LIMITS.allowedMentionIds);
  const roles = [...new Set(mentions.groups.filter(isSnowflake))].slice(0, DISCORD_LIMITS.allowedMentionIds);
  const text = joinWhole(
    [
      ...(mentions.all ? ['@everyone'] : []),
      ...users.map((id) => `<@${id}>`),
      ...roles.map((id) => `<@&${id}>`),
    ],
    MENTIONS_MAX,
    countUtf16Units,
  );
  // Only what made it into the text is allowed: naming an id that is not mentioned would be harmless, but the
  // list is the record of who this message pings.
  const keptUsers = users.filter((id) => text.includes(`<@${id}>`));
  const keptRoles = roles.filter((id) => text.includes(`<@&${id}>`));
  return {
    text,
    allowed: {
      parse: mentions.all && text.includes('@everyone') ? ['everyone'] : [],
      ...(keptUsers.length > 0 && { users: keptUsers }),
      ...(keptRoles.length > 0 && { roles: keptRoles }),
    },
  };
}

/**
 * Renders a job event as one embed coloured by status: the title links to the DLI console, the facts are
 * fields, the error and the SQL are code blocks in the description, the project is the footer. For a FAILED
 * job with mentions configured, `content` carries the mentions and the headline (Discord notifies from
 * `content` only), and `allowed_mentions` names exactly those people; otherwise nobody can be pinged.
 */
export function renderDiscordMessage(
  event: JobEvent,
  context: RenderContext,
  mentions: Mentions = NO_MENTIONS,
): DiscordMessage {
  const facts = describeJobEvent(event, context);
  // Embed titles and footers render no Markdown (escapes would show as backslashes): they are cut, not escaped.
  const title = truncateToFit(
    `${facts.statusEmoji} ${facts.title} · ${facts.shortJobId}`,
    DISCORD_LIMITS.title,
    countUtf16Units,
  );
  const wide = wideFields(facts.text);
  const fields = facts.fields.slice(0, DISCORD_LIMITS.fields).map((fact) => ({
    name: fact.label,
    value: fitMarkdown(fact.value, FIELD_VALUE_MAX),
    inline: !wide.has(fact.label),
  }));
  const footer = truncateToFit(
    facts.text.project(facts.projectId, facts.region),
    FOOTER_MAX,
    countUtf16Units,
  );
  const used =
    title.length + footer.length + fields.reduce((sum, f) => sum + f.name.length + f.value.length, 0);
  const description = renderDescription(
    facts,
    Math.min(DISCORD_LIMITS.description, DISCORD_LIMITS.embedTotal - used),
  );

  const embed: DiscordEmbed = {
    title,
    ...(description !== '' && { description }),
    ...(facts.consoleUrl !== undefined && facts.consoleUrl.length <= LINK_MAX && { url: facts.consoleUrl }),
    color: STATUS_COLOR[facts.type],
    fields,
    footer: { text: footer },
    timestamp: new Date(event.occurredAt).toISOString(),
  };
  return withContent(embed, renderDiscordMentions(mentionsFor(facts.type, mentions)), facts.headline);
}

/**
 * Renders many ended jobs as one embed: "12 DLI jobs ended" in the colour of the worst outcome, the counts by
 * status, then one line per job (failures first) cut to the description limit with "… and N more". When any
 * job FAILED, `content` carries the mentions and the counts.
 */
export function renderDiscordDigest(
  events: readonly JobEvent[],
  context: RenderContext,
  mentions: Mentions = NO_MENTIONS,
): DiscordMessage {
  const latest = events.reduce((max, event) => Math.max(max, event.occurredAt), 0);
  return layOutDiscordDigest(summarizeDigest(events, context), mentions, latest);
}

/** A daily summary in the digest's layout: one embed whose description holds the counts, then each list under its bold heading. */
export function renderDiscordSummary(summary: DailySummary, context: RenderContext): DiscordMessage {
  return layOutDiscordDigest(describeDailySummary(summary, context), NO_MENTIONS, summary.occurredAt);
}

/** The embed of a digest or a summary, stamped `timestampMs`, with `content` carrying the mentions when it has any. */
function layOutDiscordDigest(digest: DigestSummary, mentions: Mentions, timestampMs: number): DiscordMessage {
  const title = truncateToFit(digest.title, DISCORD_LIMITS.title, countUtf16Units);
  const counts = fitMarkdown(digest.counts, 500);
  const room = Math.min(DISCORD_LIMITS.description, DISCORD_LIMITS.embedTotal - title.length);
  const lists = fitSections(digest.sections, room - counts.length - 2, countUtf16Units, {
    separator: '\n',
    sectionSeparator: '\n\n',
    heading: (text) => `**${fitMarkdown(text, HEADING_MAX)}**`,
    line: (line) => formatDigestLine(line, escapeDiscordMarkdown, markdownLink),
    more: (hidden) => escapeDiscordMarkdown(digest.text.digest.more(hidden)),
  });
  const embed: DiscordEmbed = {
    title,
    description: lists === '' ? counts : `${counts}\n\n${lists}`,
    color: STATUS_COLOR[digest.type],
    timestamp: new Date(timestampMs).toISOString(),
  };
  const mention = renderDiscordMentions(digestMentions(digest, mentions));
  return withContent(embed, mention, `${digest.title}: ${digest.counts}`);
}

/**
 * Adds `?wait=true` to a Discord webhook URL, keeping any other query (`thread_id`). Without it Discord answers
 * 204 before saving the message, so a message that then fails to post is never reported.
 */
export function withWait(webhookUrl: string): string {
  const url = new URL(webhookUrl);
  url.searchParams.set('wait', 'true');
  return url.toString();
}

/** Discord execute-webhook: delivered only on 200 with the posted message (it has an `id`). */
export const discordPlatform: ChatPlatform = {
  kind: 'chat',
  mentionsGroups: true,
  // Only the webhook path: the same hosts serve the rest of Discord's API.
  webhookHosts: { hosts: ['discord.com', 'discordapp.com'], pathPrefix: '/api/webhooks/' },
  // Discord publishes limits only through X-RateLimit-* headers. A webhook's bucket is observed at 5 requests
  // per 2 s, and a channel takes about 30 webhook messages a minute; we keep under both.
  rateLimit: { perMinute: 30, perSecond: 2 },

  // Every request carries ?wait=true (see withWait): without it Discord's answer proves nothing.
  render(event, destination, context) {
    return postJson(withWait(destination.url), renderDiscordMessage(event, context, destination.mentions));
  },

  renderDigest(events, destination, context) {
    return postJson(withWait(destination.url), renderDiscordDigest(events, context, destination.mentions));
  },

  renderSummary(summary, destination, context) {
    return postJson(withWait(destination.url), renderDiscordSummary(summary, context));
  },

  judge(response: PlatformResponse): DeliveryOutcome {
    const { status } = response;
    if (status === 429) {
      // The body's retry_after is in seconds with milliseconds (0.529); the Retry-After header is rounded, and a
      // 429 from Cloudflare in front of Discord has only the header (judgeCommonAnswer reads that).
      const seconds = parseJsonObject(response.body)?.retry_after;
      if (typeof seconds === 'number' && Number.isFinite(seconds) && seconds >= 0) {
        return {
          kind: 'retry',
          reason: `${describeAnswer(response)} (rate limited)`,
          retryAfterMs: Math.ceil(seconds * 1000),
        };
      }
    }
    const common = judgeCommonAnswer(response);
    if (common) return common;
    if (status === 200) {
      const id = parseJsonObject(response.body)?.id;
      if (typeof id === 'string' && id !== '') return { kind: 'delivered' };
      // A proxy's page or a captive portal answers 200 too: nothing proves Discord posted the message.
      return {
        kind: 'retry',
        reason: `${describeAnswer(response)} (200 without a message: not proven posted)`,
      };
    }
    if (status >= 200 && status < 300) {
      // With ?wait=true Discord answers 200 and the message. A 204 means the query was lost on the way (a proxy,
      // a rewritten URL) and Discord would not report a message it failed to save; sending the same again gets
      // the same, so this is a configuration error.
      return {
        kind: 'reject',
        reason: `${describeAnswer(response)} (no message in the answer: ?wait=true did not reach Discord)`,
      };
    }
    // 400 (50035 invalid form body), 401 (50027 invalid token), 403, 404 (10015: webhook deleted): retrying
    // cannot help, and Discord bans clients that keep sending invalid requests.
    return { kind: 'reject', reason: `${describeAnswer(response)}${DISCORD_HINTS[status] ?? ''}` };
  },
};

const DISCORD_HINTS: Record<number, string> = {
  401: ' (the webhook token is wrong: copy the URL again)',
  404: ' (the webhook was deleted: stop using it)',
};

function withContent(
  embed: DiscordEmbed,
  mention: { text: string; allowed: DiscordAllowedMentions },
  line: string,
): DiscordMessage {
  if (mention.text === '') return { embeds: [embed], allowed_mentions: { parse: [] } };
  const content = `${mention.text} ${fitMarkdown(line, DISCORD_LIMITS.content - mention.text.length - 1)}`;
  return { content, embeds: [embed], allowed_mentions: mention.allowed };
}

/** The error and the SQL as code blocks, within `max`: the error, what someone acts on, comes first. */
function renderDescription(facts: JobFacts, max: number): string {
  const sections: { heading: string; language: string; text: string }[] = [];
  if (facts.failureMessage !== undefined)
    sections.push({ heading: facts.text.error, language: '', text: facts.failureMessage });
  if (facts.statement !== undefined)
    sections.push({ heading: facts.text.sql, language: 'sql', text: facts.statement });
  const separator = '\n';
  let room = max - separator.length * Math.max(0, sections.length - 1);
  const rendered: string[] = [];
  sections.forEach((section, index) => {
    const prefix = `**${section.heading}**\n\`\`\`${section.language}\n`;
    const suffix = '\n```';
    const frame = prefix.length + suffix.length;
    const later = sections.slice(index + 1);
    // Give this block at least its share of the room, and all that the later blocks will not need.
    const laterNeed = later.reduce((sum, s) => sum + defuseCodeFences(s.text).length + 20, 0);
    const share = Math.max(Math.floor(room / (later.length + 1)), room - laterNeed);
    if (share <= frame + 1) return;
    const body = truncateToFit(defuseCodeFences(section.text), share - frame, countUtf16Units);
    rendered.push(prefix + body + suffix);
    room -= prefix.length + body.length + suffix.length;
  });
  return rendered.join(separator);
}

/** Escapes `raw` and cuts it so the escaped text is at most `max` UTF-16 units, never inside an escape. */
function fitMarkdown(raw: string, max: number): string {
  return fitEscaped(raw, max, countUtf16Units, escapeDiscordMarkdown);
}

function isSnowflake(id: string): boolean {
  return /^\d{1,20}$/.test(id);
}
