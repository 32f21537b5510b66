import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createDliClient } from '../../lib/dli/client.ts';
import { jobStatusResponseSchema } from '../../lib/dli/schemas.ts';
import { signRequest } from '../../lib/dli/signer.ts';
import {
  createDliSimulator,
  type DliSimulator,
  type DliSimulatorOptions,
  randomLifecycle,
} from '../../lib/simulator/dli-simulator.ts';
import { createStderrLog } from '../../lib/util/log.ts';
import { createSeededRandom } from '../support/seeded-random.ts';

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

/** One list call, signed as the production client signs it (ignored when the simulator checks no auth). */
async function list(baseUrl: string, query: Record<string, string | number> = {}) {
  const url = listUrl(baseUrl, query);
  const response = await fetch(url, { headers: signedHeaders(url) });
  return { status: response.status, body: (await response.json()) as ListAnswer };
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
  it('produces jobs that launch, run, and end FINISHED, FAILED (with a DLI reason) or CANCELLED', () => {
    const random = createSeededRandom(42);
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
    const random = createSeededRandom(7);
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

describe('DLI simulator: timeline jobs', () => {
  /** A simulator on a clock the test moves. */
  async function startOnClock(options: Partial<DliSimulatorOptions> = {}) {
    const clock = { now: NOW };
    const started = await startSimulator({ now: () => clock.now, ...options });
    return { ...started, clock };
  }

  async function status(baseUrl: string, jobId = JOB_ID) {
    const response = await fetch(statusUrl(baseUrl, jobId));
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  it('is unknown before its submission, then follows the clock, not the number of polls', async () => {
    const { simulator, baseUrl, clock } = await startOnClock();
    const failure = 'DLI.0005: AnalysisException: Table or view not found: sales.orders_2024;';
    simulator.addJob(JOB_ID, {
      timeline: [
        { at: NOW + MINUTE, status: 'LAUNCHING' },
        { at: NOW + 2 * MINUTE, status: 'RUNNING' },
        { at: NOW + 5 * MINUTE, status: 'FAILED' },
      ],
      fields: { message: failure, queue_name: 'etl_daily' },
    });

    const early = await status(baseUrl);
    expect(early).toEqual({
      status: 400,
      body: { error_code: 'DLI.0002', error_msg: `The job ${JOB_ID} does not exist.` },
    });
    expect((await list(baseUrl)).body).toMatchObject({ job_count: 0, jobs: [] });
    expect(simulator.pollCount(JOB_ID)).toBe(0);

    clock.now = NOW + MINUTE;
    expect((await status(baseUrl)).body).toMatchObject({
      status: 'LAUNCHING',
      start_time: NOW + MINUTE,
      duration: 0,
      message: '',
    });

    clock.now = NOW + 3 * MINUTE;
    const running = [await status(baseUrl), await status(baseUrl), await status(baseUrl)];
    expect(running.map(({ body }) => body.status)).toEqual(['RUNNING', 'RUNNING', 'RUNNING']);
    expect(running[0]?.body).toMatchObject({ duration: 2 * MINUTE, message: '' });
    const runningRow = (await list(baseUrl)).body.jobs[0];
    expect(runningRow).toMatchObject({ job_id: JOB_ID, status: 'RUNNING', queue_name: 'etl_daily' });
    expect(runningRow).not.toHaveProperty('end_time');

    clock.now = NOW + 5 * MINUTE + 30_000;
    expect((await status(baseUrl)).body).toMatchObject({
      status: 'FAILED',
      duration: 4 * MINUTE,
      message: failure,
    });
    clock.now = NOW + 60 * MINUTE;
    const listed = await list(baseUrl, { 'job-status': 'FAILED' });
    expect(listed.body.job_count).toBe(1);
    expect(listed.body.jobs[0]).toMatchObject({
      job_id: JOB_ID,
      status: 'FAILED',
      start_time: NOW + MINUTE,
      duration: 4 * MINUTE,
      end_time: NOW + 5 * MINUTE,
      message: failure,
    });
    // Observations are still counted: 6 status answers and 2 list rows.
    expect(simulator.pollCount(JOB_ID)).toBe(7);
  });

  it('is listed from its submission on, but by the start time its fields give', async () => {
    const { simulator, baseUrl, clock } = await startOnClock();
    simulator.addJob('on-time', { timeline: [{ at: NOW - 30_000, status: 'RUNNING' }] });
    // DLI dates this one 20 s before it shows up.
    simulator.addJob('lagging', {
      timeline: [
        { at: NOW + 10_000, status: 'RUNNING' },
        { at: NOW + 70_000, status: 'FINISHED' },
      ],
      fields: { start_time: NOW - 10_000 },
    });
    const ids = async (query: Record<string, string | number> = {}) =>
      (await list(baseUrl, { order: 'start_time_asc', ...query })).body.jobs.map((job) => job.job_id);

    expect(await ids()).toEqual(['on-time']);
    clock.now = NOW + 10_000;
    expect(await ids()).toEqual(['on-time', 'lagging']);
    expect(await ids({ end: NOW - 20_000 })).toEqual(['on-time']);
    clock.now = NOW + 80_000;
    const row = (await list(baseUrl, { 'job-status': 'FINISHED' })).body.jobs[0];
    expect(row).toMatchObject({
      job_id: 'lagging',
      start_time: NOW - 10_000,
      duration: 80_000,
      end_time: NOW + 70_000,
    });
  });

  it('refuses a job without a status, an empty or unordered timeline, or both kinds at once', async () => {
    const { simulator } = await startOnClock();
    expect(() => simulator.addJob(JOB_ID, { lifecycle: [] })).toThrow(/at least one status/);
    expect(() => simulator.addJob(JOB_ID, { timeline: [] })).toThrow(/at least one timeline entry/);
    expect(() =>
      simulator.addJob(JOB_ID, {
        timeline: [
          { at: NOW, status: 'RUNNING' },
          { at: NOW - 1, status: 'FINISHED' },
        ],
      }),
    ).toThrow(/out of order/);
    expect(() =>
      simulator.addJob(JOB_ID, {
        lifecycle: ['RUNNING'],
        timeline: [{ at: NOW, status: 'RUNNING' }],
      } as never),
    ).toThrow(/either a lifecycle or a timeline/);
    // Two entries at the same moment are in order: the later one is the status from then on.
    simulator.addJob(JOB_ID, {
      timeline: [
        { at: NOW, status: 'RUNNING' },
        { at: NOW, status: 'CANCELLED' },
      ],
    });
  });
});

describe('DLI simulator: the indexed list', () => {
  function client(baseUrl: string) {
    return createDliClient({
      endpoint: baseUrl,
      projectId: PROJECT_ID,
      auth: { kind: 'aksk', ...CREDENTIALS, securityToken: null },
      log: createStderrLog({ level: 'silent' }),
      now: () => new Date(NOW),
      retryLimit: 0,
    });
  }

  it('scans 20,000 jobs ascending with a fixed end, 100 a page, seeing each once, even as jobs are submitted', async () => {
    const { simulator, baseUrl } = await startSimulator({ credentials: CREDENTIALS });
    const total = 20_000;
    const first = NOW - total * 1_000;
    for (let index = 0; index < total; index++) {
      simulator.addJob(`bulk-${String(index).padStart(5, '0')}`, {
        lifecycle: ['RUNNING', 'FINISHED'],
        fields: { start_time: first + index * 1_000 },
      });
    }
    const dli = client(baseUrl);
    const end = NOW;
    const seen = new Map<string, number>();
    const jobCounts: number[] = [];
    let start = first;
    let page = 1;
    for (;;) {
      const answer = await dli.listJobs({
        pageSize: 100,
        currentPage: page,
        start,
        end,
        order: 'start_time_asc',
      });
      if (page === 1) jobCounts.push(answer.job_count);
      for (const job of answer.jobs) seen.set(job.job_id, (seen.get(job.job_id) ?? 0) + 1);
      // A job submitted during the scan starts after its end: it must not show up.
      simulator.addJob(`late-${simulator.listRequestCount}`, {
        lifecycle: ['RUNNING'],
        fields: { start_time: NOW + 1 },
      });
      if (answer.jobs.length < 100) break;
      if (page < 100) {
        page += 1;
      } else {
        // Never past page 100: narrow the window to what comes after the last row (start times are distinct).
        start = Number(answer.jobs.at(-1)?.start_time) + 1;
        page = 1;
      }
    }

    expect(seen.size).toBe(total);
    expect([...seen.values()].every((times) => times === 1)).toBe(true);
    expect([...seen.keys()].some((jobId) => jobId.startsWith('late-'))).toBe(false);
    // The third window starts after the last job: it is empty, and ends the scan.
    expect(jobCounts).toEqual([20_000, 10_000, 0]);
    expect(simulator.listRequestCount).toBe(201);
    // Only the rows shown were observed: each moved on by one.
    expect(simulator.pollCount('bulk-00000')).toBe(1);
    expect((await list(baseUrl, { 'job-status': 'FINISHED', end })).body.job_count).toBe(total);
  });

  it('takes start and end as inclusive by default, as exclusive with listBoundsExclusive; 0 is no bound', async () => {
    for (const listBoundsExclusive of [false, true]) {
      const { simulator, baseUrl } = await startSimulator({ credentials: CREDENTIALS, listBoundsExclusive });
      for (const [index, minutes] of [10, 8, 6, 4].entries()) {
        simulator.addJob(`job-${index}`, {
          lifecycle: ['RUNNING'],
          fields: { start_time: NOW - minutes * MINUTE },
        });
      }
      const dli = client(baseUrl);
      const ids = async (start: number, end: number) =>
        (await dli.listJobs({ start, end, order: 'start_time_asc' })).jobs.map((job) => job.job_id);

      const bounded = await ids(NOW - 8 * MINUTE, NOW - 4 * MINUTE);
      expect(bounded).toEqual(listBoundsExclusive ? ['job-2'] : ['job-1', 'job-2', 'job-3']);
      expect(await ids(NOW - 6 * MINUTE, NOW - 6 * MINUTE)).toEqual(listBoundsExclusive ? [] : ['job-2']);
      expect(await ids(0, 0)).toEqual(['job-0', 'job-1', 'job-2', 'job-3']);
      expect(await ids(0, NOW - 8 * MINUTE)).toEqual(listBoundsExclusive ? ['job-0'] : ['job-0', 'job-1']);
    }
  });

  it('filters on the values the status body shows, generated or given, and on the status now', async () => {
    const { simulator, baseUrl } = await startSimulator();
    const start = (index: number) => NOW - (10 - index) * MINUTE;
    // Generated: queue `default`, owner `etl_user`, a QUERY with a SELECT statement.
    simulator.addJob('plain', { lifecycle: ['RUNNING', 'FINISHED'], fields: { start_time: start(0) } });
    simulator.addJob('insert', {
      lifecycle: ['RUNNING', 'FINISHED'],
      fields: { start_time: start(1), job_type: 'INSERT', queue_name: 'etl_daily', owner: 'alice' },
    });
    simulator.addJob('tagged', {
      lifecycle: ['LAUNCHING', 'RUNNING'],
      fields: {
        start_time: start(2),
        owner: 'alice',
        statement: 'SELECT * FROM Finance.Ledger',
        tags: [{ key: 'team', value: 'finance-eu' }],
      },
    });
    simulator.addJob('timed', {
      timeline: [
        { at: NOW - 5 * MINUTE, status: 'RUNNING' },
        { at: NOW - MINUTE, status: 'FINISHED' },
      ],
      fields: { queue_name: 'etl_daily' },
    });
    const ids = async (query: Record<string, string | number>) =>
      (await list(baseUrl, { order: 'start_time_asc', ...query })).body.jobs.map((job) => job.job_id);

    // A lifecycle job's status depends on its observations (a shown row is one), a timeline job's on the clock.
    expect(await ids({ 'job-status': 'LAUNCHING' })).toEqual(['tagged']);
    expect(await ids({ 'job-status': 'FINISHED' })).toEqual(['timed']);
    await fetch(statusUrl(baseUrl, 'plain'));
    const finished = await list(baseUrl, { 'job-status': 'FINISHED', order: 'start_time_asc' });
    expect(finished.body.job_count).toBe(2);
    expect(finished.body.jobs.map((job) => job.job_id)).toEqual(['plain', 'timed']);
    expect(await ids({ 'job-status': 'RUNNING' })).toEqual(['insert', 'tagged']);
    // Rows filtered out were not observed; rows shown were.
    expect(['plain', 'insert', 'tagged'].map((jobId) => simulator.pollCount(jobId))).toEqual([2, 1, 2]);

    expect(await ids({ queue_name: 'default' })).toEqual(['plain', 'tagged']);
    expect(await ids({ queue_name: 'etl_daily' })).toEqual(['insert', 'timed']);
    expect(await ids({ owner: 'etl_user' })).toEqual(['plain', 'timed']);
    expect(await ids({ owner: 'alice', 'job-type': 'QUERY' })).toEqual(['tagged']);
    expect(await ids({ 'job-type': 'INSERT' })).toEqual(['insert']);
    expect(await ids({ sql_pattern: 'ORDERS_SUMMARY' })).toEqual(['insert']);
    expect(await ids({ sql_pattern: 'from finance.' })).toEqual(['tagged']);
    expect(await ids({ tags: 'team=finance' })).toEqual(['tagged']);
    expect(await ids({ tags: 'team=data' })).toEqual([]);
  });

  it('does not list jobs that only the job factory knows', async () => {
    const { simulator, baseUrl } = await startSimulator({
      jobFactory: (jobId) => (jobId.startsWith('bench-') ? { lifecycle: ['RUNNING'] } : undefined),
    });
    simulator.addJob('added', { lifecycle: ['RUNNING'] });
    expect((await fetch(statusUrl(baseUrl, 'bench-1'))).status).toBe(200);
    expect((await list(baseUrl)).body.jobs.map((job) => job.job_id)).toEqual(['added']);
  });

  it('shifts later rows back when a job is removed between two pages', async () => {
    const { simulator, baseUrl } = await startSimulator();
    for (let index = 0; index < 6; index++) {
      simulator.addJob(`job-${index}`, {
        lifecycle: ['RUNNING'],
        fields: { start_time: NOW - (6 - index) * MINUTE },
      });
    }
    const firstPage = await list(baseUrl, { 'page-size': 2, order: 'start_time_asc' });
    simulator.removeJob('job-0');
    const secondPage = await list(baseUrl, { 'page-size': 2, 'current-page': 2, order: 'start_time_asc' });
    expect(firstPage.body.jobs.map((job) => job.job_id)).toEqual(['job-0', 'job-1']);
    // job-2 moved onto the first page: it is skipped.
    expect(secondPage.body.jobs.map((job) => job.job_id)).toEqual(['job-3', 'job-4']);
    expect(secondPage.body.job_count).toBe(5);
  });
});

describe('DLI simulator: faults by route, and request counters', () => {
  it('hits only list calls with a list fault, only status calls with a status or job fault', async () => {
    const { simulator, baseUrl } = await startSimulator();
    simulator.addJob(JOB_ID, { lifecycle: ['RUNNING'] });
    const statusCall = async () => (await fetch(statusUrl(baseUrl, JOB_ID))).status;
    const listCall = async () => (await fetch(listUrl(baseUrl))).status;

    simulator.injectFault({ kind: 'throttle' }, { route: 'list' });
    expect([await statusCall(), await listCall(), await listCall()]).toEqual([200, 429, 200]);
    simulator.injectFault({ kind: 'server-error', status: 503 }, { route: 'status' });
    expect([await listCall(), await statusCall(), await statusCall()]).toEqual([200, 503, 200]);
    simulator.injectFault({ kind: 'dli-server-error-400' }, { jobId: JOB_ID });
    expect([await listCall(), await statusCall(), await statusCall()]).toEqual([200, 400, 200]);
    // Unscoped, a fault hits whatever comes next.
    simulator.injectFault({ kind: 'auth' });
    expect([await listCall(), await statusCall()]).toEqual([401, 200]);
    expect(() => simulator.injectFault({ kind: 'throttle' }, { jobId: JOB_ID, route: 'list' })).toThrow();
  });

  it('spoils list bodies for malformed and wrong-shape faults, advancing no lifecycle', async () => {
    const { simulator, baseUrl } = await startSimulator();
    simulator.addJob(JOB_ID, { lifecycle: ['RUNNING', 'FINISHED'], fields: { start_time: NOW - MINUTE } });
    simulator.injectFault({ kind: 'malformed' }, { route: 'list' });
    simulator.injectFault({ kind: 'wrong-shape' }, { route: 'list' });
    simulator.injectFault({ kind: 'timeout' }, { route: 'list' });

    const malformed = await (await fetch(listUrl(baseUrl))).text();
    const wrongShape = (await (await fetch(listUrl(baseUrl))).json()) as Record<string, unknown>;
    const timedOut = fetch(listUrl(baseUrl), { signal: AbortSignal.timeout(100) });
    await expect(timedOut).rejects.toMatchObject({ name: 'TimeoutError' });

    expect(malformed.startsWith('{"is_success":true')).toBe(true);
    expect(() => JSON.parse(malformed)).toThrow(SyntaxError);
    expect(wrongShape).toMatchObject({ is_success: true, jobs: [{ job_id: JOB_ID, status: 'RUNNING' }] });
    expect(wrongShape).not.toHaveProperty('job_count');
    expect(simulator.pollCount(JOB_ID)).toBe(0);
    expect((await list(baseUrl)).body.jobs[0]).toMatchObject({ status: 'RUNNING' });
    expect(simulator.pollCount(JOB_ID)).toBe(1);
  });

  it('counts requests to the list and the status route, whatever their outcome', async () => {
    const { simulator, baseUrl } = await startSimulator({ credentials: CREDENTIALS });
    simulator.addJob(JOB_ID, { lifecycle: ['RUNNING'] });
    const signedFetch = (url: string) => fetch(url, { headers: signedHeaders(url) });

    simulator.injectFault({ kind: 'throttle' }, { route: 'list' });
    const statuses = [
      (await signedFetch(listUrl(baseUrl))).status,
      (await signedFetch(listUrl(baseUrl))).status,
      (await signedFetch(listUrl(baseUrl, { 'page-size': 101 }))).status,
      (await fetch(listUrl(baseUrl))).status,
      (await signedFetch(statusUrl(baseUrl, JOB_ID))).status,
      (await signedFetch(statusUrl(baseUrl, OTHER_JOB_ID))).status,
      (await fetch(statusUrl(baseUrl, JOB_ID))).status,
      (await signedFetch(`${baseUrl}/v1.0/${PROJECT_ID}/queues`)).status,
    ];

    expect(statuses).toEqual([429, 200, 400, 401, 200, 400, 401, 404]);
    expect(simulator.listRequestCount).toBe(4);
    expect(simulator.statusRequestCount).toBe(3);
    expect(simulator.requestCount).toBe(8);
  });
});
