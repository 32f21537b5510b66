import type { DailySummary, JobEvent } from '../../job.ts';
import { type ChatDestination, type Mentions, NO_MENTIONS } from '../destination.ts';
import { describeDailySummary } from '../render/daily-summary-facts.ts';
import {
  type DigestSummary,
  digestMentions,
  fitLines,
  formatDigestLine,
  isListed,
  summarizeDigest,
} from '../render/digest.ts';
import {
  describeJobEvent,
  type JobFact,
  type JobFacts,
  mentionsFor,
  type RenderContext,
} from '../render/job-facts.ts';
import {
  countUtf16Units,
  defuseCodeFences,
  fitEscaped,
  joinWhole,
  truncateToFit,
} from '../render/text-fit.ts';
import { describeAnswer, judgeCommonAnswer } from './common-answers.ts';
import { postJson } from './json-body.ts';
import type { ChatPlatform, DeliveryOutcome, PlatformResponse } from './platform.ts';

// Block Kit limits (docs/platforms.md). Slack says "characters"; we count UTF-16 units, which is never fewer.
const HEADER_MAX = 150;
const SECTION_TEXT_MAX = 3000;
const FIELDS_PER_SECTION = 10;
const FIELD_TEXT_MAX = 2000;
const CONTEXT_TEXT_MAX = 3000;
const MAX_BLOCKS = 50;
/** The notification line stays one short line even if a queue name is absurdly long. */
const FALLBACK_TEXT_MAX = 300;
/**
 * Room for mentions in the notification line and the mention section. A mention that does not fit whole is
 * left out rather than cut (half a `<@U…>` notifies nobody); a thousand characters is some fifty people.
 */
const MENTIONS_MAX = 1000;

export interface SlackText {
  type: 'plain_text' | 'mrkdwn';
  text: string;
  emoji?: boolean;
}

export type SlackBlock =
  | { type: 'header'; text: SlackText & { type: 'plain_text' } }
  | { type: 'section'; text?: SlackText; fields?: SlackText[] }
  | { type: 'context'; elements: SlackText[] };

/** An incoming-webhook payload: `text` is what notifications show, `blocks` what the channel shows. */
export interface SlackMessage {
  text: string;
  blocks: SlackBlock[];
}

/**
 * Escapes the three characters Slack's mrkdwn treats as control characters, so user text (SQL, error
 * messages, tags) can neither break the markup nor smuggle in `<!channel>` mentions or links.
 */
export function escapeSlackText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** `<url|text>`, Slack's link; a `|` in the URL would end it early, so it is percent-encoded. */
function slackLink(escapedText: string, url: string): string {
  return `<${escapeSlackText(url).replace(/\|/g, '%7C')}|${escapedText}>`;
}

/**
 * Slack mention tokens for `mentions`: `<!channel>` for everyone, `<@U…>` per user, `<!subteam^S…>` per user
 * group, space-separated, kept whole within {@link MENTIONS_MAX}. Ids are escaped, so a malformed id shows
 * as text instead of turning into some other mention. Empty when nobody is to be mentioned.
 */
export function renderSlackMentions(mentions: Mentions): string {
  // The channel first: if the list is too long to keep whole, the one mention that reaches everyone stays.
  const tokens = [
    ...(mentions.all ? ['<!channel>'] : []),
    ...mentions.users.map((id) => `<@${escapeSlackText(id)}>`),
    ...mentions.groups.map((id) => `<!subteam^${escapeSlackText(id)}>`),
  ];
  return joinWhole(tokens, MENTIONS_MAX, countUtf16Units);
}

/**
 * Renders a job event as Block Kit. Every user-supplied string is escaped and cut to fit its block's limit, so
 * any event, however large, yields a message Slack accepts. For a FAILED job, `mentions` go where Slack
 * notifies: the top-level `text` and the text of the first section (never the header, which cannot mention).
 */
export function renderSlackMessage(
  event: JobEvent,
  context: RenderContext,
  mentions: Mentions = NO_MENTIONS,
): SlackMessage {
  const facts = describeJobEvent(event, context);
  const mentionText = renderSlackMentions(mentionsFor(facts.type, mentions));
  const blocks: SlackBlock[] = [
    {
      type: 'header',
      text: {
        type: 'plain_text',
        text: truncateToFit(
          `${facts.statusEmoji} ${facts.title} · ${facts.shortJobId}`,
          HEADER_MAX,
          countUtf16Units,
        ),
        emoji: true,
      },
    },
  ];
  if (mentionText !== '') blocks.push({ type: 'section', text: { type: 'mrkdwn', text: mentionText } });

  const fields = facts.fields.map((fact) => ({ type: 'mrkdwn' as const, text: renderField(fact, facts) }));
  for (let start = 0; start < fields.length; start += FIELDS_PER_SECTION) {
    blocks.push({ type: 'section', fields: fields.slice(start, start + FIELDS_PER_SECTION) });
  }

  if (facts.failureMessage !== undefined) {
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: codeSection(facts.text.error, facts.failureMessage) },
    });
  }
  if (facts.statement !== undefined) {
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: codeSection(facts.text.sql, facts.statement) },
    });
  }

  const contextElements: SlackText[] = [];
  if (facts.consoleUrl !== undefined) {
    const link = slackLink(facts.text.openInConsole, facts.consoleUrl);
    // A link cut short would point somewhere else: leave it out instead.
    if (link.length <= CONTEXT_TEXT_MAX) contextElements.push({ type: 'mrkdwn', text: link });
  }
  contextElements.push({
    type: 'mrkdwn',
    text: fitMrkdwn(facts.text.project(facts.projectId, facts.region), CONTEXT_TEXT_MAX),
  });
  blocks.push({ type: 'context', elements: contextElements });

  return {
    text: withMentions(mentionText, fitMrkdwn(facts.headline, FALLBACK_TEXT_MAX)),
    blocks: blocks.slice(0, MAX_BLOCKS),
  };
}

