import { randomBytes } from 'node:crypto';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { type JobStatusResponse, jobStatusResponseSchema } from '../../../lib/dli/schemas.ts';
import type { JobEvent } from '../../../lib/job.ts';
import { createWebhookDestination, type WebhookDestination } from '../../../lib/notify/destination.ts';
import {
  renderWebhookBody,
  signWebhook,
  WEBHOOK_BODY_LIMIT_BYTES,
  WEBHOOK_TRUNCATION_MARKER,
  WebhookSecretError,
  webhookPlatform,
} from '../../../lib/notify/platforms/webhook.ts';
import { createWebhookReceiver } from '../../../lib/simulator/webhook-receiver.ts';
import {
  contextAt,
  finishedFixture,
  finishedJob,
  hugeErrorText,
  hugeStatement,
  jobEvent,
  RENDER_TIME,
} from '../../support/events.ts';
import { describePlatformContract } from '../../support/platform-contract.ts';

const TWENTY_KB = 20 * 1000;

/** Every event here carries a tracking label: the body must pass labels on. */
function labelledEvent(job: JobStatusResponse, overrides: Partial<JobEvent> = {}): JobEvent {
  return jobEvent(job, { labels: { pipeline: 'nightly' }, ...overrides });
}

function destinationWith(secret: string | null): WebhookDestination {
  return createWebhookDestination({
    name: 'receiver',
    url: 'https://receiver.example.com/hooks/dli',
    secret,
  });
}

const newSecret = () => `whsec_${randomBytes(32).toString('base64')}`;

describe('renderWebhookBody', () => {
  it('carries every field of the fixture plus previous_status, labels and project_id', () => {
    const body = renderWebhookBody(labelledEvent(finishedJob));

    expect(body.type).toBe('dli.job.finished');
    expect(body.timestamp).toBe('2024-01-02T03:04:00.000Z');
    for (const [key, value] of Object.entries(finishedFixture)) expect(body.data[key]).toEqual(value);
    expect(body.data.previous_status).toBe('RUNNING');
    expect(body.data.labels).toEqual({ pipeline: 'nightly' });
    expect(body.data.project_id).toBe('0123456789abcdef0123456789abcdef');
    expect(body.data).not.toHaveProperty('truncated');
  });

  it('passes fields DLI added later through untouched', () => {
    const job = jobStatusResponseSchema.parse({
      ...finishedFixture,
      engine_type: 'spark',
      end_time: 1509335111441,
    });
    const body = renderWebhookBody(labelledEvent(job));
    expect(body.data.engine_type).toBe('spark');
    expect(body.data.end_time).toBe(1509335111441);
  });

  it.each([
    ['FAILED', 'dli.job.failed'],
    ['CANCELLED', 'dli.job.cancelled'],
  ])('types a %s event as %s', (status, type) => {
    const body = renderWebhookBody(labelledEvent({ ...finishedJob, status }, { previousStatus: null }));
    expect(body.type).toBe(type);
    expect(body.data.status).toBe(status);
    expect(body.data.previous_status).toBeNull();
  });

  it('keeps a FAILED job with a 50 KB statement and 10 KB error text under 20 KB, as valid JSON', () => {
    const message = hugeErrorText('java.lang.RuntimeException: "boom"');
    expect(message.length).toBeGreaterThan(10 * 1024);
    const statement = hugeStatement('select "数据😀" from t');
    const serialized = JSON.stringify(
      renderWebhookBody(labelledEvent({ ...finishedJob, status: 'FAILED', message, statement })),
    );

    expect(Buffer.byteLength(serialized, 'utf8')).toBeLessThan(TWENTY_KB);
    const parsed = JSON.parse(serialized);
    expect(parsed.data.truncated).toBe(true);
    expect(parsed.data.statement.startsWith('select "数据😀" from t -- xxx')).toBe(true);
    expect(parsed.data.statement.endsWith(WEBHOOK_TRUNCATION_MARKER)).toBe(true);
    // The error text is what a receiver acts on: it survives whole when cutting the SQL was enough.
    expect(parsed.data.message).toBe(message);
    expect(parsed.data.job_id).toBe(finishedJob.job_id);
  });

  it('cuts the detail and then the error text when cutting the statement is not enough', () => {
    const job = {
      ...finishedJob,
      status: 'FAILED',
      statement: 's'.repeat(30_000),
      detail: 'd'.repeat(5_000),
      message: 'm'.repeat(30_000),
    };
    const serialized = JSON.stringify(renderWebhookBody(labelledEvent(job)));

    expect(Buffer.byteLength(serialized, 'utf8')).toBeLessThan(TWENTY_KB);
    const { data } = JSON.parse(serialized);
    expect(data.truncated).toBe(true);
    expect(data.statement).toBe(WEBHOOK_TRUNCATION_MARKER);
    expect(data.detail).toBe(WEBHOOK_TRUNCATION_MARKER);
    expect(data.message).toMatch(/^m{19000,}… \[truncated\]$/);
  });

  it('leaves the statement whole when only the error text is huge', () => {
    const job = { ...finishedJob, status: 'FAILED', message: 'm'.repeat(40_000) };
    const { data } = JSON.parse(JSON.stringify(renderWebhookBody(labelledEvent(job))));
    expect(data.statement).toBe('select * from t1');
    expect(data.detail).toBe(finishedFixture.detail);
    expect(data.message).toMatch(/^m+… \[truncated\]$/);
  });

  it('cuts other long text fields, never the job id, when the usual ones are not enough', () => {
    const job = jobStatusResponseSchema.parse({ ...finishedFixture, user_conf: 'u'.repeat(30_000) });
    const serialized = JSON.stringify(renderWebhookBody(labelledEvent(job)));
    expect(Buffer.byteLength(serialized, 'utf8')).toBeLessThan(TWENTY_KB);
    const { data } = JSON.parse(serialized);
    expect(data.user_conf).toMatch(/^u+… \[truncated\]$/);
    expect(data.statement).toBe('select * from t1');
    expect(data.job_id).toBe(finishedFixture.job_id);
  });

  it('measures the JSON escapes: quotes, newlines and control characters grow when serialized', () => {
    const statement = '"\n\u0001\\'.repeat(20_000);
    const serialized = JSON.stringify(renderWebhookBody(labelledEvent({ ...finishedJob, statement })));
    const bytes = Buffer.byteLength(serialized, 'utf8');
    expect(bytes).toBeLessThan(TWENTY_KB);
    expect(bytes).toBeGreaterThan(TWENTY_KB - 20);
    expect(JSON.parse(serialized).data.statement.endsWith(WEBHOOK_TRUNCATION_MARKER)).toBe(true);
  });
});

