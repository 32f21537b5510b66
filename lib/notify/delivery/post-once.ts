import ky, { TimeoutError } from 'ky';
import { systemErrorCode } from '../../util/system-error-code.ts';
import type { DeliveryOutcome, OutgoingRequest, Platform, PlatformResponse } from '../platforms/platform.ts';

/** The longest platform answer we read: success tests need a few bytes, error text is cut for logs anyway. */
const MAX_RESPONSE_CHARS = 64 * 1024;

/**
 * Sends one request once (retries are the outbox's business) and returns what came back, or the outcome of
 * a request that got no answer. Error reasons never contain the URL: a webhook URL is a credential.
 */
export async function sendOutgoing(
  request: OutgoingRequest,
  options: { timeoutMs: number },
): Promise<PlatformResponse | Exclude<DeliveryOutcome, { kind: 'delivered' }>> {
  try {
    const response = await ky(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      timeout: options.timeoutMs,
      retry: 0,
      throwHttpErrors: false,
      redirect: 'manual',
    });
    const body = (await response.text()).slice(0, MAX_RESPONSE_CHARS);
    return { status: response.status, headers: response.headers, body };
  } catch (error) {
    if (error instanceof TimeoutError) {
      return { kind: 'retry', reason: 'no answer within the timeout', timedOut: true };
    }
    return { kind: 'retry', reason: `could not connect (${systemErrorCode(error)})` };
  }
}

export function isPlatformResponse(value: PlatformResponse | DeliveryOutcome): value is PlatformResponse {
  return 'status' in value;
}

/**
 * Posts `request` once and judges what came back by the platform's own success test: the one way every sender
 * (the cycle, `test-destination`) turns a request into a verdict.
 */
export async function postOnce(
  platform: Pick<Platform<unknown>, 'judge'>,
  request: OutgoingRequest,
  options: { timeoutMs: number },
): Promise<DeliveryOutcome> {
  const answer = await sendOutgoing(request, options);
  return isPlatformResponse(answer) ? platform.judge(answer) : answer;
}
