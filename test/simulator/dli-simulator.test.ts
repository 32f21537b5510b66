import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { jobStatusResponseSchema } from '../../lib/dli/schemas.ts';
import { signRequest } from '../../lib/dli/signer.ts';
import {
  createDliSimulator,
  type DliSimulator,
  type DliSimulatorOptions,
  randomLifecycle,
} from '../../lib/simulator/dli-simulator.ts';

const PROJECT_ID = '0123456789abcdef0123456789abcdef';
const JOB_ID = '6d2146a0-c2d5-41bd-8ca0-ca9694ada992';
const OTHER_JOB_ID = '208b08d4-0dc2-4dd7-8879-ddd4c020d7aa';
const CREDENTIALS = { accessKey: 'AKSIMULATOREXAMPLE', secretKey: 'SKsimulatorExampleSecret' };
const NOW = Date.UTC(2024, 0, 2, 3, 4, 5);
const MINUTE = 60_000;

const simulators: DliSimulator[] = [];

async function startSimulator(
  options: Partial<DliSimulatorOptions> = {},
): Promise<{ simulator: DliSimulator; baseUrl: string }> {
  const simulator = createDliSimulator({ projectId: PROJECT_ID, now: () => NOW, ...options });
  simulators.push(simulator);
  return { simulator, baseUrl: await simulator.start() };
}

afterEach(async () => {
  await Promise.all(simulators.splice(0).map((simulator) => simulator.close()));
});

function statusUrl(baseUrl: string, jobId: string, projectId = PROJECT_ID): string {
  return `${baseUrl}/v1.0/${projectId}/jobs/${jobId}/status`;
}

/** Headers the way the production client sends them: signed with the real signer. */
function signedHeaders(
  url: string,
  options: { date?: Date; credentials?: typeof CREDENTIALS; projectHeader?: string } = {},
): Record<string, string> {
  const headers = { 'Content-Type': 'application/json', 'X-Project-Id': options.projectHeader ?? PROJECT_ID };
  const signed = signRequest(
    { method: 'GET', url, headers },
    options.credentials ?? CREDENTIALS,
    options.date ?? new Date(NOW),
  );
  const all: Record<string, string> = { ...headers, ...signed };
  // fetch derives Host from the URL itself, exactly as the signer did.
  for (const name of Object.keys(all)) if (name.toLowerCase() === 'host') delete all[name];
  return all;
}

async function expectGatewayAuthError(response: Response): Promise<Record<string, unknown>> {
  expect(response.status).toBe(401);
  const body = (await response.json()) as Record<string, unknown>;
  expect(body).toEqual({
    error_code: 'APIGW.0301',
    error_msg: expect.stringMatching(/^Incorrect IAM authentication information: .+/),
    request_id: response.headers.get('x-request-id'),
  });
  return body;
}

