import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { DliAuth } from '../../lib/dli/auth.ts';
import { createDliClient, type DliClientOptions } from '../../lib/dli/client.ts';
import {
  DliAuthError,
  DliCancelledError,
  DliError,
  DliJobNotFoundError,
  DliMalformedResponseError,
  DliNetworkError,
  DliProjectError,
  DliRequestError,
  DliServerError,
  DliThrottledError,
} from '../../lib/dli/errors.ts';
import { parseAuthorization, verifySignature } from '../../lib/dli/signer.ts';
import {
  createDliSimulator,
  type DliSimulator,
  type DliSimulatorOptions,
} from '../../lib/simulator/dli-simulator.ts';
import { closeServer, listenOnLoopback } from '../../lib/simulator/loopback-server.ts';
import type { Clock } from '../../lib/util/clock.ts';
import { createStderrLog } from '../../lib/util/log.ts';
import { createRateLimiter, type RateLimiter } from '../../lib/util/rate-limiter.ts';

const PROJECT_ID = '0123456789abcdef0123456789abcdef';
const JOB_ID = '6d2146a0-c2d5-41bd-8ca0-ca9694ada992';
const ACCESS_KEY = 'AKCLIENTTESTEXAMPLE';
const SECRET_KEY = 'SKclientTestSecretValue0123456789';
const SECURITY_TOKEN = 'STStemporarySecurityTokenValue0123456789';
const IAM_TOKEN = 'MIIIAMtokenValueThatMustNeverBeLogged0123456789';
const AKSK: DliAuth = { kind: 'aksk', accessKey: ACCESS_KEY, secretKey: SECRET_KEY, securityToken: null };
const AKSK_WITH_TOKEN: DliAuth = { ...AKSK, securityToken: SECURITY_TOKEN };
const FIXTURE_URL = new URL('../fixtures/dli/status-finished.json', import.meta.url);

const simulators: DliSimulator[] = [];
const servers: Server[] = [];

afterEach(async () => {
  await Promise.all(simulators.splice(0).map((simulator) => simulator.close()));
  await Promise.all(servers.splice(0).map(closeServer));
});

/** The simulator checking AK/SK signatures (and accepting the IAM token), with one running job. */
async function startSimulator(options: Partial<DliSimulatorOptions> = {}) {
  const simulator = createDliSimulator({
    projectId: PROJECT_ID,
    credentials: { accessKey: ACCESS_KEY, secretKey: SECRET_KEY },
    tokens: [IAM_TOKEN],
    ...options,
  });
  simulators.push(simulator);
  const baseUrl = await simulator.start();
  simulator.addJob(JOB_ID, { lifecycle: ['RUNNING', 'FINISHED'] });
  return { simulator, baseUrl };
}

interface RecordedRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
}

/** A tiny real HTTP server on loopback that records what the client sent and answers as told. */
async function startServer(answer: (request: IncomingMessage, response: ServerResponse) => void) {
  const requests: RecordedRequest[] = [];
  const server = createServer((request, response) => {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (typeof value === 'string') headers[name] = value;
    }
    requests.push({ method: request.method ?? '', url: request.url ?? '', headers });
    answer(request, response);
  });
  servers.push(server);
  return { baseUrl: await listenOnLoopback(server), requests };
}

function json(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(text);
}

/** A client with test-sized timings, whose log lines are kept. */
function clientFor(endpoint: string, overrides: Partial<DliClientOptions> = {}) {
  const logLines: string[] = [];
  const client = createDliClient({
    endpoint,
    projectId: PROJECT_ID,
    auth: AKSK,
    log: createStderrLog({ level: 'debug', write: (line) => logLines.push(line) }),
    retryLimit: 2,
    backoffLimitMs: 5,
    maxRetryAfterMs: 50,
    timeoutMs: 5_000,
    ...overrides,
  });
  return { client, logLines };
}

async function failureOf(promise: Promise<unknown>): Promise<DliError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(DliError);
    return error as DliError;
  }
  throw new Error('expected the DLI call to fail');
}

