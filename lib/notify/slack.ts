import type { JobEvent } from '../store/store.ts';
import type { ChatDestination } from './destination.ts';
import {
  countUtf16Units,
  describeJobEvent,
  type JobFact,
  type JobFacts,
  truncateToFit,
} from './job-facts.ts';
import type { DeliveryOutcome, Platform, PlatformResponse, RenderContext } from './platform.ts';
import { describeAnswer, judgeCommonAnswer } from './retry-after.ts';

// Block Kit limits (chat-platforms.md). Slack says "characters"; we count UTF-16 units, which is never fewer.
const HEADER_MAX = 150;
const SECTION_TEXT_MAX = 3000;
const FIELDS_PER_SECTION = 10;
const FIELD_TEXT_MAX = 2000;
const CONTEXT_TEXT_MAX = 3000;
const MAX_BLOCKS = 50;
/** The notification line stays one short line even if a queue name is absurdly long. */
const FALLBACK_TEXT_MAX = 300;

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

/**
 * Renders a job event as Block Kit. Every user-supplied string is escaped and cut to fit its block's limit, so
 * any event, however large, yields a message Slack accepts.
 */
export function renderSlackMessage(event: JobEvent, context: RenderContext): SlackMessage {
  const facts = describeJobEvent(event, context);
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

  const fields = facts.fields.map((fact) => ({ type: 'mrkdwn' as const, text: renderField(fact, facts) }));
  for (let start = 0; start < fields.length; start += FIELDS_PER_SECTION) {
    blocks.push({ type: 'section', fields: fields.slice(start, start + FIELDS_PER_SECTION) });
  }

  if (facts.failureMessage !== undefined) {
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: codeSection('Error', facts.failureMessage) },
    });
  }
  if (facts.statement !== undefined) {
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: codeSection('SQL', facts.statement) } });
  }

  const contextElements: SlackText[] = [];
  if (facts.consoleUrl !== undefined) {
    const link = `<${escapeSlackText(facts.consoleUrl).replace(/\|/g, '%7C')}|Open in DLI console>`;
    // A link cut short would point somewhere else: leave it out instead.
    if (link.length <= CONTEXT_TEXT_MAX) contextElements.push({ type: 'mrkdwn', text: link });
  }
  contextElements.push({
    type: 'mrkdwn',
    text: fitMrkdwn(`project ${facts.projectId} · ${facts.region}`, CONTEXT_TEXT_MAX),
  });
  blocks.push({ type: 'context', elements: contextElements });

  return {
    text: fitMrkdwn(facts.headline, FALLBACK_TEXT_MAX),
    blocks: blocks.slice(0, MAX_BLOCKS),
  };
}

/** Slack incoming webhook: posts Block Kit JSON; delivered only on 200 with body `ok`. */
export const slackPlatform: Platform<ChatDestination> = {
  // About one message a second per incoming webhook; going on after 429 risks the app being disabled.
  rateLimit: { perMinute: 60, perSecond: 1 },
  render(event: JobEvent, destination: ChatDestination, context: RenderContext) {
    return {
      url: destination.url,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(renderSlackMessage(event, context)),
    };
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

function renderField(fact: JobFact, facts: JobFacts): string {
  const label = `*${fact.label}*\n`;
  if (fact.label === 'Started' && facts.startTimeMs !== undefined) {
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
  // A ``` inside the text would close the block early; a zero-width space between the backticks defuses it.
  const defused = raw.replace(/```/g, '`\u200b`\u200b`');
  return prefix + fitMrkdwn(defused, SECTION_TEXT_MAX - prefix.length - suffix.length) + suffix;
}

/**
 * Escapes `raw` and cuts it so the escaped text is at most `max` UTF-16 units. Measuring the escaped length of
 * each piece of the raw text means a cut never lands inside an entity such as `&amp;`.
 */
function fitMrkdwn(raw: string, max: number): string {
  return escapeSlackText(truncateToFit(raw, max, (text) => escapeSlackText(text).length));
}