describe('DLI simulator: authentication', () => {
  it('accepts a request signed with the configured AK/SK', async () => {
    const { simulator, baseUrl } = await startSimulator({ credentials: CREDENTIALS });
    simulator.addJob(JOB_ID, { lifecycle: ['RUNNING'] });
    const url = statusUrl(baseUrl, JOB_ID);

    const response = await fetch(url, { headers: signedHeaders(url) });

    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ job_id: JOB_ID, status: 'RUNNING' });
  });

  it('accepts a query string when it was signed', async () => {
    const { simulator, baseUrl } = await startSimulator({ credentials: CREDENTIALS });
    simulator.addJob(JOB_ID, { lifecycle: ['RUNNING'] });
    const url = `${statusUrl(baseUrl, JOB_ID)}?trace=a%20b`;

    const response = await fetch(url, { headers: signedHeaders(url) });

    expect(response.status).toBe(200);
  });

  it('rejects a request whose path differs from the one signed', async () => {
    const { simulator, baseUrl } = await startSimulator({ credentials: CREDENTIALS });
    simulator.addJob(OTHER_JOB_ID, { lifecycle: ['RUNNING'] });

    const response = await fetch(statusUrl(baseUrl, OTHER_JOB_ID), {
      headers: signedHeaders(statusUrl(baseUrl, JOB_ID)),
    });

    await expectGatewayAuthError(response);
    expect(simulator.pollCount(OTHER_JOB_ID)).toBe(0);
  });

  it('rejects an unsigned request', async () => {
    const { baseUrl } = await startSimulator({ credentials: CREDENTIALS });

    const response = await fetch(statusUrl(baseUrl, JOB_ID), { headers: { 'X-Project-Id': PROJECT_ID } });

    await expectGatewayAuthError(response);
  });

  it('rejects a signature made with another secret key, without echoing any key', async () => {
    const { baseUrl } = await startSimulator({ credentials: CREDENTIALS });
    const url = statusUrl(baseUrl, JOB_ID);
    const wrongSecret = 'SKsomebodyElsesSecret';

    const response = await fetch(url, {
      headers: signedHeaders(url, { credentials: { ...CREDENTIALS, secretKey: wrongSecret } }),
    });

    const body = await expectGatewayAuthError(response);
    expect(JSON.stringify(body)).not.toContain(wrongSecret);
    expect(JSON.stringify(body)).not.toContain(CREDENTIALS.secretKey);
  });

  it('rejects an unknown access key', async () => {
    const { baseUrl } = await startSimulator({ credentials: CREDENTIALS });
    const url = statusUrl(baseUrl, JOB_ID);

    const response = await fetch(url, {
      headers: signedHeaders(url, { credentials: { ...CREDENTIALS, accessKey: 'AKUNKNOWN' } }),
    });

    await expectGatewayAuthError(response);
  });

  it('rejects an X-Sdk-Date more than 15 minutes from its clock, accepts one within', async () => {
    const { simulator, baseUrl } = await startSimulator({ credentials: CREDENTIALS });
    simulator.addJob(JOB_ID, { lifecycle: ['RUNNING'] });
    const url = statusUrl(baseUrl, JOB_ID);

    const stale = await fetch(url, { headers: signedHeaders(url, { date: new Date(NOW - 16 * MINUTE) }) });
    const future = await fetch(url, { headers: signedHeaders(url, { date: new Date(NOW + 16 * MINUTE) }) });
    const slightlyOff = await fetch(url, {
      headers: signedHeaders(url, { date: new Date(NOW - 14 * MINUTE) }),
    });

    const staleBody = await expectGatewayAuthError(stale);
    expect(staleBody.error_msg).toContain('X-Sdk-Date');
    await expectGatewayAuthError(future);
    expect(slightlyOff.status).toBe(200);
  });

  it('rejects a signed request whose X-Project-Id is not the project in the path', async () => {
    const { simulator, baseUrl } = await startSimulator({ credentials: CREDENTIALS });
    simulator.addJob(JOB_ID, { lifecycle: ['RUNNING'] });
    const url = statusUrl(baseUrl, JOB_ID);

    const response = await fetch(url, { headers: signedHeaders(url, { projectHeader: 'fedcba9876543210' }) });

    await expectGatewayAuthError(response);
  });

  it('accepts a configured X-Auth-Token and rejects any other without echoing it', async () => {
    const { simulator, baseUrl } = await startSimulator({
      credentials: CREDENTIALS,
      tokens: ['MIIvalidToken'],
    });
    simulator.addJob(JOB_ID, { lifecycle: ['RUNNING'] });
    const url = statusUrl(baseUrl, JOB_ID);

    const accepted = await fetch(url, { headers: { 'X-Auth-Token': 'MIIvalidToken' } });
    const rejected = await fetch(url, { headers: { 'X-Auth-Token': 'MIIrevokedToken' } });

    expect(accepted.status).toBe(200);
    const body = await expectGatewayAuthError(rejected);
    expect(JSON.stringify(body)).not.toContain('MIIrevokedToken');
  });

  it('needs no authentication when neither credentials nor tokens are configured', async () => {
    const { simulator, baseUrl } = await startSimulator();
    simulator.addJob(JOB_ID, { lifecycle: ['RUNNING'] });

    const response = await fetch(statusUrl(baseUrl, JOB_ID));

    expect(response.status).toBe(200);
  });
});