/** Every message in an error's cause chain, for secrecy checks. */
function messagesOf(error: unknown): string[] {
  const messages: string[] = [];
  let current = error;
  while (current instanceof Error) {
    messages.push(String(current), current.message);
    current = current.cause;
  }
  return messages;
}

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  const { port } = new URL(await listenOnLoopback(server));
  await closeServer(server);
  return Number(port);
}

/**
 * A clock that only moves when someone sleeps on it: a sleep advances it to the sleeper's wake-up time. An aborted
 * signal ends a sleep at once without moving the clock, as the real clock's contract says.
 */
function createTestClock(): Clock & { readonly elapsed: number } {
  const start = Date.UTC(2026, 0, 1);
  let time = start;
  return {
    now: () => time,
    sleep: async (ms, signal) => {
      if (signal?.aborted || ms <= 0) return;
      const wakeAt = time + ms;
      await Promise.resolve();
      time = Math.max(time, wakeAt);
    },
    get elapsed() {
      return time - start;
    },
  };
}

/** The real limiter, counting how often the client asks it. */
function countingLimiter(limiter: RateLimiter): RateLimiter & { readonly acquisitions: number } {
  let acquisitions = 0;
  return {
    acquire(signal) {
      acquisitions += 1;
      return limiter.acquire(signal);
    },
    acquireWithin(maxWaitMs, signal) {
      acquisitions += 1;
      return limiter.acquireWithin(maxWaitMs, signal);
    },
    get acquisitions() {
      return acquisitions;
    },
  };
}

describe('authentication', () => {
  it('is accepted by the simulator with an AK/SK signature', async () => {
    const { simulator, baseUrl } = await startSimulator();
    const { client } = clientFor(baseUrl);
    const status = await client.getJobStatus(JOB_ID);
    expect(status).toMatchObject({ job_id: JOB_ID, status: 'RUNNING', is_success: true });
    expect(simulator.pollCount(JOB_ID)).toBe(1);
  });

  it('is accepted by the simulator with an AK/SK signature and a security token', async () => {
    const { simulator, baseUrl } = await startSimulator();
    const { client } = clientFor(baseUrl, { auth: AKSK_WITH_TOKEN });
    await expect(client.getJobStatus(JOB_ID)).resolves.toMatchObject({ status: 'RUNNING' });
    expect(simulator.requestCount).toBe(1);
  });

  it('sends the security token as X-Security-Token and signs it, and sends none without one', async () => {
    const fixture = await readFile(FIXTURE_URL, 'utf8');
    const { baseUrl, requests } = await startServer((_request, response) => json(response, 200, fixture));
    await clientFor(baseUrl, { auth: AKSK_WITH_TOKEN }).client.getJobStatus(JOB_ID);
    await clientFor(baseUrl, { auth: AKSK }).client.getJobStatus(JOB_ID);

    const [withToken, withoutToken] = requests;
    if (!withToken || !withoutToken) throw new Error('expected two requests');
    expect(withToken.headers['x-security-token']).toBe(SECURITY_TOKEN);
    expect(parseAuthorization(withToken.headers.authorization ?? '')).toMatchObject({
      accessKey: ACCESS_KEY,
      signedHeaders: ['content-type', 'host', 'x-project-id', 'x-sdk-date', 'x-security-token'],
    });
    // The signature covers the token: it verifies as sent, and not once the token is swapped.
    const asReceived = { method: withToken.method, url: withToken.url, headers: withToken.headers };
    expect(verifySignature(asReceived, SECRET_KEY)).toBe(true);
    const swapped = { ...asReceived, headers: { ...withToken.headers, 'x-security-token': 'other' } };
    expect(verifySignature(swapped, SECRET_KEY)).toBe(false);

    expect(withoutToken.headers['x-security-token']).toBeUndefined();
    expect(parseAuthorization(withoutToken.headers.authorization ?? '')?.signedHeaders).toEqual([
      'content-type',
      'host',
      'x-project-id',
      'x-sdk-date',
    ]);
    expect(withoutToken.headers['x-project-id']).toBe(PROJECT_ID);
    expect(withoutToken.url).toBe(`/v1.0/${PROJECT_ID}/jobs/${JOB_ID}/status`);
  });

  it('sends an IAM token as X-Auth-Token, which the simulator accepts', async () => {
    const { simulator, baseUrl } = await startSimulator();
    const { client } = clientFor(baseUrl, { auth: { kind: 'token', token: IAM_TOKEN } });
    await expect(client.getJobStatus(JOB_ID)).resolves.toMatchObject({ status: 'RUNNING' });
    expect(simulator.requestCount).toBe(1);

    const fixture = await readFile(FIXTURE_URL, 'utf8');
    const { baseUrl: recorderUrl, requests } = await startServer((_request, response) =>
      json(response, 200, fixture),
    );
    await clientFor(recorderUrl, { auth: { kind: 'token', token: IAM_TOKEN } }).client.getJobStatus(JOB_ID);
    expect(requests[0]?.headers['x-auth-token']).toBe(IAM_TOKEN);
    expect(requests[0]?.headers.authorization).toBeUndefined();
  });

  it('fails with DliAuthError on a wrong secret key, after exactly one request (keys lock after 5 failures)', async () => {
    const { simulator, baseUrl } = await startSimulator();
    const { client, logLines } = clientFor(baseUrl, {
      auth: { ...AKSK, secretKey: 'SKwrongSecretValue' },
      retryLimit: 4,
    });
    const error = await failureOf(client.getJobStatus(JOB_ID));
    expect(error).toBeInstanceOf(DliAuthError);
    expect(error).toMatchObject({ kind: 'auth', status: 401, code: 'APIGW.0301', jobId: JOB_ID });
    expect(error.requestId).toMatch(/^[0-9a-f]{32}$/);
    expect(simulator.requestCount).toBe(1);
    expect(logLines).toEqual([]);
  });

  it('fails with DliAuthError on a rejected IAM token, without retrying', async () => {
    const { simulator, baseUrl } = await startSimulator();
    const { client } = clientFor(baseUrl, { auth: { kind: 'token', token: 'expired-token' }, retryLimit: 4 });
    const error = await failureOf(client.getJobStatus(JOB_ID));
    expect(error).toBeInstanceOf(DliAuthError);
    expect(simulator.requestCount).toBe(1);
  });
});

