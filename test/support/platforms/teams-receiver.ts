/**
 * A Teams Workflows webhook ("When a Teams webhook request is received" → "Post card in a chat or channel") on
 * 127.0.0.1. It checks requests the way the flow's trigger and Teams do: the `sig` query parameter (the URL's only
 * credential), a JSON `message` with Adaptive Card attachments, the ~28 KB message limit, `<at>` mentions bound to
 * `msteams.entities`. It answers like Logic Apps: 202 with an empty body on success, `{"error":{"code","message"}}`
 * otherwise, 429 with `Retry-After` when throttled.
 *
 * Stricter than the real thing on purpose: Workflows answers 202 as soon as the trigger accepts the JSON, and a card
 * Teams later refuses (too large, malformed, unknown element) only fails the flow run, which the sender never sees.
 * Refusing those at once is what lets tests prove our cards would post.
 */
import type { ReceivedWebhookRequest, WebhookResponse } from '../../../lib/simulator/webhook-receiver.ts';
import {
  createFixedWindow,
  createPlatformReceiver,
  jsonAnswer,
  type PlatformReceiver,
} from './platform-receiver.ts';

/** Teams' limit for one message, card and mentions included ("about 28 KB"). */
export const TEAMS_MESSAGE_LIMIT_BYTES = 28 * 1024;

/** A card the flow would have posted, with who it notifies. */
export interface TeamsPostedCard {
  card: Record<string, unknown>;
  /** `mentioned.id` of each entity whose `<at>` text appears in a TextBlock: the people Teams notifies. */
  mentioned: string[];
  receivedAt: number;
}

export interface TeamsReceiverOptions {
  workflowId: string;
  /** The `sig` query parameter of the workflow's URL. */
  sig: string;
  /** Clock for the throttle window (and `receivedAt`). Default `Date.now`. */
  now?: () => number;
  /** Requests per minute before answering 429. Default: no throttling (Workflows publishes no limit). */
  requestsPerMinute?: number;
}

/** A Teams-Workflows-like webhook; `posted` holds the cards the flow would have posted. */
export type TeamsReceiver = PlatformReceiver<TeamsPostedCard>;

/** Logic Apps' error body. */
export function teamsError(
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
) {
  return jsonAnswer(
    status,
    { error: { code, message } },
    { 'content-type': 'application/json; charset=utf-8', ...headers },
  );
}

const ELEMENT_TYPES = new Set(['TextBlock', 'RichTextBlock', 'Container', 'FactSet', 'ColumnSet', 'Column']);

/** Creates a Teams-Workflows-like webhook; call `start()` to listen. */
export function createTeamsReceiver(options: TeamsReceiverOptions): TeamsReceiver {
  const now = options.now ?? Date.now;
  const window =
    options.requestsPerMinute === undefined
      ? undefined
      : createFixedWindow(options.requestsPerMinute, 60_000);
  const posted: TeamsPostedCard[] = [];
  const invokePath = `/workflows/${options.workflowId}/triggers/manual/paths/invoke`;

  function respond(request: ReceivedWebhookRequest): WebhookResponse {
    const url = new URL(request.path, 'http://flow.invalid');
    if (request.method !== 'POST' || url.pathname !== invokePath) {
      return teamsError(404, 'WorkflowNotFound', 'The workflow could not be found.');
    }
    const sig = url.searchParams.get('sig');
    if (sig === null) {
      return teamsError(
        401,
        'DirectApiAuthorizationRequired',
        'The request must be authenticated only by Shared Access scheme.',
      );
    }
    if (sig !== options.sig) {
      return teamsError(
        401,
        'DirectApiInvalidAuthorizationSignature',
        'The provided authorization signature is not valid.',
      );
    }
    const slot = window?.take(request.receivedAt);
    if (slot && !slot.allowed) {
      return teamsError(
        429,
        'WorkflowRequestsThrottled',
        'Number of requests for this workflow exceeded the limit. Please try again later.',
        { 'retry-after': String(Math.ceil(slot.retryAfterMs / 1000)) },
      );
    }
    if (!(request.headers['content-type'] ?? '').startsWith('application/json')) {
      return teamsError(400, 'InvalidRequestContent', 'The request content must be JSON.');
    }
    if (Buffer.byteLength(request.body) > TEAMS_MESSAGE_LIMIT_BYTES) {
      return teamsError(413, 'MessageTooLarge', 'The message exceeds the 28 KB limit of a Teams message.');
    }
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(request.body) as Record<string, unknown>;
    } catch {
      return teamsError(400, 'InvalidRequestContent', 'The request content is not valid JSON.');
    }
    const problem = cardProblem(message);
    if (typeof problem === 'string') {
      return teamsError(400, 'TriggerInputSchemaMismatch', problem);
    }
    posted.push(...problem.map((card) => ({ ...card, receivedAt: request.receivedAt })));
    return { status: 202, body: '' };
  }

  return createPlatformReceiver({
    respond,
    now,
    webhookUrl: (base) => {
      const query = `api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=${encodeURIComponent(options.sig)}`;
      return `${base}${invokePath}?${query}`;
    },
    posted,
  });
}

