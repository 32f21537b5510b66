import { createHmac } from 'node:crypto';

/**
 * Base64 of HMAC-SHA256(`key`, `message`), the message taken as UTF-8: Feishu, DingTalk and Standard Webhooks all
 * sign this way, each with its own key and message. A string key is used as its UTF-8 bytes.
 */
export function hmacSha256Base64(key: string | Buffer, message: string): string {
  return createHmac('sha256', key).update(message, 'utf8').digest('base64');
}