describe('DLI simulator: job status', () => {
  it('walks the lifecycle one poll at a time and repeats the last status', async () => {
    const { simulator, baseUrl } = await startSimulator();
    simulator.addJob(JOB_ID, { lifecycle: ['LAUNCHING', 'RUNNING', 'RUNNING', 'FAILED'] });

    const bodies: Record<string, unknown>[] = [];
    for (let poll = 0; poll < 6; poll++) {
      bodies.push((await (await fetch(statusUrl(baseUrl, JOB_ID))).json()) as Record<string, unknown>);
    }

    expect(bodies.map((body) => body.status)).toEqual([
      'LAUNCHING',
      'RUNNING',
      'RUNNING',
      'FAILED',
      'FAILED',
      'FAILED',
    ]);
    expect(simulator.pollCount(JOB_ID)).toBe(6);
    const durations = bodies.map((body) => body.duration as number);
    expect(durations[3]).toBeGreaterThan(durations[1] ?? Infinity);
    expect(durations[1]).toBeGreaterThan(durations[0] ?? Infinity);
    expect(durations[5]).toBe(durations[3]);
    expect(new Set(bodies.map((body) => body.start_time)).size).toBe(1);
  });

  it('answers with exactly the documented field set, like the real FINISHED example', async () => {
    const fixture = JSON.parse(
      await readFile(new URL('../fixtures/dli/status-finished.json', import.meta.url), 'utf8'),
    ) as Record<string, unknown>;
    const { simulator, baseUrl } = await startSimulator();
    simulator.addJob(JOB_ID, { lifecycle: ['FINISHED'] });

    const response = await fetch(statusUrl(baseUrl, JOB_ID));
    const body = (await response.json()) as Record<string, unknown>;

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(Object.keys(body)).toEqual(Object.keys(fixture));
    for (const [field, value] of Object.entries(fixture)) expect(typeof body[field]).toBe(typeof value);
    expect(body).toMatchObject({ is_success: true, message: '', job_mode: 'async', job_type: 'QUERY' });
    expect(body.start_time).toBeLessThan(NOW);
    expect(body.result_count).toBeGreaterThan(0);
    expect(JSON.parse(body.detail as string)).toMatchObject({ type: 'struct', fields: expect.any(Array) });
    expect(jobStatusResponseSchema.safeParse(body).success).toBe(true);
  });

  it('applies field overrides, reports the failure message only once failed, and passes unknown fields', async () => {
    const { simulator, baseUrl } = await startSimulator();
    simulator.addJob(JOB_ID, {
      lifecycle: ['RUNNING', 'FAILED'],
      fields: {
        job_type: 'INSERT',
        queue_name: 'etl_queue',
        owner: 'alice',
        statement: 'INSERT INTO t SELECT 1',
        message: 'DLI.0005: AnalysisException: Table or view not found: sales.orders_2024;',
        tags: [{ key: 'team', value: 'finance' }],
        engine_version: 'spark-3.3.1',
      },
    });

    const running = (await (await fetch(statusUrl(baseUrl, JOB_ID))).json()) as Record<string, unknown>;
    const failed = (await (await fetch(statusUrl(baseUrl, JOB_ID))).json()) as Record<string, unknown>;

    expect(running).toMatchObject({
      status: 'RUNNING',
      message: '',
      queue_name: 'etl_queue',
      owner: 'alice',
    });
    expect(failed).toMatchObject({
      status: 'FAILED',
      message: 'DLI.0005: AnalysisException: Table or view not found: sales.orders_2024;',
      job_type: 'INSERT',
      statement: 'INSERT INTO t SELECT 1',
      tags: [{ key: 'team', value: 'finance' }],
      engine_version: 'spark-3.3.1',
      input_row_count: expect.any(Number),
      bad_row_count: 0,
    });
    expect(failed).not.toHaveProperty('database_name');
    expect(failed).not.toHaveProperty('table_name');
  });

  it('answers an unknown job with DLI.0002 over HTTP 400', async () => {
    const { baseUrl } = await startSimulator();

    const response = await fetch(statusUrl(baseUrl, JOB_ID));

    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error_code: 'DLI.0002',
      error_msg: `The job ${JOB_ID} does not exist.`,
    });
  });

  it('forgets a removed job and restarts a re-added one', async () => {
    const { simulator, baseUrl } = await startSimulator();
    simulator.addJob(JOB_ID, { lifecycle: ['RUNNING', 'FINISHED'] });
    await fetch(statusUrl(baseUrl, JOB_ID));

    simulator.removeJob(JOB_ID);
    const removed = await fetch(statusUrl(baseUrl, JOB_ID));
    simulator.addJob(JOB_ID, { lifecycle: ['LAUNCHING', 'FINISHED'] });
    const readded = (await (await fetch(statusUrl(baseUrl, JOB_ID))).json()) as Record<string, unknown>;

    expect(removed.status).toBe(400);
    expect(readded.status).toBe('LAUNCHING');
    expect(simulator.pollCount(JOB_ID)).toBe(1);
  });

  it('answers another project, an unknown route or another method with 404 DLI.0023', async () => {
    const { simulator, baseUrl } = await startSimulator();
    simulator.addJob(JOB_ID, { lifecycle: ['RUNNING'] });

    const responses = await Promise.all([
      fetch(statusUrl(baseUrl, JOB_ID, 'fedcba9876543210')),
      // The list (GET /jobs) is a route of its own now; queues are not simulated.
      fetch(`${baseUrl}/v1.0/${PROJECT_ID}/queues`),
      fetch(`${baseUrl}/`),
      fetch(statusUrl(baseUrl, JOB_ID), { method: 'DELETE' }),
    ]);

    for (const response of responses) {
      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({ error_code: 'DLI.0023', error_msg: expect.any(String) });
    }
    expect(simulator.pollCount(JOB_ID)).toBe(0);
  });

  it('puts a unique X-Request-Id and a JSON content type on every response', async () => {
    const { simulator, baseUrl } = await startSimulator();
    simulator.addJob(JOB_ID, { lifecycle: ['RUNNING'] });
    simulator.injectFault({ kind: 'throttle' });

    const responses = await Promise.all([
      fetch(statusUrl(baseUrl, JOB_ID)),
      fetch(statusUrl(baseUrl, JOB_ID)),
      fetch(statusUrl(baseUrl, OTHER_JOB_ID)),
      fetch(`${baseUrl}/nowhere`),
    ]);

    const requestIds = responses.map((response) => response.headers.get('x-request-id'));
    expect(requestIds.every((id) => typeof id === 'string' && id.length >= 16)).toBe(true);
    expect(new Set(requestIds).size).toBe(responses.length);
    expect(responses.map((response) => response.headers.get('content-type'))).toEqual(
      responses.map(() => 'application/json'),
    );
    expect(responses.map((response) => response.status).sort()).toEqual([200, 400, 404, 429]);
  });

  it('serves jobs from the job factory, keeping only a poll counter for them', async () => {
    const factoryCalls: string[] = [];
    const { simulator, baseUrl } = await startSimulator({
      jobFactory: (jobId) => {
        factoryCalls.push(jobId);
        return jobId.startsWith('bench-') ? { lifecycle: ['RUNNING', 'FINISHED'] } : undefined;
      },
    });
    simulator.addJob('bench-explicit', { lifecycle: ['CANCELLED'] });

    const first = (await (await fetch(statusUrl(baseUrl, 'bench-00001'))).json()) as Record<string, unknown>;
    const second = (await (await fetch(statusUrl(baseUrl, 'bench-00001'))).json()) as Record<string, unknown>;
    const other = (await (await fetch(statusUrl(baseUrl, 'bench-00002'))).json()) as Record<string, unknown>;
    const explicit = (await (await fetch(statusUrl(baseUrl, 'bench-explicit'))).json()) as Record<
      string,
      unknown
    >;
    const unknown = await fetch(statusUrl(baseUrl, 'not-a-bench-job'));

    expect([first.status, second.status, other.status, explicit.status]).toEqual([
      'RUNNING',
      'FINISHED',
      'RUNNING',
      'CANCELLED',
    ]);
    expect(first.start_time).toBe(second.start_time);
    expect(unknown.status).toBe(400);
    expect(simulator.pollCount('bench-00001')).toBe(2);
    expect(factoryCalls).not.toContain('bench-explicit');
  });
});

