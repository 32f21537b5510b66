import type { DailySummary, EventType, JobEvent } from '../../job.ts';
import { type Mentions, NO_MENTIONS } from '../destination.ts';
import { describeDailySummary } from '../render/daily-summary-facts.ts';
import {
  countListed,
  type DigestLine,
  type DigestSummary,
  digestMentions,
  shareSections,
  summarizeDigest,
} from '../render/digest.ts';
import { describeJobEvent, mentionsFor, type RenderContext } from '../render/job-facts.ts';
import { countJsonStringBytes, countUtf16Units, truncateToFit } from '../render/text-fit.ts';
import { describeAnswer, judgeCommonAnswer } from './common-answers.ts';
import { jsonBodyBytes, postJson } from './json-body.ts';
import type { ChatPlatform, DeliveryOutcome, PlatformResponse } from './platform.ts';

/**
 * Teams refuses a message over about 28 KB (card, mentions and all). Every payload we build is at most this many
 * UTF-8 bytes: 1 KB under the limit, because the limit is Teams' measure of the message the flow posts, not of
 * our request, and the two are not byte-for-byte the same.
 */
export const TEAMS_PAYLOAD_MAX_BYTES = 27 * 1024;

// Per-piece caps, in bytes of JSON-encoded text (what counts against the payload limit). They bound everything
// but the error text and the SQL, which share whatever room is left, so no event can push a card over the limit.
const TITLE_MAX_BYTES = 600;
const FACT_VALUE_MAX_BYTES = 600;
const FOOTER_MAX_BYTES = 400;
const MENTIONS_MAX_BYTES = 4000;
/** A longer console link would crowd out the facts; a link cut short points elsewhere, so it is left out. */
const LINK_MAX_BYTES = 2048;
/** Like Slack's section limit: nobody reads more SQL or stack trace than this in a chat card. */
const CODE_MAX_CHARS = 3000;

/** The Adaptive Card colours and container styles dli-watch uses. */
export type TeamsColor = 'Default' | 'Good' | 'Attention' | 'Warning';
export type TeamsContainerStyle = 'good' | 'attention' | 'emphasis' | 'warning';

/** Plain text inside a RichTextBlock. Teams renders no Markdown here, so user text needs no escaping. */
export interface TeamsTextRun {
  type: 'TextRun';
  text: string;
  weight?: 'Bolder';
  size?: 'Small' | 'Large';
  color?: TeamsColor;
  fontType?: 'Monospace';
  isSubtle?: boolean;
  /** Makes the run a link (Adaptive Cards 1.2). */
  selectAction?: { type: 'Action.OpenUrl'; url: string };
}

export interface TeamsRichTextBlock {
  type: 'RichTextBlock';
  inlines: TeamsTextRun[];
  spacing?: 'None' | 'Small' | 'Medium';
}

/** Markdown text: used only for the mention line, the one place Teams resolves `<at>…</at>`. */
export interface TeamsTextBlock {
  type: 'TextBlock';
  text: string;
  wrap: true;
}

export interface TeamsContainer {
  type: 'Container';
  style: TeamsContainerStyle;
  bleed: true;
  items: TeamsElement[];
}

export type TeamsElement = TeamsRichTextBlock | TeamsTextBlock | TeamsContainer;

/** Binds an `<at>…</at>` in a TextBlock to a person: `id` is a user principal name or an Entra object id. */
export interface TeamsMention {
  type: 'mention';
  text: string;
  mentioned: { id: string; name: string };
}

export interface TeamsOpenUrlAction {
  type: 'Action.OpenUrl';
  title: string;
  url: string;
}

export interface TeamsAdaptiveCard {
  $schema: 'http://adaptivecards.io/schemas/adaptive-card.json';
  type: 'AdaptiveCard';
  version: '1.4';
  body: TeamsElement[];
  actions?: TeamsOpenUrlAction[];
  msteams: { width: 'Full'; entities: TeamsMention[] };
}

/** What a Workflows "when a Teams webhook request is received" flow expects: it posts each attachment's card. */
export interface TeamsMessage {
  type: 'message';
  attachments: [
    {
      contentType: 'application/vnd.microsoft.card.adaptive';
      contentUrl: null;
      content: TeamsAdaptiveCard;
    },
  ];
}

