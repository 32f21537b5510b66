import { isRecord } from '../../util/is-record.ts';
import type { OutgoingRequest } from './platform.ts';

/**
 * A POST of `message` as JSON to `url`: how every chat platform and webhook sends. `contentType` is for platforms
 * that want the charset spelled out.
 */
export function postJson(url: string, message: unknown, contentType = 'application/json'): OutgoingRequest {
  return { url, method: 'POST', headers: { 'content-type': contentType }, body: JSON.stringify(message) };
}

/** The UTF-8 bytes of `value` serialized as JSON: what a platform's body-size limit counts. */
export function jsonBodyBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}

/**
 * A platform's answer body as a JSON object, or `undefined` when it is not one (a proxy's HTML page, a bare
 * string, an array): what every success test reads its codes and ids from.
 */
export function parseJsonObject(body: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(body);
    return isRecord(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