describe('DLI simulator: faults', () => {
  async function fetchJson(url: string): Promise<{ response: Response; body: unknown }> {
    const response = await fetch(url);
    return { response, body: await response.json() };
  }

  it('throttles with 429 APIGW.0308 and Retry-After when asked', async () => {
    const { simulator, baseUrl } = await startSimulator();
    simulator.addJob(JOB_ID, { lifecycle: ['RUNNING'] });
    simulator.injectFault({ kind: 'throttle', retryAfterSeconds: 3 });
    simulator.injectFault({ kind: 'throttle' });

    const withHint = await fetchJson(statusUrl(baseUrl, JOB_ID));
    const withoutHint = await fetchJson(statusUrl(baseUrl, JOB_ID));

    expect(withHint.response.status).toBe(429);
    expect(withHint.response.headers.get('retry-after')).toBe('3');
    expect(withHint.body).toEqual({
      error_code: 'APIGW.0308',
      error_msg: expect.stringMatching(
        /^The throttling threshold has been reached: policy user over ratelimit,limit:\d+,time:1 minute$/,
      ),
      request_id: withHint.response.headers.get('x-request-id'),
    });
    expect(withoutHint.response.status).toBe(429);
    expect(withoutHint.response.headers.has('retry-after')).toBe(false);
  });

  it('answers server errors with DLI.0999, over 5xx or over 400 as DLI really does', async () => {
    const { simulator, baseUrl } = await startSimulator();
    simulator.addJob(JOB_ID, { lifecycle: ['RUNNING'] });
    simulator.injectFault({ kind: 'server-error' });
    simulator.injectFault({ kind: 'server-error', status: 503 });
    simulator.injectFault({ kind: 'dli-server-error-400' });

    const results = [];
    for (let attempt = 0; attempt < 3; attempt++) results.push(await fetchJson(statusUrl(baseUrl, JOB_ID)));

    expect(results.map(({ response }) => response.status)).toEqual([500, 503, 400]);
    for (const { body } of results) {
      expect(body).toEqual({ error_code: 'DLI.0999', error_msg: expect.any(String) });
    }
  });

  it('answers 401 APIGW.0301 for an auth fault even to a well-signed request', async () => {
    const { simulator, baseUrl } = await startSimulator({ credentials: CREDENTIALS });
    simulator.addJob(JOB_ID, { lifecycle: ['RUNNING'] });
    simulator.injectFault({ kind: 'auth' });
    const url = statusUrl(baseUrl, JOB_ID);

    await expectGatewayAuthError(await fetch(url, { headers: signedHeaders(url) }));
    expect((await fetch(url, { headers: signedHeaders(url) })).status).toBe(200);
  });

  it('sends a truncated JSON body for a malformed fault', async () => {
    const { simulator, baseUrl } = await startSimulator();
    simulator.addJob(JOB_ID, { lifecycle: ['RUNNING'] });
    simulator.injectFault({ kind: 'malformed' });

    const response = await fetch(statusUrl(baseUrl, JOB_ID));
    const text = await response.text();

    expect(response.status).toBe(200);
    expect(text.startsWith('{"is_success":true')).toBe(true);
    expect(() => JSON.parse(text)).toThrow(SyntaxError);
  });

  it('sends valid JSON without a status for a wrong-shape fault', async () => {
    const { simulator, baseUrl } = await startSimulator();
    simulator.addJob(JOB_ID, { lifecycle: ['RUNNING'] });
    simulator.injectFault({ kind: 'wrong-shape' });

    const { response, body } = await fetchJson(statusUrl(baseUrl, JOB_ID));

    expect(response.status).toBe(200);
    expect(body).toMatchObject({ is_success: true, job_id: JOB_ID });
    expect(body).not.toHaveProperty('status');
    expect(jobStatusResponseSchema.safeParse(body).success).toBe(false);
  });

  it('applies a fault `times` times, then behaves, without advancing the lifecycle meanwhile', async () => {
    const { simulator, baseUrl } = await startSimulator();
    simulator.addJob(JOB_ID, { lifecycle: ['LAUNCHING', 'RUNNING', 'FINISHED'] });
    simulator.injectFault({ kind: 'server-error', status: 502 }, { times: 2 });

    const statuses = [];
    for (let attempt = 0; attempt < 4; attempt++) {
      const response = await fetch(statusUrl(baseUrl, JOB_ID));
      statuses.push(response.ok ? ((await response.json()) as { status: string }).status : response.status);
    }

    expect(statuses).toEqual([502, 502, 'LAUNCHING', 'RUNNING']);
    expect(simulator.pollCount(JOB_ID)).toBe(2);
    expect(simulator.requestCount).toBe(4);
  });

  it('limits a job-scoped fault to that job', async () => {
    const { simulator, baseUrl } = await startSimulator();
    simulator.addJob(JOB_ID, { lifecycle: ['RUNNING'] });
    simulator.addJob(OTHER_JOB_ID, { lifecycle: ['RUNNING'] });
    simulator.injectFault({ kind: 'throttle' }, { jobId: OTHER_JOB_ID });

    const unaffected = await fetch(statusUrl(baseUrl, JOB_ID));
    const affected = await fetch(statusUrl(baseUrl, OTHER_JOB_ID));
    const recovered = await fetch(statusUrl(baseUrl, OTHER_JOB_ID));

    expect([unaffected.status, affected.status, recovered.status]).toEqual([200, 429, 200]);
  });

  it('never answers a timeout fault: the client gives up, and the next request is served', async () => {
    const { simulator, baseUrl } = await startSimulator();
    simulator.addJob(JOB_ID, { lifecycle: ['RUNNING'] });
    simulator.injectFault({ kind: 'timeout' });

    const timedOut = fetch(statusUrl(baseUrl, JOB_ID), { signal: AbortSignal.timeout(100) });

    await expect(timedOut).rejects.toMatchObject({ name: 'TimeoutError' });
    expect((await fetch(statusUrl(baseUrl, JOB_ID))).status).toBe(200);
    expect(simulator.pollCount(JOB_ID)).toBe(1);
  });

  it('close() does not wait for a request held by a timeout fault', async () => {
    const { simulator, baseUrl } = await startSimulator();
    simulator.injectFault({ kind: 'timeout' });
    const held = fetch(statusUrl(baseUrl, JOB_ID)).then(
      () => 'answered',
      () => 'connection dropped',
    );
    // Wait (event-driven) until the held request is inside the server.
    while (simulator.requestCount === 0) await new Promise((resolve) => setImmediate(resolve));

    await simulator.close();

    expect(await held).toBe('connection dropped');
  });
});