/** The cards in `message` with who they notify, or what is wrong with it. */
function cardProblem(message: Record<string, unknown>): string | Omit<TeamsPostedCard, 'receivedAt'>[] {
  if (message.type !== 'message') return 'type must be "message"';
  const attachments = message.attachments;
  if (!Array.isArray(attachments) || attachments.length === 0) return 'attachments must be a non-empty array';
  const cards: Omit<TeamsPostedCard, 'receivedAt'>[] = [];
  for (const attachment of attachments as Record<string, unknown>[]) {
    if (attachment?.contentType !== 'application/vnd.microsoft.card.adaptive') {
      return 'contentType must be application/vnd.microsoft.card.adaptive';
    }
    const card = attachment.content as Record<string, unknown> | undefined;
    if (card?.type !== 'AdaptiveCard') return 'content.type must be AdaptiveCard';
    // Teams renders Adaptive Cards up to 1.5.
    if (typeof card.version !== 'string' || !/^1\.[0-5]$/.test(card.version))
      return 'unsupported card version';
    if (!Array.isArray(card.body)) return 'body must be an array';
    const textBlocks: string[] = [];
    const elementProblem = checkElements(card.body, textBlocks);
    if (elementProblem) return elementProblem;
    const actions = card.actions;
    if (actions !== undefined) {
      if (!Array.isArray(actions)) return 'actions must be an array';
      for (const action of actions as Record<string, unknown>[]) {
        if (
          action?.type !== 'Action.OpenUrl' ||
          typeof action.url !== 'string' ||
          !URL.canParse(action.url)
        ) {
          return 'Action.OpenUrl needs a valid url';
        }
      }
    }
    const entities = ((card.msteams as Record<string, unknown> | undefined)?.entities ?? []) as unknown;
    if (!Array.isArray(entities)) return 'msteams.entities must be an array';
    const mentioned: string[] = [];
    const boundTexts = new Set<string>();
    for (const entity of entities as Record<string, unknown>[]) {
      const target = entity?.mentioned as Record<string, unknown> | undefined;
      if (
        entity?.type !== 'mention' ||
        typeof entity.text !== 'string' ||
        typeof target?.id !== 'string' ||
        typeof target.name !== 'string'
      ) {
        return 'a mention entity needs type "mention", text and mentioned.id/name';
      }
      const text = entity.text;
      if (!textBlocks.some((block) => block.includes(text))) return `mention ${text} is not in any TextBlock`;
      boundTexts.add(text);
      mentioned.push(target.id);
    }
    for (const block of textBlocks) {
      for (const at of block.match(/<at>[^<]*<\/at>/g) ?? []) {
        if (!boundTexts.has(at)) return `${at} has no mention entity`;
      }
    }
    cards.push({ card, mentioned });
  }
  return cards;
}

/** Checks element types and collects TextBlock texts (the only place Teams resolves mentions). */
function checkElements(elements: unknown[], textBlocks: string[]): string | undefined {
  for (const element of elements as Record<string, unknown>[]) {
    const type = element?.type;
    if (typeof type !== 'string' || !ELEMENT_TYPES.has(type)) return `unknown element type ${String(type)}`;
    if (type === 'TextBlock') {
      if (typeof element.text !== 'string') return 'TextBlock needs text';
      textBlocks.push(element.text);
    }
    if (type === 'RichTextBlock') {
      const inlines = element.inlines;
      if (!Array.isArray(inlines) || inlines.length === 0) return 'RichTextBlock needs inlines';
      for (const inline of inlines as Record<string, unknown>[]) {
        if (inline?.type !== 'TextRun' || typeof inline.text !== 'string') return 'inlines must be TextRuns';
      }
    }
    if (type === 'Container' || type === 'Column') {
      if (!Array.isArray(element.items)) return `${type} needs items`;
      const problem = checkElements(element.items, textBlocks);
      if (problem) return problem;
    }
    if (type === 'ColumnSet' && Array.isArray(element.columns)) {
      const problem = checkElements(element.columns, textBlocks);
      if (problem) return problem;
    }
  }
  return undefined;
}