const STATUS_LOOK: Record<EventType, { style: TeamsContainerStyle; color: TeamsColor }> = {
  FINISHED: { style: 'good', color: 'Good' },
  FAILED: { style: 'attention', color: 'Attention' },
  // "emphasis" is the neutral grey band: a cancelled job is neither good news nor an alarm.
  CANCELLED: { style: 'emphasis', color: 'Default' },
  LONG_RUNNING: { style: 'warning', color: 'Warning' },
  RECOVERED: { style: 'good', color: 'Good' },
};

/**
 * The mention line and its entities for `mentions`. Teams (Workflows) can notify users only, by UPN or Entra
 * object id; user groups and "everyone" have no webhook equivalent (a tag or channel mention needs ids the
 * webhook URL does not carry), so they are left out. Mentions are kept whole within the mention budget.
 */
export function renderTeamsMentions(
  mentions: Mentions,
): { block: TeamsTextBlock; entities: TeamsMention[] } | null {
  const tokens: string[] = [];
  const entities: TeamsMention[] = [];
  let used = 0;
  for (const id of new Set(mentions.users)) {
    // The label only has to match between the text and the entity; angle brackets would break the <at> tag.
    const label = id.replace(/[<>]/g, '');
    if (label === '') continue;
    const text = `<at>${label}</at>`;
    const entity: TeamsMention = { type: 'mention', text, mentioned: { id, name: label } };
    const size = countJsonStringBytes(`${text} `) + jsonBodyBytes(entity) + 1;
    if (used + size > MENTIONS_MAX_BYTES) continue;
    used += size;
    tokens.push(text);
    entities.push(entity);
  }
  if (tokens.length === 0) return null;
  return { block: { type: 'TextBlock', text: `🔔 ${tokens.join(' ')}`, wrap: true }, entities };
}

/**
 * Renders a job event as an Adaptive Card in a Teams message: a coloured band with the title, the mention line
 * (FAILED only), one line per fact, the error and the SQL in monospace, the project, and a button to the DLI
 * console. All user text is in TextRuns, which Teams shows literally (no Markdown to escape); the error and
 * the SQL share the room the rest leaves under {@link TEAMS_PAYLOAD_MAX_BYTES}.
 */
export function renderTeamsMessage(
  event: JobEvent,
  context: RenderContext,
  mentions: Mentions = NO_MENTIONS,
): TeamsMessage {
  const facts = describeJobEvent(event, context);
  const body: TeamsElement[] = [
    statusBand(
      facts.type,
      fitJson(`${facts.statusEmoji} ${facts.title} · ${facts.shortJobId}`, TITLE_MAX_BYTES),
    ),
  ];
  const mentionLine = renderTeamsMentions(mentionsFor(facts.type, mentions));
  if (mentionLine) body.push(mentionLine.block);

  body.push(
    ...facts.fields.map((fact, index) =>
      richText(
        [
          textRun(`${fact.label}: `, { weight: 'Bolder' }),
          textRun(fitJson(fact.value, FACT_VALUE_MAX_BYTES)),
        ],
        index === 0 ? 'Medium' : 'None',
      ),
    ),
  );

  // Filled in last, once we know how much room the rest of the card leaves.
  const errorRun =
    facts.failureMessage === undefined ? null : textRun('', { fontType: 'Monospace', color: 'Attention' });
  const sqlRun = facts.statement === undefined ? null : textRun('', { fontType: 'Monospace' });
  if (errorRun)
    body.push(
      richText([textRun(facts.text.error, { weight: 'Bolder' })], 'Medium'),
      richText([errorRun], 'None'),
    );
  if (sqlRun)
    body.push(
      richText([textRun(facts.text.sql, { weight: 'Bolder' })], 'Medium'),
      richText([sqlRun], 'None'),
    );

  body.push(
    richText(
      [
        textRun(fitJson(facts.text.project(facts.projectId, facts.region), FOOTER_MAX_BYTES), {
          size: 'Small',
          isSubtle: true,
        }),
      ],
      'Medium',
    ),
  );

  const link =
    facts.consoleUrl !== undefined && countJsonStringBytes(facts.consoleUrl) <= LINK_MAX_BYTES
      ? facts.consoleUrl
      : undefined;
  const message = teamsMessage(
    body,
    mentionLine?.entities ?? [],
    link === undefined ? undefined : { url: link, title: facts.text.openInConsole },
  );

  // JSON of the message = JSON with empty texts + each text's own JSON bytes: so this split can never overflow.
  let room = TEAMS_PAYLOAD_MAX_BYTES - jsonBodyBytes(message);
  const error = facts.failureMessage === undefined ? '' : capCode(facts.failureMessage);
  const sql = facts.statement === undefined ? '' : capCode(facts.statement);
  if (errorRun) {
    // The error is what someone acts on: it gets at least half the room, and all of what the SQL does not need.
    const errorBudget = sqlRun ? Math.max(Math.floor(room / 2), room - countJsonStringBytes(sql)) : room;
    errorRun.text = truncateToFit(error, errorBudget, countJsonStringBytes);
    room -= countJsonStringBytes(errorRun.text);
  }
  if (sqlRun) sqlRun.text = truncateToFit(sql, room, countJsonStringBytes);
  return message;
}