/**
 * Renders many ended jobs as one Block Kit message: a header ("12 DLI jobs ended"), a section with the counts
 * by status (and the mentions when any job FAILED), then one line per job, failures first, cut to one
 * section's limit with "… and N more".
 */
export function renderSlackDigest(
  events: readonly JobEvent[],
  context: RenderContext,
  mentions: Mentions = NO_MENTIONS,
): SlackMessage {
  return layOutSlackDigest(summarizeDigest(events, context), mentions);
}

/** A daily summary in the digest's layout: one section per list, each under its heading. */
export function renderSlackSummary(summary: DailySummary, context: RenderContext): SlackMessage {
  return layOutSlackDigest(describeDailySummary(summary, context), NO_MENTIONS);
}

function layOutSlackDigest(digest: DigestSummary, mentions: Mentions): SlackMessage {
  const mentionText = renderSlackMentions(digestMentions(digest, mentions));
  const counts = fitMrkdwn(digest.counts, SECTION_TEXT_MAX - MENTIONS_MAX - 1);
  const blocks: SlackBlock[] = [
    {
      type: 'header',
      text: {
        type: 'plain_text',
        text: truncateToFit(digest.title, HEADER_MAX, countUtf16Units),
        emoji: true,
      },
    },
    { type: 'section', text: { type: 'mrkdwn', text: withMentions(mentionText, counts) } },
  ];
  for (const section of digest.sections) {
    if (!isListed(section)) continue;
    const heading = section.heading === undefined ? '' : `*${fitMrkdwn(section.heading, HEADER_MAX)}*\n`;
    const lines = fitLines(
      section.lines.map((line) => formatDigestLine(line, escapeSlackText, slackLink)),
      SECTION_TEXT_MAX - heading.length,
      countUtf16Units,
      '\n',
      digest.text.digest.more,
      section.unlisted,
    );
    if (lines !== '') blocks.push({ type: 'section', text: { type: 'mrkdwn', text: heading + lines } });
  }
  return {
    text: withMentions(mentionText, fitMrkdwn(`${digest.title}: ${digest.counts}`, FALLBACK_TEXT_MAX)),
    blocks,
  };
}

/** Slack incoming webhook: posts Block Kit JSON; delivered only on 200 with body `ok`. */
export const slackPlatform: ChatPlatform = {
  kind: 'chat',
  mentionsGroups: true,
  webhookHosts: { hosts: ['hooks.slack.com'] },
  // About one message a second per incoming webhook; going on after 429 risks the app being disabled.
  rateLimit: { perMinute: 60, perSecond: 1 },
  render(event: JobEvent, destination: ChatDestination, context: RenderContext) {
    return postJson(destination.url, renderSlackMessage(event, context, destination.mentions));
  },

  renderDigest(events: readonly JobEvent[], destination: ChatDestination, context: RenderContext) {
    return postJson(destination.url, renderSlackDigest(events, context, destination.mentions));
  },

  renderSummary(summary: DailySummary, destination: ChatDestination, context: RenderContext) {
    return postJson(destination.url, renderSlackSummary(summary, context));
  },

  judge(response: PlatformResponse): DeliveryOutcome {
    const { status } = response;
    if (status === 200) {
      // Slack answers exactly "ok"; anything else on a 200 (a proxy's page, a captive portal) proves nothing.
      if (response.body.trim() === 'ok') return { kind: 'delivered' };
      return {
        kind: 'retry',
        reason: `${describeAnswer(response)} (200 without "ok": not proven delivered)`,
      };
    }
    const common = judgeCommonAnswer(response);
    if (common) return common;
    if (status >= 200 && status < 300) {
      return { kind: 'retry', reason: `${describeAnswer(response)} (not 200 "ok": not proven delivered)` };
    }
    // 400 invalid_payload, 403, 404 channel_not_found, 410 channel_is_archived: retrying cannot help.
    return { kind: 'reject', reason: describeAnswer(response) };
  },
};

function withMentions(mentionText: string, text: string): string {
  return mentionText === '' ? text : `${mentionText} ${text}`;
}

function renderField(fact: JobFact, facts: JobFacts): string {
  const label = `*${fact.label}*\n`;
  if (fact.label === facts.text.fields.started && facts.startTimeMs !== undefined) {
    // Slack shows a <!date> in each reader's own time zone; the ISO text is the fallback for old clients.
    const seconds = Math.floor(facts.startTimeMs / 1000);
    return `${label}<!date^${seconds}^{date_short_pretty} {time_secs}|${fact.value}>`;
  }
  return label + fitMrkdwn(fact.value, FIELD_TEXT_MAX - label.length);
}

/** A titled code block whose whole text stays within a section's limit. */
function codeSection(title: string, raw: string): string {
  const prefix = `*${title}*\n\`\`\`\n`;
  const suffix = '\n```';
  return prefix + fitMrkdwn(defuseCodeFences(raw), SECTION_TEXT_MAX - prefix.length - suffix.length) + suffix;
}

/**
 * Escapes `raw` and cuts it so the escaped text is at most `max` UTF-16 units. Measuring the escaped length of
 * each piece of the raw text means a cut never lands inside an entity such as `&amp;`.
 */
function fitMrkdwn(raw: string, max: number): string {
  return fitEscaped(raw, max, countUtf16Units, escapeSlackText);
}
