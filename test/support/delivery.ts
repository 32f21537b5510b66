/** Sending rendered requests for real and judging what came back, as the outbox does. */

import { postOnce } from '../../lib/notify/delivery/post-once.ts';
import type {
  DeliveryOutcome,
  OutgoingRequest,
  Platform,
  PlatformResponse,
} from '../../lib/notify/platforms/platform.ts';

/** Sends `request` once and judges the answer as `platform` does; no answer at all is a retry, as in the outbox. */
export async function sendAndJudge(
  platform: Pick<Platform<unknown>, 'judge'>,
  request: OutgoingRequest,
): Promise<DeliveryOutcome> {
  return postOnce(platform, request, { timeoutMs: 5000 });
}

/** An answer to judge without sending anything. */
export function platformResponse(
  status: number,
  body = '',
  headers: Record<string, string> = {},
): PlatformResponse {
  return { status, body, headers: new Headers(headers) };
}