describe('webhookPlatform.render', () => {
  it('is verified by the standardwebhooks reference receiver, and a tampered body is not', () => {
    const secret = newSecret();
    const event = labelledEvent(finishedJob);
    const request = webhookPlatform.render(event, destinationWith(secret), contextAt(Date.now()));

    expect(request.url).toBe('https://receiver.example.com/hooks/dli');
    expect(request.method).toBe('POST');
    expect(request.headers['content-type']).toBe('application/json');
    const receiver = new Webhook(secret);
    expect(receiver.verify(request.body, request.headers)).toEqual(renderWebhookBody(event));

    const tampered = request.body.replace('"FINISHED"', '"FAILED"');
    expect(tampered).not.toBe(request.body);
    expect(() => receiver.verify(tampered, request.headers)).toThrow(WebhookVerificationError);
    expect(() => receiver.verify(request.body, { ...request.headers, 'webhook-id': 'evt_other' })).toThrow(
      WebhookVerificationError,
    );
    expect(() => new Webhook(newSecret()).verify(request.body, request.headers)).toThrow(
      WebhookVerificationError,
    );
  });

  it('keeps webhook-id identical across retries while the timestamp follows the clock', () => {
    const secret = newSecret();
    const event = labelledEvent(finishedJob);
    const first = webhookPlatform.render(
      event,
      destinationWith(secret),
      contextAt(Date.UTC(2024, 0, 2, 3, 4, 5)),
    );
    const retry = webhookPlatform.render(
      event,
      destinationWith(secret),
      contextAt(Date.UTC(2024, 0, 2, 5, 0, 0)),
    );

    expect(first.headers['webhook-id']).toBe(event.id);
    expect(retry.headers['webhook-id']).toBe(event.id);
    expect(first.headers['webhook-timestamp']).toBe(String(Date.UTC(2024, 0, 2, 3, 4, 5) / 1000));
    expect(retry.headers['webhook-timestamp']).toBe(String(Date.UTC(2024, 0, 2, 5, 0, 0) / 1000));
    expect(retry.body).toBe(first.body);
    expect(retry.headers['webhook-signature']).not.toBe(first.headers['webhook-signature']);
  });

  it('sends no signature header when the destination has no secret', () => {
    const request = webhookPlatform.render(
      labelledEvent(finishedJob),
      destinationWith(null),
      contextAt(Date.now()),
    );
    expect(request.headers).not.toHaveProperty('webhook-signature');
    expect(request.headers['webhook-id']).toBe(`evt_${finishedJob.job_id}`);
  });

  it('signs an oversized FAILED event that the reference receiver still verifies', () => {
    const secret = newSecret();
    const job = {
      ...finishedJob,
      status: 'FAILED',
      message: 'e'.repeat(10_240),
      statement: '😀'.repeat(25_000),
    };
    const request = webhookPlatform.render(
      labelledEvent(job),
      destinationWith(secret),
      contextAt(Date.now()),
    );
    expect(Buffer.byteLength(request.body, 'utf8')).toBeLessThan(TWENTY_KB);
    expect(new Webhook(secret).verify(request.body, request.headers)).toMatchObject({
      data: { truncated: true },
    });
  });
});