describe('status responses', () => {
  it('returns every field of the real example response as DLI sent it', async () => {
    const fixtureText = await readFile(FIXTURE_URL, 'utf8');
    const fixture = JSON.parse(fixtureText) as { job_id: string };
    const { baseUrl, requests } = await startServer((_request, response) => json(response, 200, fixtureText));
    const { client } = clientFor(baseUrl);
    const status = await client.getJobStatus(fixture.job_id);
    expect(status).toEqual(fixture);
    expect(requests.map((request) => `${request.method} ${request.url}`)).toEqual([
      `GET /v1.0/${PROJECT_ID}/jobs/${fixture.job_id}/status`,
    ]);
  });

  it('keeps fields DLI added later and accepts a status it does not document', async () => {
    const { baseUrl, simulator } = await startSimulator();
    simulator.addJob(JOB_ID, {
      lifecycle: ['COMPUTED'],
      fields: { engine_type: 'spark', cost: { cu_seconds: 42 }, tags: [{ key: 'team', value: 'bi' }] },
    });
    const status = await clientFor(baseUrl).client.getJobStatus(JOB_ID);
    expect(status.status).toBe('COMPUTED');
    expect(status).toMatchObject({
      job_id: JOB_ID,
      engine_type: 'spark',
      cost: { cu_seconds: 42 },
      tags: [{ key: 'team', value: 'bi' }],
    });
  });

  it('fails with DliMalformedResponseError on a body that is not JSON, without retrying', async () => {
    const { simulator, baseUrl } = await startSimulator();
    simulator.injectFault({ kind: 'malformed' });
    const error = await failureOf(clientFor(baseUrl).client.getJobStatus(JOB_ID));
    expect(error).toBeInstanceOf(DliMalformedResponseError);
    expect(error).toMatchObject({
      jobId: JOB_ID,
      status: 200,
      requestId: expect.stringMatching(/^[0-9a-f]{32}$/),
    });
    expect(error.cause).toBeInstanceOf(SyntaxError);
    expect(simulator.requestCount).toBe(1);
  });

  it('fails with DliMalformedResponseError naming the missing status field', async () => {
    const { simulator, baseUrl } = await startSimulator();
    simulator.injectFault({ kind: 'wrong-shape' });
    const error = await failureOf(clientFor(baseUrl).client.getJobStatus(JOB_ID));
    expect(error).toBeInstanceOf(DliMalformedResponseError);
    // Names the field (`status: …`), not just "the status response".
    expect(error.message).toMatch(/\bstatus: /);
    expect(error.message).not.toMatch(/\bjob_id\b/);
    expect(error.requestId).toMatch(/^[0-9a-f]{32}$/);
  });

  it("reports DLI's own message when it answers 200 with is_success false and no job", async () => {
    const { baseUrl } = await startServer((_request, response) =>
      json(
        response,
        200,
        { is_success: false, message: 'The job has expired and was cleaned up.' },
        {
          'x-request-id': 'req-is-success-false',
        },
      ),
    );
    const error = await failureOf(clientFor(baseUrl).client.getJobStatus(JOB_ID));
    expect(error).toBeInstanceOf(DliRequestError);
    expect(error.message).toContain('The job has expired and was cleaned up.');
    expect(error).toMatchObject({ jobId: JOB_ID, status: 200, requestId: 'req-is-success-false' });
  });

  it('fails with DliRequestError when a full status body says is_success false', async () => {
    const fixture = JSON.parse(await readFile(FIXTURE_URL, 'utf8')) as Record<string, unknown>;
    const { baseUrl } = await startServer((_request, response) =>
      json(response, 200, { ...fixture, is_success: false, message: 'Request rejected.' }),
    );
    const error = await failureOf(clientFor(baseUrl).client.getJobStatus(JOB_ID));
    expect(error).toBeInstanceOf(DliRequestError);
    expect(error.message).toContain('Request rejected.');
  });
});