/**
 * Renders many ended jobs as one card: "12 DLI jobs ended" in the colour of the worst outcome, the counts by
 * status, the mention line when any job FAILED, then one line per job (failures first) for as many as fit
 * under {@link TEAMS_PAYLOAD_MAX_BYTES}, closed by "… and N more".
 */
export function renderTeamsDigest(
  events: readonly JobEvent[],
  context: RenderContext,
  mentions: Mentions = NO_MENTIONS,
): TeamsMessage {
  return layOutTeamsDigest(summarizeDigest(events, context), mentions);
}

/**
 * Renders a daily summary in the digest's layout: the band with the day and its counts, then each list under its
 * bold heading, the lists sharing the room under {@link TEAMS_PAYLOAD_MAX_BYTES}. It mentions nobody.
 */
export function renderTeamsSummary(summary: DailySummary, context: RenderContext): TeamsMessage {
  return layOutTeamsDigest(describeDailySummary(summary, context), NO_MENTIONS);
}

function layOutTeamsDigest(digest: DigestSummary, mentions: Mentions): TeamsMessage {
  const body: TeamsElement[] = [
    statusBand(
      digest.type,
      fitJson(digest.title, TITLE_MAX_BYTES),
      richText([textRun(digest.counts)], 'None'),
    ),
  ];
  const mentionLine = renderTeamsMentions(digestMentions(digest, mentions));
  if (mentionLine) body.push(mentionLine.block);
  const message = teamsMessage(body, mentionLine?.entities ?? []);

  // Each block added to the body array costs its JSON plus one comma.
  const sizeOf = (block: TeamsElement) => jsonBodyBytes(block) + 1;
  const moreBlock = (hidden: number) =>
    richText([textRun(digest.text.digest.more(hidden), { isSubtle: true })], 'None');
  const blocksOf = (blocks: TeamsElement[]) => blocks.reduce((sum, block) => sum + sizeOf(block), 0);
  const lists = shareSections(
    digest.sections,
    TEAMS_PAYLOAD_MAX_BYTES - jsonBodyBytes(message),
    (section, share) => {
      const heading =
        section.heading === undefined
          ? []
          : [richText([textRun(fitJson(section.heading, TITLE_MAX_BYTES), { weight: 'Bolder' })], 'Medium')];
      const room = share(0) - blocksOf(heading);
      if (room <= 0) return null;
      const lineBlocks = section.lines.map((line, lineIndex) =>
        richText(lineRuns(line), heading.length === 0 && lineIndex === 0 ? 'Medium' : 'None'),
      );
      const moreSize = (hidden: number) => sizeOf(moreBlock(hidden + section.unlisted));
      const count = countListed(lineBlocks.map(sizeOf), room, moreSize, section.unlisted);
      const blocks = lineBlocks.slice(0, count);
      const hidden = lineBlocks.length - count + section.unlisted;
      if (hidden > 0) {
        const more = moreBlock(hidden);
        // Not even the "more" line fits when no line does: then the list is left out, heading and all.
        if (blocksOf(blocks) + sizeOf(more) <= room) blocks.push(more);
      }
      if (blocks.length === 0) return null;
      const part = [...heading, ...blocks];
      return { part, size: blocksOf(part) };
    },
  );
  body.push(...lists.flat());
  return message;
}

