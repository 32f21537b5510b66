import type { TerminalStatus } from '../dli/schemas.ts';
import type { JobEvent } from '../store/store.ts';
import { type ChatDestination, type Mentions, NO_MENTIONS } from './destination.ts';
import {
  countUtf16Units,
  describeJobEvent,
  type JobFact,
  type JobFacts,
  type TextMeasure,
  truncateText,
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
  const mentionText = facts.status === 'FAILED' ? renderSlackMentions(mentions) : '';
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
  const digest = describeDigest(events, context);
  const mentionText = digest.anyFailed ? renderSlackMentions(mentions) : '';
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
  const lines = fitLines(
    digest.lines.map((line) => escapeSlackText(line)),
    SECTION_TEXT_MAX,
    countUtf16Units,
  );
  if (lines !== '') blocks.push({ type: 'section', text: { type: 'mrkdwn', text: lines } });
  return {
    text: withMentions(mentionText, fitMrkdwn(`${digest.title}: ${digest.counts}`, FALLBACK_TEXT_MAX)),
    blocks,
  };
}

/** Slack incoming webhook: posts Block Kit JSON; delivered only on 200 with body `ok`. */
export const slackPlatform: Platform<ChatDestination> = {
  // About one message a second per incoming webhook; going on after 429 risks the app being disabled.
  rateLimit: { perMinute: 60, perSecond: 1 },
  render(event: JobEvent, destination: ChatDestination, context: RenderContext) {
    return postJson(destination.url, renderSlackMessage(event, context, destination.mentions));
  },

  renderDigest(events: readonly JobEvent[], destination: ChatDestination, context: RenderContext) {
    return postJson(destination.url, renderSlackDigest(events, context, destination.mentions));
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

function postJson(url: string, message: SlackMessage) {
  return {
    url,
    method: 'POST' as const,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(message),
  };
}

function withMentions(mentionText: string, text: string): string {
  return mentionText === '' ? text : `${mentionText} ${text}`;
}

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

// ---------------------------------------------------------------------------------------------------------
// Shared by every chat platform's digest and mentions (Teams and Discord import these). They belong next to
// `describeJobEvent` in job-facts.ts; they live here until that move, because this change may not touch it.
// ---------------------------------------------------------------------------------------------------------

/** Platform-neutral facts for a digest: many ended jobs in one message. Raw text: each renderer escapes it. */
export interface DigestFacts {
  /** "12 DLI jobs ended". */
  title: string;
  /** What colours the whole digest: FAILED if any job failed, else FINISHED if any finished, else CANCELLED. */
  status: TerminalStatus;
  /** "❌ 3 failed · ✅ 8 finished · 🚫 1 cancelled": statuses that occur, in this order. */
  counts: string;
  /** Whether mentions are due: they are only for failures. */
  anyFailed: boolean;
  /** The events' facts, failures first (so a cut list still shows them), otherwise in the order they ended. */
  jobs: JobFacts[];
  /** One line per job, same order: "❌ 208b08d4… FAILED · default · 3 min 12 s". */
  lines: string[];
}

/** Longest digest line, in code points: a line must stay one line however long a queue name is. */
export const DIGEST_LINE_MAX = 160;

const COUNT_ORDER: readonly { status: TerminalStatus; word: string }[] = [
  { status: 'FAILED', word: 'failed' },
  { status: 'FINISHED', word: 'finished' },
  { status: 'CANCELLED', word: 'cancelled' },
];

/** Gathers what a digest of `events` shows, for any chat platform to lay out. */
export function describeDigest(events: readonly JobEvent[], context: RenderContext): DigestFacts {
  const described = events.map((event, index) => ({ facts: describeJobEvent(event, context), event, index }));
  // Stable: failures first, then the order the jobs ended in (the order of `events` breaks ties).
  described.sort(
    (a, b) =>
      Number(b.facts.status === 'FAILED') - Number(a.facts.status === 'FAILED') ||
      a.event.occurredAt - b.event.occurredAt ||
      a.index - b.index,
  );
  const jobs = described.map((entry) => entry.facts);
  const tally = new Map<TerminalStatus, number>();
  for (const job of jobs) tally.set(job.status, (tally.get(job.status) ?? 0) + 1);
  const emojiOf = new Map(jobs.map((job) => [job.status, job.statusEmoji]));
  const counts = COUNT_ORDER.filter(({ status }) => (tally.get(status) ?? 0) > 0)
    .map(({ status, word }) => `${emojiOf.get(status)} ${tally.get(status)} ${word}`)
    .join(' · ');
  const anyFailed = tally.has('FAILED');
  return {
    title: `${events.length} DLI ${events.length === 1 ? 'job' : 'jobs'} ended`,
    status: anyFailed ? 'FAILED' : tally.has('FINISHED') || events.length === 0 ? 'FINISHED' : 'CANCELLED',
    counts,
    anyFailed,
    jobs,
    lines: jobs.map(digestLine),
  };
}

/** "❌ 208b08d4… FAILED · default · 3 min 12 s": what a digest says about one job, on one line. */
export function digestLine(facts: JobFacts): string {
  const parts = [`${facts.statusEmoji} ${facts.shortJobId} ${facts.status}`];
  if (facts.queue !== undefined) parts.push(facts.queue);
  if (facts.duration !== undefined) parts.push(facts.duration);
  return truncateText(parts.join(' · ').replace(/\s+/g, ' '), DIGEST_LINE_MAX);
}

/** The line that ends a cut list: "… and 37 more". */
export function moreLine(omitted: number): string {
  return `… and ${omitted} more`;
}

/**
 * How many of the items, taken in order, fit in `budget`, given each one's size; when not all fit, room is kept
 * for the closing "… and N more" (whose size `moreSize(n)` gives). Never fewer than 0.
 */
export function countThatFit(
  sizes: readonly number[],
  budget: number,
  moreSize: (omitted: number) => number,
): number {
  const total = sizes.reduce((sum, size) => sum + size, 0);
  if (total <= budget) return sizes.length;
  let used = 0;
  let shown = 0;
  for (const size of sizes) {
    if (used + size + moreSize(sizes.length - shown - 1) > budget) break;
    used += size;
    shown++;
  }
  return shown;
}

/**
 * Joins already-escaped `lines` with `separator`, keeping whole lines only, so the result measures at most
 * `max`; when lines had to go, the last line says how many ("… and 37 more"). A list of which not even the
 * "more" line fits comes back cut with "…".
 */
export function fitLines(
  lines: readonly string[],
  max: number,
  measure: TextMeasure,
  separator = '\n',
): string {
  const separatorSize = measure(separator);
  // Each line but the first pays for the separator before it.
  const sizes = lines.map((line, index) => measure(line) + (index === 0 ? 0 : separatorSize));
  const shown = countThatFit(
    sizes,
    max,
    (omitted) => measure(moreLine(omitted)) + (lines.length === omitted ? 0 : separatorSize),
  );
  const kept = lines.slice(0, shown);
  if (shown < lines.length) kept.push(moreLine(lines.length - shown));
  return truncateToFit(kept.join(separator), max, measure);
}

/** Joins `tokens` with spaces, keeping only those that fit whole within `max`. */
export function joinWhole(tokens: readonly string[], max: number, measure: TextMeasure): string {
  const kept: string[] = [];
  let used = 0;
  for (const token of tokens) {
    const size = measure(token) + (kept.length > 0 ? measure(' ') : 0);
    if (used + size > max) continue;
    kept.push(token);
    used += size;
  }
  return kept.join(' ');
}