describe('errors DLI answers with', () => {
  it('fails with DliJobNotFoundError (DLI.0002) for an unknown job, without retrying', async () => {
    const { simulator, baseUrl } = await startSimulator();
    const error = await failureOf(clientFor(baseUrl).client.getJobStatus('no-such-job'));
    expect(error).toBeInstanceOf(DliJobNotFoundError);
    expect(error).toMatchObject({ kind: 'not-found', code: 'DLI.0002', status: 400, jobId: 'no-such-job' });
    expect(error.requestId).toMatch(/^[0-9a-f]{32}$/);
    expect(simulator.requestCount).toBe(1);
  });

  it('carries the X-Request-Id header as requestId, or the body request_id when there is no header', async () => {
    let withHeader = true;
    const { baseUrl } = await startServer((_request, response) => {
      const body = { error_code: 'DLI.0002', error_msg: 'no such job', request_id: 'from-body' };
      json(response, 400, body, withHeader ? { 'X-Request-Id': 'from-header' } : {});
    });
    const { client } = clientFor(baseUrl);
    const fromHeader = await failureOf(client.getJobStatus(JOB_ID));
    expect(fromHeader.requestId).toBe('from-header');
    expect(fromHeader.toLogAttributes()).toMatchObject({
      error_kind: 'not-found',
      job_id: JOB_ID,
      http_status: 400,
      error_code: 'DLI.0002',
      request_id: 'from-header',
    });
    withHeader = false;
    const fromBody = await failureOf(client.getJobStatus(JOB_ID));
    expect(fromBody.requestId).toBe('from-body');
    expect(fromBody.toLogAttributes().request_id).toBe('from-body');
  });

  it('retries a 429 after its Retry-After, capped at maxRetryAfterMs, and then succeeds', async () => {
    const { simulator, baseUrl } = await startSimulator();
    simulator.injectFault({ kind: 'throttle', retryAfterSeconds: 1 });
    const { client } = clientFor(baseUrl, { maxRetryAfterMs: 200, backoffLimitMs: 5 });
    const startedAt = performance.now();
    await expect(client.getJobStatus(JOB_ID)).resolves.toMatchObject({ status: 'RUNNING' });
    const tookMs = performance.now() - startedAt;
    expect(simulator.requestCount).toBe(2);
    // Waited for the (capped) Retry-After, not the 5 ms backoff, and not the full second.
    expect(tookMs).toBeGreaterThanOrEqual(190);
    expect(tookMs).toBeLessThan(1000);
  });

  it('fails with DliThrottledError after retryLimit + 1 requests when every attempt is throttled', async () => {
    const { simulator, baseUrl } = await startSimulator();
    simulator.injectFault({ kind: 'throttle' }, { times: 10 });
    const { client, logLines } = clientFor(baseUrl, { retryLimit: 3 });
    const error = await failureOf(client.getJobStatus(JOB_ID));
    expect(error).toBeInstanceOf(DliThrottledError);
    expect(error).toMatchObject({ status: 429, code: 'APIGW.0308', jobId: JOB_ID });
    expect(error.requestId).toMatch(/^[0-9a-f]{32}$/);
    expect(simulator.requestCount).toBe(4);
    expect(logLines.map((line) => JSON.parse(line) as Record<string, unknown>)).toMatchObject([
      { level: 'DEBUG', message: 'retrying DLI request', retry: 1, reason: 'HTTP 429' },
      { retry: 2 },
      { retry: 3 },
    ]);
  });

  it.each([500, 502, 503] as const)('retries HTTP %s and succeeds when DLI recovers', async (status) => {
    const { simulator, baseUrl } = await startSimulator();
    simulator.injectFault({ kind: 'server-error', status }, { times: 2 });
    await expect(clientFor(baseUrl).client.getJobStatus(JOB_ID)).resolves.toMatchObject({
      status: 'RUNNING',
    });
    expect(simulator.requestCount).toBe(3);
  });

  it.each([500, 502, 503] as const)(
    'fails with DliServerError after retryLimit + 1 requests of HTTP %s',
    async (status) => {
      const { simulator, baseUrl } = await startSimulator();
      simulator.injectFault({ kind: 'server-error', status }, { times: 10 });
      const error = await failureOf(clientFor(baseUrl).client.getJobStatus(JOB_ID));
      expect(error).toBeInstanceOf(DliServerError);
      expect(error).toMatchObject({ status, code: 'DLI.0999', jobId: JOB_ID });
      expect(error.requestId).toMatch(/^[0-9a-f]{32}$/);
      expect(simulator.requestCount).toBe(3);
    },
  );

  it('retries DLI.0999 sent as HTTP 400 and succeeds when DLI recovers', async () => {
    const { simulator, baseUrl } = await startSimulator();
    simulator.injectFault({ kind: 'dli-server-error-400' });
    await expect(clientFor(baseUrl).client.getJobStatus(JOB_ID)).resolves.toMatchObject({
      status: 'RUNNING',
    });
    expect(simulator.requestCount).toBe(2);
  });

  it('fails with DliServerError after retrying DLI.0999 sent as HTTP 400', async () => {
    const { simulator, baseUrl } = await startSimulator();
    simulator.injectFault({ kind: 'dli-server-error-400' }, { times: 10 });
    const error = await failureOf(clientFor(baseUrl).client.getJobStatus(JOB_ID));
    expect(error).toBeInstanceOf(DliServerError);
    expect(error).toMatchObject({ status: 400, code: 'DLI.0999' });
    expect(simulator.requestCount).toBe(3);
  });

  it('fails with DliRequestError on any other 400 (DLI.0001), without retrying', async () => {
    const { baseUrl, requests } = await startServer((_request, response) =>
      json(
        response,
        400,
        { error_code: 'DLI.0001', error_msg: 'Parameter check failed.' },
        { 'X-Request-Id': 'req-0001' },
      ),
    );
    const error = await failureOf(clientFor(baseUrl, { retryLimit: 4 }).client.getJobStatus(JOB_ID));
    expect(error).toBeInstanceOf(DliRequestError);
    expect(error).toMatchObject({ status: 400, code: 'DLI.0001', requestId: 'req-0001', jobId: JOB_ID });
    expect(error.message).toContain('Parameter check failed.');
    expect(requests).toHaveLength(1);
  });

  it('fails with DliProjectError on 404 DLI.0023 (a project DLI does not know), without retrying', async () => {
    const { simulator, baseUrl } = await startSimulator({ projectId: 'fedcba9876543210fedcba9876543210' });
    const error = await failureOf(clientFor(baseUrl, { retryLimit: 4 }).client.getJobStatus(JOB_ID));
    expect(error).toBeInstanceOf(DliProjectError);
    expect(error.kind).toBe('project');
    expect(error).toMatchObject({ status: 404, code: 'DLI.0023', jobId: JOB_ID });
    expect(error.requestId).toMatch(/^[0-9a-f]{32}$/);
    expect(simulator.requestCount).toBe(1);
  });

  it('is a DliServerError, not a crash, when a proxy answers 502 with an HTML page', async () => {
    const { baseUrl, requests } = await startServer((_request, response) => {
      response.writeHead(502, { 'content-type': 'text/html' });
      response.end('<html><body>Bad Gateway</body></html>');
    });
    const error = await failureOf(clientFor(baseUrl).client.getJobStatus(JOB_ID));
    expect(error).toBeInstanceOf(DliServerError);
    expect(error).toMatchObject({ status: 502, code: undefined });
    expect(requests).toHaveLength(3);
  });
});