/** A digest line as text runs: the id a link to its job when the line has one. */
function lineRuns(line: DigestLine): TeamsTextRun[] {
  const url = line.id !== '' ? line.url : undefined;
  if (url === undefined) return [textRun(`${line.before}${line.id}${line.after}`)];
  return [
    textRun(line.before),
    textRun(line.id, { selectAction: { type: 'Action.OpenUrl', url } }),
    textRun(line.after),
  ];
}

/** Microsoft Teams through a Workflows webhook: posts an Adaptive Card; any 2xx (202 in practice) is success. */
export const teamsPlatform: ChatPlatform = {
  kind: 'chat',
  // Workflows webhooks live on regional subdomains (`prod-12.westus.logic.azure.com`).
  webhookHosts: { hostSuffixes: ['.logic.azure.com', '.api.powerplatform.com'] },
  // Workflows publishes no per-webhook limit. The flow posts as a bot, and Teams' published limit for a bot in
  // one conversation is 1800 messages an hour (30 a minute) with bursts of up to 7 a second: we keep to the
  // sustained rate and stay well under the burst (4 a second was also the retired connectors' own limit).
  rateLimit: { perMinute: 30, perSecond: 4 },

  render(event, destination, context) {
    return postJson(destination.url, renderTeamsMessage(event, context, destination.mentions));
  },

  renderDigest(events, destination, context) {
    return postJson(destination.url, renderTeamsDigest(events, context, destination.mentions));
  },

  renderSummary(summary, destination, context) {
    return postJson(destination.url, renderTeamsSummary(summary, context));
  },

  judge(response: PlatformResponse): DeliveryOutcome {
    // 429 (honouring Retry-After), 5xx and 408: retry later; a redirect means a wrong URL.
    const common = judgeCommonAnswer(response);
    if (common) return common;
    if (response.status >= 200 && response.status < 300) return { kind: 'delivered' };
    // 400 (payload), 401 (the URL's sig is wrong or was regenerated), 403, 404 (flow deleted or off): the
    // configuration or the message is wrong, and sending the same again cannot help.
    return { kind: 'reject', reason: `${describeAnswer(response)}${TEAMS_HINTS[response.status] ?? ''}` };
  },
};

/** What a person should check, for the refusals whose cause is the destination's configuration. */
const TEAMS_HINTS: Record<number, string> = {
  401: " (the webhook URL's signature is not valid: copy the URL again from the workflow)",
  404: ' (the workflow was deleted or turned off)',
};

function teamsMessage(
  body: TeamsElement[],
  entities: TeamsMention[],
  link?: { url: string; title: string },
): TeamsMessage {
  const content: TeamsAdaptiveCard = {
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    type: 'AdaptiveCard',
    version: '1.4',
    body,
    ...(link !== undefined && {
      actions: [{ type: 'Action.OpenUrl', title: link.title, url: link.url }],
    }),
    msteams: { width: 'Full', entities },
  };
  return {
    type: 'message',
    attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content }],
  };
}

/** The band a card starts with: `title` large, in the colour of `status`, then any `more` under it. */
function statusBand(status: EventType, title: string, ...more: TeamsElement[]): TeamsContainer {
  const look = STATUS_LOOK[status];
  return {
    type: 'Container',
    style: look.style,
    bleed: true,
    items: [richText([textRun(title, { size: 'Large', weight: 'Bolder', color: look.color })]), ...more],
  };
}

function textRun(text: string, style: Omit<TeamsTextRun, 'type' | 'text'> = {}): TeamsTextRun {
  return { type: 'TextRun', text, ...style };
}

function richText(inlines: TeamsTextRun[], spacing?: TeamsRichTextBlock['spacing']): TeamsRichTextBlock {
  return { type: 'RichTextBlock', inlines, ...(spacing !== undefined && { spacing }) };
}

function fitJson(text: string, maxBytes: number): string {
  return truncateToFit(text, maxBytes, countJsonStringBytes);
}

function capCode(text: string): string {
  return truncateToFit(text, CODE_MAX_CHARS, countUtf16Units);
}
