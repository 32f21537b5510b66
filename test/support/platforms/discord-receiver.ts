/**
 * A Discord webhook on 127.0.0.1: checks requests the way `discord.com/api/webhooks/{id}/{token}` does (the
 * token, the JSON shape, content and embed limits counted in characters, `allowed_mentions`, a per-webhook
 * rate-limit bucket) and answers like it: 200 with the message object when `?wait=true`, 204 without it, and
 * Discord's `{"message","code"}` errors (50035 with the nested `errors` of an invalid form body), 429 with
 * `retry_after` in the body, `Retry-After` and the `X-RateLimit-*` headers.
 */
import type { ReceivedWebhookRequest, WebhookResponse } from '../../../lib/simulator/webhook-receiver.ts';
import {
  createFixedWindow,
  createPlatformReceiver,
  jsonAnswer,
  type PlatformReceiver,
  parseJsonObject,
} from './platform-receiver.ts';

export const DISCORD_ERROR = {
  unknownWebhook: 10015,
  cannotSendEmptyMessage: 50006,
  invalidWebhookToken: 50027,
  invalidFormBody: 50035,
  invalidJson: 50109,
} as const;

/** Who a posted message pings, as Discord works it out from `content` and `allowed_mentions`. */
export interface DiscordPings {
  users: string[];
  roles: string[];
  everyone: boolean;
}

/** A message Discord posted. */
export interface DiscordPostedMessage {
  /** What was sent. */
  payload: Record<string, unknown>;
  /** The message object Discord answered with (when `wait=true`). */
  message: Record<string, unknown>;
  pinged: DiscordPings;
  /** The query as sent: `wait`, `thread_id`. */
  query: URLSearchParams;
  receivedAt: number;
}

export interface DiscordReceiverOptions {
  /** The webhook's snowflake id. */
  webhookId: string;
  /** The webhook's secret token (the last path segment). */
  token: string;
  /** Clock for the rate-limit bucket (and `receivedAt`). Default `Date.now`. */
  now?: () => number;
  /** Requests per bucket window. Default 5, as Discord's webhook buckets are commonly seen. */
  bucketLimit?: number;
  /** Default 2000 ms. */
  bucketWindowMs?: number;
}

/** A Discord-like webhook: `start()` resolves to its URL without `wait`; `posted` holds what Discord showed. */
export type DiscordReceiver = PlatformReceiver<DiscordPostedMessage>;

/** Discord's error body. */
export function discordError(
  status: number,
  code: number,
  message: string,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): WebhookResponse {
  return jsonAnswer(status, { message, code, ...extra }, headers);
}

const DISCORD_EPOCH = 1_420_070_400_000n;

interface FormError {
  path: (string | number)[];
  code: string;
  message: string;
}