describe('DLI simulator: load', () => {
  it('measures the peak number of concurrent requests', async () => {
    const { simulator, baseUrl } = await startSimulator({ latencyMs: 100 });
    simulator.addJob(JOB_ID, { lifecycle: ['RUNNING'] });

    const responses = await Promise.all(Array.from({ length: 8 }, () => fetch(statusUrl(baseUrl, JOB_ID))));

    expect(responses.every((response) => response.status === 200)).toBe(true);
    expect(simulator.maxInFlight).toBe(8);
    expect(simulator.requestCount).toBe(8);
  });

  it('sees one request in flight at a time from a sequential client', async () => {
    const { simulator, baseUrl } = await startSimulator({ latencyMs: 5 });
    simulator.addJob(JOB_ID, { lifecycle: ['RUNNING'] });

    for (let poll = 0; poll < 3; poll++) await (await fetch(statusUrl(baseUrl, JOB_ID))).text();

    expect(simulator.maxInFlight).toBe(1);
  });
});

describe('randomLifecycle', () => {
  /** mulberry32: a tiny seeded PRNG so the assertions see the same jobs every run. */
  function seededRandom(seed: number): () => number {
    let state = seed;
    return () => {
      state = (state + 0x6d2b79f5) | 0;
      let mixed = Math.imul(state ^ (state >>> 15), 1 | state);
      mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed;
      return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
    };
  }

  it('produces jobs that launch, run, and end FINISHED, FAILED (with a DLI reason) or CANCELLED', () => {
    const random = seededRandom(42);
    const jobs = Array.from({ length: 300 }, () => randomLifecycle(random));

    const outcomes = new Set(jobs.map((job) => job.lifecycle.at(-1)));
    expect([...outcomes].sort()).toEqual(['CANCELLED', 'FAILED', 'FINISHED']);
    for (const job of jobs) {
      expect(job.lifecycle[0]).toBe('LAUNCHING');
      expect(job.lifecycle).toContain('RUNNING');
      if (job.lifecycle.at(-1) === 'FAILED') expect(job.fields?.message).toMatch(/^DLI\.\d{4}: \S/);
      else expect(job.fields?.message).toBeUndefined();
    }
  });

  it('yields jobs the simulator serves as valid status bodies', async () => {
    const random = seededRandom(7);
    const { simulator, baseUrl } = await startSimulator();
    const job = randomLifecycle(random);
    simulator.addJob(JOB_ID, job);

    const statuses: string[] = [];
    for (let poll = 0; poll < job.lifecycle.length; poll++) {
      const body: unknown = await (await fetch(statusUrl(baseUrl, JOB_ID))).json();
      statuses.push(jobStatusResponseSchema.parse(body).status);
    }

    expect(statuses).toEqual(job.lifecycle);
  });
});