describe('connections', () => {
  it('keeps its connection alive under a short Keep-Alive hint (the simulator hints 1 s, as gateways do)', async () => {
    const { simulator, baseUrl } = await startSimulator();
    const { client } = clientFor(baseUrl);
    for (let index = 0; index < 60; index++) await client.getJobStatus(JOB_ID);
    expect(simulator.requestCount).toBe(60);
    // fetch's own dispatcher drops a socket whose hint is at or below 2 s: one connection per request. Kept
    // alive, the 60 requests share the first connection or two.
    expect(simulator.connectionCount).toBeLessThanOrEqual(2);
  });
});

describe('network failures', () => {
  it('retries a request that got no answer in time, and succeeds when DLI answers', async () => {
    const { simulator, baseUrl } = await startSimulator();
    simulator.injectFault({ kind: 'timeout' });
    const { client } = clientFor(baseUrl, { timeoutMs: 150 });
    await expect(client.getJobStatus(JOB_ID)).resolves.toMatchObject({ status: 'RUNNING' });
    expect(simulator.requestCount).toBe(2);
  });

  it('fails with DliNetworkError after retryLimit + 1 timed-out requests', async () => {
    const { simulator, baseUrl } = await startSimulator();
    simulator.injectFault({ kind: 'timeout' }, { times: 10 });
    const { client } = clientFor(baseUrl, { timeoutMs: 100 });
    const startedAt = performance.now();
    const error = await failureOf(client.getJobStatus(JOB_ID));
    expect(error).toBeInstanceOf(DliNetworkError);
    expect(error).toMatchObject({ kind: 'network', jobId: JOB_ID, status: undefined });
    expect(error.message).toMatch(/did not answer in time/);
    expect(simulator.requestCount).toBe(3);
    expect(performance.now() - startedAt).toBeLessThan(2_000);
  });

  it('fails with DliNetworkError naming ECONNREFUSED, without the URL, when nothing listens', async () => {
    const port = await closedPort();
    const { client, logLines } = clientFor(`http://127.0.0.1:${port}`);
    const error = await failureOf(client.getJobStatus(JOB_ID));
    expect(error).toBeInstanceOf(DliNetworkError);
    expect(error.message).toContain('ECONNREFUSED');
    expect(error.message).not.toContain(String(port));
    expect(error.message).not.toContain('127.0.0.1');
    expect(error.message).not.toContain(PROJECT_ID);
    expect(error.jobId).toBe(JOB_ID);
    // Refused connections are retried like any network failure.
    expect(logLines.map((line) => (JSON.parse(line) as { reason: string }).reason)).toEqual([
      'ECONNREFUSED',
      'ECONNREFUSED',
    ]);
  });

  it('stops with DliCancelledError, not a network failure, when the caller cancels', async () => {
    const { simulator, baseUrl } = await startSimulator();
    simulator.injectFault({ kind: 'timeout' }, { times: 10 });
    const controller = new AbortController();
    const call = clientFor(baseUrl).client.getJobStatus(JOB_ID, { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    const error = await failureOf(call);
    expect(error).toBeInstanceOf(DliCancelledError);
    expect(error.kind).toBe('cancelled');
    expect(error.message).toMatch(/cancelled/);
    expect(simulator.requestCount).toBe(1);
  });
});

describe('secrets', () => {
  it('never puts the secret key or the security token in an error message or a log line', async () => {
    const { simulator, baseUrl } = await startSimulator();
    simulator.injectFault({ kind: 'throttle' }, { times: 3 });
    simulator.injectFault({ kind: 'server-error', status: 503 }, { times: 3 });
    simulator.injectFault({ kind: 'timeout' }, { times: 3 });
    simulator.injectFault({ kind: 'auth' });
    simulator.injectFault({ kind: 'malformed' });
    simulator.injectFault({ kind: 'wrong-shape' });
    const { client, logLines } = clientFor(baseUrl, { auth: AKSK_WITH_TOKEN, timeoutMs: 100 });
    const wrongKey = clientFor(baseUrl, { auth: { ...AKSK_WITH_TOKEN, secretKey: `${SECRET_KEY}x` } });
    const errors: DliError[] = [];
    for (let attempt = 0; attempt < 6; attempt++) errors.push(await failureOf(client.getJobStatus(JOB_ID)));
    errors.push(await failureOf(client.getJobStatus('no-such-job')));
    errors.push(await failureOf(wrongKey.client.getJobStatus(JOB_ID)));

    expect(errors.map((error) => error.kind)).toEqual([
      'throttled',
      'server',
      'network',
      'auth',
      'malformed',
      'malformed',
      'not-found',
      'auth',
    ]);
    expect(logLines.length).toBeGreaterThan(0);
    const everything = [
      ...logLines,
      ...wrongKey.logLines,
      ...errors.flatMap((error) => [...messagesOf(error), JSON.stringify(error.toLogAttributes())]),
    ].join('\n');
    expect(everything).not.toContain(SECRET_KEY);
    expect(everything).not.toContain(SECURITY_TOKEN);
  });

  it('never repeats the IAM token or the security token even when the server echoes it back', async () => {
    const { baseUrl } = await startServer((request, response) => {
      const credential = request.headers['x-auth-token'] ?? request.headers['x-security-token'];
      json(response, 401, {
        error_code: 'APIGW.0301',
        error_msg: `Incorrect IAM authentication information: token ${String(credential)} has expired`,
      });
    });
    const byToken = await failureOf(
      clientFor(baseUrl, { auth: { kind: 'token', token: IAM_TOKEN } }).client.getJobStatus(JOB_ID),
    );
    const bySecurityToken = await failureOf(
      clientFor(baseUrl, { auth: AKSK_WITH_TOKEN }).client.getJobStatus(JOB_ID),
    );
    for (const error of [byToken, bySecurityToken]) {
      expect(error).toBeInstanceOf(DliAuthError);
      expect(error.message).toContain('has expired');
      expect(error.message).not.toContain(IAM_TOKEN);
      expect(error.message).not.toContain(SECURITY_TOKEN);
    }
  });
});

describe('rate limiting', () => {
  it('asks the rate limiter before the first request and before every retry', async () => {
    const { simulator, baseUrl } = await startSimulator();
    simulator.injectFault({ kind: 'throttle' }, { times: 2 });
    const clock = createTestClock();
    const rateLimiter = countingLimiter(createRateLimiter({ ratePerSecond: 10, burst: 1, clock }));
    const { client } = clientFor(baseUrl, { rateLimiter });
    await expect(client.getJobStatus(JOB_ID)).resolves.toMatchObject({ status: 'RUNNING' });
    expect(simulator.requestCount).toBe(3);
    expect(rateLimiter.acquisitions).toBe(3);
    // Three requests at 10/s with no burst: the retries waited 100 ms each for their turn.
    expect(clock.elapsed).toBe(200);
  });

  it('makes a retry after a timeout wait its turn too', async () => {
    const { simulator, baseUrl } = await startSimulator();
    simulator.injectFault({ kind: 'timeout' }, { times: 2 });
    const clock = createTestClock();
    const rateLimiter = countingLimiter(createRateLimiter({ ratePerSecond: 10, burst: 1, clock }));
    const { client } = clientFor(baseUrl, { rateLimiter, timeoutMs: 100 });
    await expect(client.getJobStatus(JOB_ID)).resolves.toMatchObject({ status: 'RUNNING' });
    expect(simulator.requestCount).toBe(3);
    expect(rateLimiter.acquisitions).toBe(3);
    expect(clock.elapsed).toBe(200);
  });

  it('shares one limit across concurrent polls of different jobs', async () => {
    const { simulator, baseUrl } = await startSimulator({
      jobFactory: (jobId) => (jobId.startsWith('job-') ? { lifecycle: ['RUNNING'] } : undefined),
    });
    const clock = createTestClock();
    const rateLimiter = countingLimiter(createRateLimiter({ ratePerSecond: 10, burst: 1, clock }));
    const { client } = clientFor(baseUrl, { rateLimiter });
    const jobIds = Array.from({ length: 5 }, (_, index) => `job-${index}`);
    const statuses = await Promise.all(jobIds.map((jobId) => client.getJobStatus(jobId)));
    expect(statuses.map((status) => status.job_id)).toEqual(jobIds);
    expect(rateLimiter.acquisitions).toBe(5);
    expect(simulator.requestCount).toBe(5);
    expect(clock.elapsed).toBe(400);
  });
});

describe('the job list', () => {
  async function withListedJobs(count: number) {
    const started = await startSimulator();
    for (let index = 0; index < count; index++) {
      started.simulator.addJob(`listed-${String(index).padStart(3, '0')}`, {
        lifecycle: ['RUNNING'],
        fields: { start_time: 1_700_000_000_000 + index * 1000, queue_name: index % 2 ? 'etl' : 'bi' },
      });
    }
    return started;
  }

  it('reads a page of the list, signed, with job_count and the rows as DLI writes them', async () => {
    const { baseUrl } = await withListedJobs(5);
    const { client } = clientFor(baseUrl);
    const page = await client.listJobs({ pageSize: 2, order: 'start_time_asc', queue: 'etl' });
    expect(page.job_count).toBe(2);
    expect(page.jobs.map((job) => job.job_id)).toEqual(['listed-001', 'listed-003']);
    expect(page.jobs[0]).toMatchObject({ status: 'RUNNING', queue_name: 'etl' });
    expect(page.jobs[0]).not.toHaveProperty('job_mode');
  });

  it('passes the start-time window and the page through as DLI names them', async () => {
    const { baseUrl } = await withListedJobs(5);
    const { client } = clientFor(baseUrl);
    const page = await client.listJobs({
      start: 1_700_000_001_000,
      end: 1_700_000_003_000,
      order: 'start_time_asc',
      pageSize: 2,
      currentPage: 2,
    });
    expect(page.job_count).toBe(3);
    expect(page.jobs.map((job) => job.job_id)).toEqual(['listed-003']);
  });

  it('a page past 100 is DLI.0001: a DliRequestError, not retried', async () => {
    const { simulator, baseUrl } = await withListedJobs(1);
    const error = await failureOf(clientFor(baseUrl).client.listJobs({ currentPage: 101 }));
    expect(error).toBeInstanceOf(DliRequestError);
    expect(error).toMatchObject({ status: 400, code: 'DLI.0001' });
    expect(simulator.requestCount).toBe(1);
  });

  it('retries a throttled list call, and calls a garbled one malformed', async () => {
    const { simulator, baseUrl } = await withListedJobs(2);
    simulator.injectFault({ kind: 'throttle' });
    const { client } = clientFor(baseUrl);
    // The two listed, and the job every simulator of this file starts with.
    expect((await client.listJobs({})).job_count).toBe(3);
    expect(simulator.requestCount).toBe(2);
    simulator.injectFault({ kind: 'malformed' });
    expect(await failureOf(client.listJobs({}))).toBeInstanceOf(DliMalformedResponseError);
  });
});