/** Creates a Discord-like webhook; call `start()` to listen. */
export function createDiscordReceiver(options: DiscordReceiverOptions): DiscordReceiver {
  const now = options.now ?? Date.now;
  const bucketLimit = options.bucketLimit ?? 5;
  const bucketWindowMs = options.bucketWindowMs ?? 2000;
  const bucket = createFixedWindow(bucketLimit, bucketWindowMs);
  const posted: DiscordPostedMessage[] = [];
  let sequence = 0n;

  function snowflake(at: number): string {
    sequence = (sequence + 1n) & 0xfffn;
    return String(((BigInt(Math.floor(at)) - DISCORD_EPOCH) << 22n) | sequence);
  }

  function respond(request: ReceivedWebhookRequest): WebhookResponse {
    const url = new URL(request.path, 'http://discord.invalid');
    const match = /^\/api\/webhooks\/(\d+)\/([^/]+)$/.exec(url.pathname);
    if (request.method !== 'POST' || !match || match[1] !== options.webhookId) {
      return discordError(404, DISCORD_ERROR.unknownWebhook, 'Unknown Webhook');
    }
    if (match[2] !== options.token) {
      return discordError(401, DISCORD_ERROR.invalidWebhookToken, 'Invalid Webhook Token');
    }

    const at = request.receivedAt;
    const slot = bucket.take(at);
    const bucketId = `webhook-${options.webhookId}`;
    if (!slot.allowed) {
      const seconds = slot.retryAfterMs / 1000;
      return discordError(
        429,
        0,
        'You are being rate limited.',
        { retry_after: Number(seconds.toFixed(3)), global: false },
        {
          'retry-after': String(Math.ceil(seconds)),
          'x-ratelimit-limit': String(bucketLimit),
          'x-ratelimit-remaining': '0',
          'x-ratelimit-reset': ((at + slot.retryAfterMs) / 1000).toFixed(3),
          'x-ratelimit-reset-after': seconds.toFixed(3),
          'x-ratelimit-bucket': bucketId,
          'x-ratelimit-scope': 'user',
        },
      );
    }
    const rateHeaders = {
      'x-ratelimit-limit': String(bucketLimit),
      'x-ratelimit-remaining': String(slot.remaining),
      'x-ratelimit-reset': ((at + slot.resetAfterMs) / 1000).toFixed(3),
      'x-ratelimit-reset-after': (slot.resetAfterMs / 1000).toFixed(3),
      'x-ratelimit-bucket': bucketId,
    };

    if (!(request.headers['content-type'] ?? '').startsWith('application/json')) {
      // Discord reads no JSON from such a body, so it sees nothing to send.
      return discordError(
        400,
        DISCORD_ERROR.cannotSendEmptyMessage,
        'Cannot send an empty message',
        {},
        rateHeaders,
      );
    }
    const payload = parseJsonObject(request.body);
    if (payload === undefined) {
      return discordError(
        400,
        DISCORD_ERROR.invalidJson,
        'The request body contains invalid JSON.',
        {},
        rateHeaders,
      );
    }

    const errors = validate(payload);
    if (errors.length > 0) {
      return discordError(
        400,
        DISCORD_ERROR.invalidFormBody,
        'Invalid Form Body',
        { errors: nestErrors(errors) },
        rateHeaders,
      );
    }
    const content = typeof payload.content === 'string' ? payload.content : '';
    const embeds = Array.isArray(payload.embeds) ? payload.embeds : [];
    if (content.trim() === '' && embeds.length === 0) {
      return discordError(
        400,
        DISCORD_ERROR.cannotSendEmptyMessage,
        'Cannot send an empty message',
        {},
        rateHeaders,
      );
    }

    const pinged = pings(content, payload.allowed_mentions as Record<string, unknown> | undefined);
    const message = {
      id: snowflake(at),
      type: 0,
      content,
      channel_id: '1100000000000000001',
      author: {
        id: options.webhookId,
        username: 'dli-watch',
        avatar: null,
        discriminator: '0000',
        bot: true,
      },
      attachments: [],
      embeds: embeds.map((embed) => ({ type: 'rich', ...(embed as object) })),
      mentions: pinged.users.map((id) => ({ id, username: `user${id}` })),
      mention_roles: pinged.roles,
      mention_everyone: pinged.everyone,
      pinned: false,
      tts: false,
      timestamp: new Date(at).toISOString().replace('Z', '+00:00'),
      edited_timestamp: null,
      flags: 0,
      components: [],
      webhook_id: options.webhookId,
    };
    posted.push({ payload, message, pinged, query: url.searchParams, receivedAt: at });
    if (url.searchParams.get('wait') !== 'true') return { status: 204, body: '', headers: rateHeaders };
    return jsonAnswer(200, message, rateHeaders);
  }

  return createPlatformReceiver({
    respond,
    now,
    webhookUrl: (base) => `${base}/api/webhooks/${options.webhookId}/${options.token}`,
    posted,
  });
}