describe('DLI simulator: the job list (docs/dli-api.md §2a)', () => {
  function listUrl(baseUrl: string, query: Record<string, string | number> = {}): string {
    const params = new URLSearchParams(
      Object.entries(query).map(([key, value]): [string, string] => [key, String(value)]),
    );
    return `${baseUrl}/v1.0/${PROJECT_ID}/jobs${params.size > 0 ? `?${params}` : ''}`;
  }

  interface ListAnswer {
    is_success: boolean;
    job_count: number;
    jobs: Record<string, unknown>[];
    error_code?: string;
  }

  async function list(baseUrl: string, query: Record<string, string | number> = {}) {
    const url = listUrl(baseUrl, query);
    const response = await fetch(url, { headers: signedHeaders(url) });
    return { status: response.status, body: (await response.json()) as ListAnswer };
  }

  /** Jobs started a minute apart, `count` of them, the newest a minute before NOW. */
  async function startWithJobs(
    count: number,
    fields: (index: number) => Record<string, unknown> = () => ({}),
  ) {
    const started = await startSimulator({ credentials: CREDENTIALS });
    for (let index = 0; index < count; index++) {
      started.simulator.addJob(`job-${String(index).padStart(4, '0')}`, {
        lifecycle: ['RUNNING', 'FINISHED'],
        fields: { start_time: NOW - (count - index) * MINUTE, ...fields(index) },
      });
    }
    return started;
  }

  it('answers a signed list with job_count, pages of page-size, newest first, rows without job_mode', async () => {
    const { baseUrl } = await startWithJobs(7);
    const { status, body } = await list(baseUrl, { 'page-size': 3 });
    expect(status).toBe(200);
    expect(body).toMatchObject({ is_success: true, job_count: 7 });
    expect(body.jobs.map((job) => job.job_id)).toEqual(['job-0006', 'job-0005', 'job-0004']);
    expect(body.jobs[0]).not.toHaveProperty('job_mode');
    const third = await list(baseUrl, { 'page-size': 3, 'current-page': 3 });
    expect(third.body.jobs.map((job) => job.job_id)).toEqual(['job-0000']);
  });

  it('a listed job counts as observed: it moves on through its lifecycle, and an ended row has end_time', async () => {
    const { baseUrl } = await startWithJobs(1);
    expect((await list(baseUrl)).body.jobs[0]).toMatchObject({ status: 'RUNNING' });
    const ended = (await list(baseUrl)).body.jobs[0];
    expect(ended).toMatchObject({ status: 'FINISHED' });
    expect(ended?.end_time).toBe(Number(ended?.start_time) + Number(ended?.duration));
  });

  it('refuses page-size over 100 and current-page over 100 with DLI.0001', async () => {
    const { baseUrl } = await startWithJobs(1);
    const refused: Record<string, string | number>[] = [
      { 'page-size': 101 },
      { 'current-page': 101 },
      { order: 'newest' },
    ];
    for (const query of refused) {
      const { status, body } = await list(baseUrl, query);
      expect(status).toBe(400);
      expect(body).toMatchObject({ is_success: false, error_code: 'DLI.0001' });
    }
  });

  it('bounds on start time, the four orders, and the filters', async () => {
    const { baseUrl } = await startWithJobs(6, (index) => ({
      queue_name: index % 2 === 0 ? 'etl_daily' : 'bi_reports',
      owner: index < 3 ? 'alice' : 'bob',
      job_type: index === 5 ? 'INSERT' : 'QUERY',
      duration: 1000 * (10 - index),
      statement: index === 4 ? 'SELECT * FROM Finance.Ledger' : 'SELECT 1',
      tags: index === 1 ? [{ key: 'team', value: 'finance-eu' }] : [],
    }));
    const ids = async (query: Record<string, string | number>) =>
      (await list(baseUrl, query)).body.jobs.map((job) => job.job_id);
    expect(await ids({ start: NOW - 4 * MINUTE, end: NOW - 2 * MINUTE, order: 'start_time_asc' })).toEqual([
      'job-0002',
      'job-0003',
      'job-0004',
    ]);
    expect(await ids({ order: 'duration_desc', 'page-size': 2 })).toEqual(['job-0000', 'job-0001']);
    expect(await ids({ order: 'duration_asc', 'page-size': 2 })).toEqual(['job-0005', 'job-0004']);
    expect(await ids({ queue_name: 'bi_reports', order: 'start_time_asc' })).toEqual([
      'job-0001',
      'job-0003',
      'job-0005',
    ]);
    expect(await ids({ owner: 'bob', 'job-type': 'INSERT' })).toEqual(['job-0005']);
    expect(await ids({ sql_pattern: 'finance.ledger' })).toEqual(['job-0004']);
    // Fuzzy, as DLI matches tags: a fragment of the value is enough.
    expect(await ids({ tags: 'team=finance' })).toEqual(['job-0001']);
    // One status only: a list of them is just a value no job has.
    expect(await ids({ 'job-status': 'RUNNING,FINISHED' })).toEqual([]);
  });

  it('pages by offset: a job submitted between two pages shifts the newest-first order, not a fixed-end ascending scan', async () => {
    const { simulator, baseUrl } = await startWithJobs(4);
    const first = await list(baseUrl, { 'page-size': 2 });
    simulator.addJob('job-new', { lifecycle: ['RUNNING'], fields: { start_time: NOW } });
    const second = await list(baseUrl, { 'page-size': 2, 'current-page': 2 });
    // The newest-first second page now starts one row later: job-0002 is seen twice.
    expect(first.body.jobs.map((job) => job.job_id)).toEqual(['job-0003', 'job-0002']);
    expect(second.body.jobs.map((job) => job.job_id)).toEqual(['job-0002', 'job-0001']);
    // Ascending by start time with a fixed end, a job submitted later falls outside the window.
    const end = NOW - MINUTE;
    const ascending = await list(baseUrl, { order: 'start_time_asc', end, 'page-size': 10 });
    expect(ascending.body.jobs.map((job) => job.job_id)).not.toContain('job-new');
    expect(ascending.body.job_count).toBe(4);
  });

  it('shows faults on list calls too', async () => {
    const { simulator, baseUrl } = await startWithJobs(1);
    simulator.injectFault({ kind: 'throttle', retryAfterSeconds: 2 });
    const url = listUrl(baseUrl);
    const response = await fetch(url, { headers: signedHeaders(url) });
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('2');
  });
});
