/**
 * A Google Chat space's incoming webhook on 127.0.0.1: checks requests the way
 * `chat.googleapis.com/v1/spaces/{space}/messages` does (`key` and `token`, the query parameters the method
 * knows, JSON with known fields only, the 32,000-byte message limit, 60 writes a minute per space, `requestId`
 * de-duplication) and answers like it: the created message as JSON, or Google's `{"error":{…}}` bodies.
 */
import type { ReceivedWebhookRequest, WebhookResponse } from '../../../lib/simulator/webhook-receiver.ts';
import {
  createPlatformReceiver,
  createSlidingWindow,
  isRecord,
  jsonAnswer,
  type PlatformReceiver,
  parseJsonObject,
} from './platform-receiver.ts';

/** A message the space shows. */
export interface GoogleChatPostedMessage {
  /** `spaces/{space}/messages/{id}`. */
  name: string;
  requestId: string | null;
  /** The message as sent (`text`, `cardsV2`). */
  message: Record<string, unknown>;
  /** Widgets Google Chat would drop silently, past 100 in one card. */
  ignoredWidgets: number;
  receivedAt: number;
}

export interface GoogleChatReceiverOptions {
  space: string;
  key: string;
  token: string;
  /** Clock for the per-space write quota (and `receivedAt`). Default `Date.now`. */
  now?: () => number;
  /** Default 60, Google Chat's per-space write quota. */
  writesPerMinute?: number;
}

/** A Google Chat-like space webhook; `posted` holds the messages the space shows (a de-duplicated retry adds none). */
export type GoogleChatReceiver = PlatformReceiver<GoogleChatPostedMessage>;

const MAX_MESSAGE_BYTES = 32_000;
const MAX_WIDGETS_PER_CARD = 100;
/** The query parameters `spaces.messages.create` binds; anything else is refused. */
const KNOWN_QUERY_PARAMETERS = new Set([
  'key',
  'token',
  'requestId',
  'messageId',
  'threadKey',
  'messageReplyOption',
]);
const KNOWN_MESSAGE_FIELDS = new Set([
  'text',
  'cardsV2',
  'cards',
  'thread',
  'fallbackText',
  'accessoryWidgets',
  'formattedText',
]);
const WIDGET_REQUIRED: Record<string, (value: Record<string, unknown>) => boolean> = {
  decoratedText: (value) => typeof value.text === 'string',
  textParagraph: (value) => typeof value.text === 'string',
  buttonList: (value) =>
    Array.isArray(value.buttons) &&
    value.buttons.every((button: { text?: unknown; onClick?: { openLink?: { url?: unknown } } }) => {
      return typeof button.text === 'string' && typeof button.onClick?.openLink?.url === 'string';
    }),
  divider: () => true,
};

const JSON_HEADERS = { 'content-type': 'application/json; charset=UTF-8' };

/** Google's error body. */
function googleError(code: number, status: string, message: string): WebhookResponse {
  return {
    status: code,
    body: JSON.stringify({ error: { code, message, status } }, null, 2),
    headers: JSON_HEADERS,
  };
}

const invalidPayload = (detail: string) =>
  googleError(400, 'INVALID_ARGUMENT', `Invalid JSON payload received. ${detail}`);

class PayloadError extends Error {
  override name = 'PayloadError';
}

/** Checks `cardsV2` the way the API's schema does; returns how many widgets Chat would ignore. */
function checkCards(cards: unknown): number {
  if (!Array.isArray(cards)) throw new PayloadError(`Invalid value at 'message.cards_v2', expected a list.`);
  let ignored = 0;
  cards.forEach((entry: unknown, c) => {
    const at = `message.cards_v2[${c}]`;
    if (!isRecord(entry) || !isRecord(entry.card)) throw new PayloadError(`Invalid value at '${at}.card'.`);
    const { header, sections } = entry.card;
    if (header !== undefined && (!isRecord(header) || typeof header.title !== 'string')) {
      throw new PayloadError(`Invalid value at '${at}.card.header.title'.`);
    }
    if (!Array.isArray(sections)) throw new PayloadError(`Invalid value at '${at}.card.sections'.`);
    let widgets = 0;
    sections.forEach((section: unknown, s) => {
      if (!isRecord(section) || !Array.isArray(section.widgets)) {
        throw new PayloadError(`Invalid value at '${at}.card.sections[${s}].widgets'.`);
      }
      section.widgets.forEach((widget: unknown, w) => {
        const where = `${at}.card.sections[${s}].widgets[${w}]`;
        if (!isRecord(widget)) throw new PayloadError(`Invalid value at '${where}'.`);
        const kinds = Object.keys(widget);
        const [kind] = kinds;
        if (kinds.length !== 1 || kind === undefined) throw new PayloadError(`Invalid value at '${where}'.`);
        const check = WIDGET_REQUIRED[kind];
        if (check === undefined)
          throw new PayloadError(`Unknown name "${kind}" at '${where}': Cannot find field.`);
        const value = widget[kind];
        if (!isRecord(value) || !check(value)) throw new PayloadError(`Invalid value at '${where}.${kind}'.`);
        widgets++;
      });
    });
    ignored += Math.max(0, widgets - MAX_WIDGETS_PER_CARD);
  });
  return ignored;
}