describe('signWebhook', () => {
  it('reproduces the Standard Webhooks test vector', () => {
    expect(
      signWebhook(
        'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
        'msg_p5jXN8AQM9LWM0D4loKWxJek',
        1614265330,
        '{"test": 2432232314}',
      ),
    ).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('refuses a secret that is not Base64 without repeating it', () => {
    const secret = 'whsec_not base64!!';
    expect(() => signWebhook(secret, 'id', 1, '{}')).toThrow(WebhookSecretError);
    try {
      signWebhook(secret, 'id', 1, '{}');
    } catch (error) {
      expect(String((error as Error).message)).not.toContain('not base64!!');
    }
    expect(() => signWebhook('whsec_', 'id', 1, '{}')).toThrow(WebhookSecretError);
  });
});

const base64Of = (bytes: number) => randomBytes(bytes).toString('base64');

describePlatformContract({
  kind: 'webhook',
  type: 'webhook',
  platform: webhookPlatform,
  receiver: () => {
    // Standard Webhooks' "under 20 KB", strictly: a body at the limit is answered 413 and so rejected.
    const http = createWebhookReceiver({
      maxBodyBytes: WEBHOOK_BODY_LIMIT_BYTES - 1,
      now: () => RENDER_TIME,
    });
    return { start: async () => `${await http.start()}/hooks/dli`, close: () => http.close(), http };
  },
  destination: (url) => createWebhookDestination({ name: 'receiver', url, secret: newSecret() }),
  limits: { maxBodyBytes: TWENTY_KB - 1 },
  proof: { kind: 'status' },
  permanentRefusals: [
    // Standard Webhooks: 410 means the receiver wants no more deliveries to this endpoint.
    { name: '410 Gone', answer: { status: 410, body: 'gone' }, reason: '410 Gone: endpoint disabled' },
    ...[400, 401, 403, 404, 422].map((status) => ({
      name: `${status}`,
      answer: { status, body: 'no' },
      reason: `${status} no`,
    })),
  ],
  rateLimit: null,
  urls: ['https://receiver.example.com/hooks/dli', 'https://hooks.example.org:8443/dli?team=data'],
  signingSecrets: {
    valid: [`whsec_${base64Of(24)}`, `whsec_${base64Of(32)}`, `whsec_${base64Of(64)}`],
    invalid: [
      `whsec_${base64Of(23)}`,
      `whsec_${base64Of(65)}`,
      base64Of(32),
      'whsec_not base64!!',
      'whsec_',
      // Not a whole number of Base64 quanta.
      'whsec_abcde',
    ],
  },
});