/** Discord counts characters as code points. */
function length(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

const SNOWFLAKE = /^\d{1,20}$/;

function validate(payload: Record<string, unknown>): FormError[] {
  const errors: FormError[] = [];
  const maxLength = (path: FormError['path'], value: unknown, max: number, required = false) => {
    if (value === undefined && !required) return;
    if (typeof value !== 'string') {
      errors.push({ path, code: 'BASE_TYPE_REQUIRED', message: 'This field is required' });
      return;
    }
    if (required && value.trim() === '') {
      errors.push({ path, code: 'BASE_TYPE_REQUIRED', message: 'This field is required' });
    }
    if (length(value) > max) {
      errors.push({ path, code: 'BASE_TYPE_MAX_LENGTH', message: `Must be ${max} or fewer in length.` });
    }
  };

  maxLength(['content'], payload.content, 2000);
  const embeds = payload.embeds;
  if (embeds !== undefined) {
    if (!Array.isArray(embeds) || embeds.length > 10) {
      errors.push({
        path: ['embeds'],
        code: 'BASE_TYPE_MAX_LENGTH',
        message: 'Must be 10 or fewer in length.',
      });
    } else {
      let total = 0;
      embeds.forEach((raw, index) => {
        const embed = raw as Record<string, unknown>;
        const at = (...rest: (string | number)[]) => ['embeds', index, ...rest];
        maxLength(at('title'), embed.title, 256);
        maxLength(at('description'), embed.description, 4096);
        if (embed.url !== undefined && (typeof embed.url !== 'string' || !/^https?:\/\//.test(embed.url))) {
          errors.push({ path: at('url'), code: 'URL_TYPE_INVALID_URL', message: 'Not a well formed URL.' });
        }
        if (
          embed.color !== undefined &&
          (!Number.isInteger(embed.color) ||
            (embed.color as number) < 0 ||
            (embed.color as number) > 0xffffff)
        ) {
          errors.push({
            path: at('color'),
            code: 'NUMBER_TYPE_MAX',
            message: 'int value should be <= 16777215.',
          });
        }
        if (embed.timestamp !== undefined && Number.isNaN(Date.parse(String(embed.timestamp)))) {
          errors.push({
            path: at('timestamp'),
            code: 'DATE_TYPE_PARSE',
            message: 'Could not parse timestamp.',
          });
        }
        const footer = embed.footer as Record<string, unknown> | undefined;
        if (footer !== undefined) maxLength(at('footer', 'text'), footer.text, 2048, true);
        const fields = embed.fields;
        if (fields !== undefined) {
          if (!Array.isArray(fields) || fields.length > 25) {
            errors.push({
              path: at('fields'),
              code: 'BASE_TYPE_MAX_LENGTH',
              message: 'Must be 25 or fewer in length.',
            });
          } else {
            fields.forEach((rawField, fieldIndex) => {
              const field = rawField as Record<string, unknown>;
              maxLength(at('fields', fieldIndex, 'name'), field.name, 256, true);
              maxLength(at('fields', fieldIndex, 'value'), field.value, 1024, true);
              total += length(String(field.name ?? '')) + length(String(field.value ?? ''));
            });
          }
        }
        for (const text of [embed.title, embed.description, footer?.text]) {
          if (typeof text === 'string') total += length(text);
        }
      });
      if (total > 6000) {
        errors.push({
          path: ['embeds'],
          code: 'MAX_EMBED_SIZE_EXCEEDED',
          message: 'Embed size exceeds maximum size of 6000',
        });
      }
    }
  }

  const allowed = payload.allowed_mentions as Record<string, unknown> | undefined;
  if (allowed !== undefined) {
    const parse = allowed.parse ?? [];
    if (
      !Array.isArray(parse) ||
      !parse.every((kind) => kind === 'users' || kind === 'roles' || kind === 'everyone')
    ) {
      errors.push({
        path: ['allowed_mentions', 'parse'],
        code: 'BASE_TYPE_CHOICES',
        message: 'Value must be one of {"users", "roles", "everyone"}.',
      });
    }
    for (const kind of ['users', 'roles'] as const) {
      const ids = allowed[kind];
      if (ids === undefined) continue;
      if (
        !Array.isArray(ids) ||
        ids.length > 100 ||
        !ids.every((id) => typeof id === 'string' && SNOWFLAKE.test(id))
      ) {
        errors.push({
          path: ['allowed_mentions', kind],
          code: 'SNOWFLAKE_TYPE_INVALID',
          message: 'Value is not snowflake.',
        });
      }
      if (Array.isArray(parse) && parse.includes(kind)) {
        errors.push({
          path: ['allowed_mentions', kind],
          code: 'SET_TYPE_ALREADY_CONTAINS_VALUE',
          message: `parse:["${kind}"] and ${kind}: [ids] are mutually exclusive.`,
        });
      }
    }
  }
  return errors;
}

/** Discord's nested error shape: `{"embeds":{"0":{"title":{"_errors":[{code,message}]}}}}`. */
function nestErrors(errors: FormError[]): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const error of errors) {
    let node = root;
    for (const key of error.path) {
      const name = String(key);
      node[name] ??= {};
      node = node[name] as Record<string, unknown>;
    }
    node._errors ??= [];
    (node._errors as unknown[]).push({ code: error.code, message: error.message });
  }
  return root;
}

/**
 * Who a message pings: mentions in `content` (never in embeds), unless escaped with a backslash, filtered by
 * `allowed_mentions` (absent: everything in the content pings, Discord's default for webhooks).
 */
function pings(content: string, allowed: Record<string, unknown> | undefined): DiscordPings {
  const parse = (allowed?.parse ?? ['users', 'roles', 'everyone']) as string[];
  const allowedUsers = (allowed?.users ?? []) as string[];
  const allowedRoles = (allowed?.roles ?? []) as string[];
  const users = [...content.matchAll(/(?<!\\)<@!?(\d+)>/g)].map((m) => m[1] ?? '');
  const roles = [...content.matchAll(/(?<!\\)<@&(\d+)>/g)].map((m) => m[1] ?? '');
  return {
    users: [...new Set(users)].filter((id) => parse.includes('users') || allowedUsers.includes(id)),
    roles: [...new Set(roles)].filter((id) => parse.includes('roles') || allowedRoles.includes(id)),
    everyone: /(?<!\\)@(everyone|here)/.test(content) && parse.includes('everyone'),
  };
}