/** Creates a Google Chat-like space webhook; call `start()` to listen. */
export function createGoogleChatReceiver(options: GoogleChatReceiverOptions): GoogleChatReceiver {
  const now = options.now ?? Date.now;
  const writes = createSlidingWindow(options.writesPerMinute ?? 60, 60_000);
  const posted: GoogleChatPostedMessage[] = [];
  const byRequestId = new Map<string, Record<string, unknown>>();
  let nextId = 1;

  function created(message: Record<string, unknown>, at: number): Record<string, unknown> {
    const id = `m${String(nextId++).padStart(6, '0')}.m${String(nextId).padStart(6, '0')}`;
    return {
      name: `spaces/${options.space}/messages/${id}`,
      sender: { name: 'users/114022495153014004089', displayName: 'dli-watch', type: 'BOT' },
      createTime: new Date(at).toISOString(),
      ...message,
      thread: { name: `spaces/${options.space}/threads/t${id}` },
      space: { name: `spaces/${options.space}`, type: 'ROOM', spaceType: 'SPACE' },
    };
  }

  function respond(request: ReceivedWebhookRequest): WebhookResponse {
    const url = new URL(request.path, 'https://chat.googleapis.invalid');
    if (request.method !== 'POST' || url.pathname !== `/v1/spaces/${options.space}/messages`) {
      return googleError(404, 'NOT_FOUND', 'Requested entity was not found.');
    }
    for (const name of url.searchParams.keys()) {
      if (!KNOWN_QUERY_PARAMETERS.has(name)) {
        return invalidPayload(
          `Unknown name "${name}": Cannot bind query parameter. Field '${name}' could not be found in request message.`,
        );
      }
    }
    if (url.searchParams.get('key') !== options.key) {
      return googleError(400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.');
    }
    if (url.searchParams.get('token') !== options.token) {
      return googleError(
        401,
        'UNAUTHENTICATED',
        'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
      );
    }

    const at = request.receivedAt;
    if (!writes.hasRoom(at)) {
      return googleError(
        429,
        'RESOURCE_EXHAUSTED',
        "Quota exceeded for quota metric 'Write requests' and limit 'Write requests per minute per space'.",
      );
    }
    writes.record(at);

    const requestId = url.searchParams.get('requestId');
    const earlier = requestId === null ? undefined : byRequestId.get(requestId);
    // An existing request id returns the message created with it instead of creating a new one.
    if (earlier !== undefined) return jsonAnswer(200, earlier, JSON_HEADERS);

    if (!(request.headers['content-type'] ?? '').toLowerCase().startsWith('application/json')) {
      return invalidPayload('Unexpected token.');
    }
    if (Buffer.byteLength(request.body, 'utf8') > MAX_MESSAGE_BYTES) {
      return googleError(
        400,
        'INVALID_ARGUMENT',
        `Message exceeds the maximum size of ${MAX_MESSAGE_BYTES} bytes.`,
      );
    }
    const message = parseJsonObject(request.body);
    if (message === undefined) return invalidPayload('Unexpected token.');
    for (const field of Object.keys(message)) {
      if (!KNOWN_MESSAGE_FIELDS.has(field)) {
        return invalidPayload(`Unknown name "${field}" at 'message': Cannot find field.`);
      }
    }
    if (message.text !== undefined && typeof message.text !== 'string') {
      return invalidPayload(`Invalid value at 'message.text' (TYPE_STRING).`);
    }
    let ignoredWidgets = 0;
    if (message.cardsV2 !== undefined) {
      try {
        ignoredWidgets = checkCards(message.cardsV2);
      } catch (error) {
        if (error instanceof PayloadError) return invalidPayload(error.message);
        throw error;
      }
    }
    const hasText = typeof message.text === 'string' && message.text.trim() !== '';
    const hasCards = Array.isArray(message.cardsV2) && message.cardsV2.length > 0;
    if (!hasText && !hasCards) {
      return googleError(400, 'INVALID_ARGUMENT', 'Message cannot be empty. Discarding empty message.');
    }

    const answer = created(message, at);
    if (requestId !== null) byRequestId.set(requestId, answer);
    posted.push({ name: String(answer.name), requestId, message, ignoredWidgets, receivedAt: at });
    return jsonAnswer(200, answer, JSON_HEADERS);
  }

  return createPlatformReceiver({
    respond,
    now,
    webhookUrl: (base) =>
      `${base}/v1/spaces/${options.space}/messages?key=${encodeURIComponent(options.key)}&token=${encodeURIComponent(options.token)}`,
    posted,
  });
}
