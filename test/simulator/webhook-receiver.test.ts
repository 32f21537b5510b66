import { afterEach, describe, expect, it } from 'vitest';
import {
  createWebhookReceiver,
  type ReceivedWebhookRequest,
  type WebhookReceiver,
  WebhookWaitError,
} from '../../lib/simulator/webhook-receiver.ts';

const receivers: WebhookReceiver[] = [];

async function startReceiver(
  options?: Parameters<typeof createWebhookReceiver>[0],
): Promise<{ receiver: WebhookReceiver; baseUrl: string }> {
  const receiver = createWebhookReceiver(options);
  receivers.push(receiver);
  return { receiver, baseUrl: await receiver.start() };
}

afterEach(async () => {
  await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
});

describe('webhook receiver', () => {
  it('records method, path with query, lower-case headers, body and arrival time', async () => {
    const { receiver, baseUrl } = await startReceiver({ now: () => 1_700_000_000_000 });

    const response = await fetch(`${baseUrl}/hooks/slack?channel=ops`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Webhook-Signature': 'v1,abc' },
      body: JSON.stringify({ text: 'Job FAILED' }),
    });

    expect(response.status).toBe(200);
    expect(await response.text()).toBe('ok');
    expect(receiver.requests).toHaveLength(1);
    const [recorded] = receiver.requests;
    expect(recorded).toMatchObject({
      method: 'POST',
      path: '/hooks/slack?channel=ops',
      body: '{"text":"Job FAILED"}',
      receivedAt: 1_700_000_000_000,
    });
    expect(recorded?.headers['content-type']).toBe('application/json');
    expect(recorded?.headers['x-webhook-signature']).toBe('v1,abc');
  });

  it('answers scripted responses in order, then the default again', async () => {
    const { receiver, baseUrl } = await startReceiver();
    receiver.respondNext(
      { status: 429, body: 'slow down', headers: { 'Retry-After': '3' } },
      { status: 500, body: '{"error":"boom"}', headers: { 'content-type': 'application/json' } },
    );

    const first = await fetch(baseUrl, { method: 'POST', body: 'one' });
    const second = await fetch(baseUrl, { method: 'POST', body: 'two' });
    const third = await fetch(baseUrl, { method: 'POST', body: 'three' });

    expect([first.status, await first.text(), first.headers.get('retry-after')]).toEqual([
      429,
      'slow down',
      '3',
    ]);
    expect([second.status, await second.json(), second.headers.get('content-type')]).toEqual([
      500,
      { error: 'boom' },
      'application/json',
    ]);
    expect([third.status, await third.text()]).toEqual([200, 'ok']);
    expect(receiver.requests.map((request) => request.body)).toEqual(['one', 'two', 'three']);
  });

  it('uses the configured default response', async () => {
    const { baseUrl } = await startReceiver({ defaultResponse: { status: 204 } });

    const response = await fetch(baseUrl, { method: 'POST', body: 'x' });

    expect(response.status).toBe(204);
  });

  it('waitForRequests resolves once enough requests arrived, and at once when they already have', async () => {
    const { receiver, baseUrl } = await startReceiver();
    const waiting = receiver.waitForRequests(2, 5000);

    await fetch(baseUrl, { method: 'POST', body: 'a' });
    await fetch(baseUrl, { method: 'POST', body: 'b' });
    await fetch(baseUrl, { method: 'POST', body: 'c' });

    expect((await waiting).map((request) => request.body)).toEqual(['a', 'b']);
    expect((await receiver.waitForRequests(3, 0)).map((request) => request.body)).toEqual(['a', 'b', 'c']);
  });

  it('waitForRequests rejects when too few requests arrive before the timeout', async () => {
    const { receiver, baseUrl } = await startReceiver();
    await fetch(baseUrl, { method: 'POST', body: 'only one' });

    const waiting = receiver.waitForRequests(2, 20);

    await expect(waiting).rejects.toBeInstanceOf(WebhookWaitError);
    await expect(waiting).rejects.toThrow('Expected 2 webhook requests within 20 ms, got 1');
  });

  it('waitForRequests rejects when the receiver closes', async () => {
    const { receiver } = await startReceiver();
    const waiting = receiver.waitForRequests(1, 60_000);

    await receiver.close();

    await expect(waiting).rejects.toThrow('closed after 0 of 1 requests');
  });

  it('tells listeners about each request as it arrives, until they unsubscribe', async () => {
    const { receiver, baseUrl } = await startReceiver();
    const seen: ReceivedWebhookRequest[] = [];
    const unsubscribe = receiver.onRequest((request) => seen.push(request));

    await fetch(`${baseUrl}/first`, { method: 'POST', body: '1' });
    unsubscribe();
    await fetch(`${baseUrl}/second`, { method: 'POST', body: '2' });

    expect(seen.map((request) => request.path)).toEqual(['/first']);
    expect(receiver.requests).toHaveLength(2);
  });

  it('keeps answering when a listener throws', async () => {
    const { receiver, baseUrl } = await startReceiver();
    receiver.onRequest(() => {
      throw new Error('printer broke');
    });

    const response = await fetch(baseUrl, { method: 'POST', body: 'x' });

    expect(response.status).toBe(200);
  });

  it('receives multi-megabyte bodies intact', async () => {
    const { receiver, baseUrl } = await startReceiver();
    const body = 'é'.repeat(2 * 1024 * 1024); // 4 MiB of UTF-8

    const response = await fetch(baseUrl, { method: 'POST', body });

    expect(response.status).toBe(200);
    expect(receiver.requests[0]?.body).toBe(body);
  });

  it('refuses bodies over the configured limit with 413', async () => {
    const { receiver, baseUrl } = await startReceiver({ maxBodyBytes: 1024 });

    const response = await fetch(baseUrl, { method: 'POST', body: 'x'.repeat(4096) });

    expect(response.status).toBe(413);
    expect(receiver.requests[0]?.body).toHaveLength(1024);
  });

  it('close() does not wait for a delayed answer', async () => {
    const { receiver, baseUrl } = await startReceiver();
    receiver.respondNext({ status: 200, delayMs: 60_000 });
    const pending = fetch(baseUrl, { method: 'POST', body: 'x' }).catch((error: unknown) => error);
    await receiver.waitForRequests(1, 5000);

    await receiver.close();

    expect(await pending).toBeInstanceOf(Error);
  });
});
