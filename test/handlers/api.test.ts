import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Problem, ProblemError } from '../../lib/api/problem.ts';
import type { JobView } from '../../lib/job-view.ts';
import { SqliteStore } from '../../lib/store/sqlite-store.ts';
import { type ApiGatewayRequest, apiGatewayEvent, apiLambdaContext } from '../support/api-gateway.ts';
import { statusResponse } from '../support/records.ts';
import { captureStdout, jsonLines, type StdoutCapture } from '../support/stdout.ts';

const directory = mkdtempSync(join(tmpdir(), 'dli-watch-api-'));
const storePath = join(directory, 'state.db');
let stdout: StdoutCapture;

type Handler = typeof import('../../handlers/api.ts').handler;
let handler: Handler;

beforeAll(async () => {
  Object.assign(process.env, {
    DLI_WATCH_STORE: `sqlite:${storePath}`,
    POWERTOOLS_SERVICE_NAME: 'dli-watch',
  });
  // Powertools writes its JSON lines to stdout, as Lambda expects: captured to read the correlation id.
  // Kept out of the test output: the lines are asserted on, not read.
  stdout = captureStdout();
  ({ handler } = await import('../../handlers/api.ts'));
});

afterAll(() => {
  stdout.restore();
  rmSync(directory, { recursive: true, force: true });
});

interface Answer {
  status: number | undefined;
  headers: Record<string, string | number | boolean>;
  body: string;
  json: <T = unknown>() => T;
}

interface TrackAnswer {
  added: string[];
  already_tracked: string[];
}

interface JobPage {
  jobs: JobView[];
  next_cursor: string | null;
}

async function call(request: ApiGatewayRequest): Promise<Answer> {
  const result = (await handler(
    apiGatewayEvent(request),
    apiLambdaContext(),
  )) as APIGatewayProxyStructuredResultV2;
  const body = result.body ?? '';
  return {
    status: result.statusCode,
    headers: result.headers ?? {},
    body,
    json: <T>() => JSON.parse(body) as T,
  };
}

function expectProblem(answer: Answer, status: number, kind: string) {
  expect(answer.status).toBe(status);
  expect(answer.headers['content-type']).toBe('application/problem+json');
  const problem = answer.json<Problem & { errors: ProblemError[] }>();
  expect(problem).toMatchObject({ type: `tag:dli-watch,2026:problem/${kind}`, status });
  expect(typeof problem.title).toBe('string');
  expect(typeof problem.detail).toBe('string');
  expect(answer.body).not.toMatch(/at .*\.ts:\d+|state\.db|\/tmp\//);
  return problem;
}

async function withStore<T>(use: (store: SqliteStore) => Promise<T>): Promise<T> {
  const store = SqliteStore.open(storePath);
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

describe('handlers/api', () => {
  it('tracks one job, with its labels, and says it was added', async () => {
    const answer = await call({
      method: 'POST',
      url: '/jobs',
      json: { job_id: 'single-1', labels: { team: 'data', 'env/stage': 'prod' } },
    });
    expect(answer.status).toBe(201);
    expect(answer.headers['content-type']).toBe('application/json');
    expect(answer.json()).toEqual({ added: ['single-1'], already_tracked: [] });
    const record = await withStore((store) => store.get('single-1'));
    expect(record).toMatchObject({ phase: 'active', labels: { team: 'data', 'env/stage': 'prod' } });
  });

  it('tracks a list, telling added from already tracked, and tracking again changes nothing', async () => {
    const first = await call({
      method: 'POST',
      url: '/jobs',
      json: [{ job_id: 'list-1' }, { job_id: 'list-2', labels: { team: 'a' } }, { job_id: 'single-1' }],
    });
    expect(first.status).toBe(201);
    expect(first.json()).toEqual({ added: ['list-1', 'list-2'], already_tracked: ['single-1'] });

    const again = await call({
      method: 'POST',
      url: '/jobs',
      json: [{ job_id: 'list-2', labels: { team: 'b' } }, { job_id: 'list-1' }],
    });
    expect(again.status).toBe(200);
    expect(again.json()).toEqual({ added: [], already_tracked: ['list-2', 'list-1'] });
    // Idempotent: the first labels stay.
    expect((await withStore((store) => store.get('list-2')))?.labels).toEqual({ team: 'a' });
  });

  it('accepts a base64-encoded body and a JSON content type with a charset', async () => {
    const answer = await call({
      method: 'POST',
      url: '/jobs',
      body: JSON.stringify({ job_id: 'encoded-1' }),
      headers: { 'Content-Type': 'application/json; charset=utf-8' },
      base64: true,
    });
    expect(answer.status).toBe(201);
    expect(answer.json<TrackAnswer>().added).toEqual(['encoded-1']);
  });

  it('tracks a job with its long-running threshold and run key, and refuses bad ones naming each', async () => {
    const answer = await call({
      method: 'POST',
      url: '/jobs',
      json: { job_id: 'keyed-1', warn_after: '90m', key: { tag: 'pipeline' } },
    });
    expect(answer.status).toBe(201);
    expect(await withStore((store) => store.get('keyed-1'))).toMatchObject({
      warnAfterMs: 90 * 60_000,
      keyFrom: { from: 'tag', name: 'pipeline' },
    });
    const bad = await call({
      method: 'POST',
      url: '/jobs',
      json: [{ job_id: 'keyed-2', warn_after: '90 minutes', key: { tag: 'a', sql_fingerprint: true } }],
    });
    expect(expectProblem(bad, 400, 'invalid-request').errors).toEqual([
      {
        pointer: '/0/warn_after',
        detail: expect.stringMatching(/^must be a whole number of at least 1 and a unit/),
      },
      { pointer: '/0/key', detail: 'must name exactly one of tag, label and sql_fingerprint' },
    ]);
    expect(await withStore((store) => store.get('keyed-2'))).toBeNull();
    await withStore((store) => store.untrack(['keyed-1']));
  });

  it('lists every problem of an invalid body and tracks none of it', async () => {
    const answer = await call({
      method: 'POST',
      url: '/jobs',
      json: [
        { job_id: 'fine-but-not-tracked' },
        { job_id: 'has space', labels: { 'bad key!': 'x', ok: 3 } },
        { jobId: 'typo' },
      ],
    });
    const problem = expectProblem(answer, 400, 'invalid-request');
    expect(problem.errors).toEqual([
      { pointer: '/1/job_id', detail: 'must be 1-64 letters, digits and "-"' },
      { pointer: '/1/labels/bad key!', detail: 'label keys are 1-64 of letters, digits, _ . - /' },
      { pointer: '/1/labels/ok', detail: 'label values must be strings' },
      { pointer: '/2/job_id', detail: 'required' },
      { pointer: '/2/jobId', detail: 'unknown field' },
    ]);
    expect(await withStore((store) => store.get('fine-but-not-tracked'))).toBeNull();
  });

  it('rejects bodies that are not a job or a list of jobs', async () => {
    for (const json of [[], 'job-1', null]) {
      const problem = expectProblem(
        await call({ method: 'POST', url: '/jobs', json }),
        400,
        'invalid-request',
      );
      expect(problem.errors).toHaveLength(1);
      expect(problem.errors[0]?.pointer).toBe('');
    }
    const tooMany = Array.from({ length: 501 }, (_, index) => ({ job_id: `many-${index}` }));
    const problem = expectProblem(
      await call({ method: 'POST', url: '/jobs', json: tooMany }),
      400,
      'invalid-request',
    );
    expect(problem.errors[0]?.detail).toBe('at most 500 jobs per request');
  });

  it('answers invalid JSON with 400 without echoing the body', async () => {
    const answer = await call({
      method: 'POST',
      url: '/jobs',
      body: '{"job_id": "secret-looking-value",',
      headers: { 'content-type': 'application/json' },
    });
    expectProblem(answer, 400, 'invalid-json');
    expect(answer.body).not.toContain('secret-looking-value');
  });

  it('answers a POST without a JSON content type with 415, and one with no body with 400', async () => {
    const plain = await call({
      method: 'POST',
      url: '/jobs',
      body: '{"job_id":"x"}',
      headers: { 'content-type': 'text/plain' },
    });
    expectProblem(plain, 415, 'unsupported-media-type');
    const empty = await call({
      method: 'POST',
      url: '/jobs',
      headers: { 'content-type': 'application/json' },
    });
    expectProblem(empty, 400, 'invalid-request');
  });

  it('shows one job with its status, owed and dead-lettered deliveries', async () => {
    await withStore(async (store) => {
      await store.track([{ jobId: 'ended-1', labels: { team: 'x' } }], 1_700_000_000_000);
      const record = await store.get('ended-1');
      if (record === null) throw new Error('just tracked');
      const event = {
        id: 'evt-1',
        type: 'FAILED' as const,
        status: 'FAILED',
        previousStatus: 'RUNNING',
        occurredAt: 1_700_000_100_000,
        projectId: 'p',
        labels: record.labels,
        job: statusResponse('ended-1', 'FAILED'),
        routedTo: ['slack-ops', 'hook'],
      };
      const delivery = { attempts: 3, createdAt: 1_700_000_100_000, leaseUntil: null };
      await store.update(
        {
          ...record,
          phase: 'terminal',
          status: 'FAILED',
          lastPolledAt: 1_700_000_100_000,
          statusChangedAt: 1_700_000_100_000,
          event,
          deliveries: [
            {
              ...delivery,
              destination: 'slack-ops',
              state: 'pending',
              nextAttemptAt: 1_700_000_200_000,
              lastError: 'HTTP 503',
            },
            { ...delivery, destination: 'hook', state: 'dead', nextAttemptAt: 0, lastError: 'HTTP 410 Gone' },
          ],
        },
        record.version,
      );
    });
    const answer = await call({ method: 'GET', url: '/jobs/ended-1' });
    expect(answer.status).toBe(200);
    expect(answer.json()).toMatchObject({
      job_id: 'ended-1',
      status: 'FAILED',
      labels: { team: 'x' },
      routed_to: ['slack-ops', 'hook'],
      pending_deliveries: [
        {
          destination: 'slack-ops',
          attempts: 3,
          next_attempt_at: '2023-11-14T22:16:40.000Z',
          last_error: 'HTTP 503',
        },
      ],
      dead_lettered_deliveries: [{ destination: 'hook', attempts: 3, last_error: 'HTTP 410 Gone' }],
    });
  });

  describe('POST /jobs/{job_id}/redeliver', () => {
    const EVENT_ID = 'evt-redeliver';

    // The store is shared by the whole file, whose paging test counts every job: these leave none behind.
    afterEach(async () => {
      await withStore((store) => store.untrack(['redeliver-all', 'redeliver-one', 'redeliver-refused']));
    });

    /** A job that ended FAILED: hook and chat dead-lettered, ops still pending. */
    async function deadLettered(jobId: string): Promise<void> {
      await withStore(async (store) => {
        await store.track([{ jobId }], 1_700_000_000_000);
        const record = await store.get(jobId);
        if (record === null) throw new Error('just tracked');
        const owed = { attempts: 5, createdAt: 1_700_000_100_000, nextAttemptAt: 0, leaseUntil: null };
        await store.update(
          {
            ...record,
            phase: 'terminal',
            status: 'FAILED',
            lastPolledAt: 1_700_000_100_000,
            statusChangedAt: 1_700_000_100_000,
            event: {
              id: EVENT_ID,
              type: 'FAILED',
              status: 'FAILED',
              previousStatus: 'RUNNING',
              occurredAt: 1_700_000_100_000,
              projectId: 'p',
              labels: {},
              job: statusResponse(jobId, 'FAILED'),
              routedTo: ['hook', 'chat', 'ops'],
            },
            deliveries: [
              { ...owed, destination: 'hook', state: 'dead', lastError: 'HTTP 410 Gone' },
              { ...owed, destination: 'chat', state: 'dead', lastError: 'HTTP 404' },
              {
                ...owed,
                destination: 'ops',
                state: 'pending',
                nextAttemptAt: 1_700_000_200_000,
                lastError: 'HTTP 503',
              },
            ],
          },
          record.version,
        );
      });
    }

    it('puts every dead-lettered delivery back to pending, due now, keeping the event and the attempts', async () => {
      await deadLettered('redeliver-all');
      const before = Date.now();

      const answer = await call({ method: 'POST', url: '/jobs/redeliver-all/redeliver' });

      expect(answer.status).toBe(200);
      expect(answer.headers['content-type']).toBe('application/json');
      const body = answer.json<{ redelivered: string[]; job: JobView }>();
      expect(body.redelivered).toEqual(['hook', 'chat']);
      expect(body.job).toMatchObject({
        job_id: 'redeliver-all',
        status: 'FAILED',
        dead_lettered_deliveries: [],
      });
      expect(body.job.pending_deliveries.map((owed) => owed.destination)).toEqual(['hook', 'chat', 'ops']);
      const stored = await withStore((store) => store.get('redeliver-all'));
      expect(stored?.event?.id).toBe(EVENT_ID);
      const [hook, chat, ops] = stored?.deliveries ?? [];
      expect(hook).toMatchObject({
        state: 'pending',
        attempts: 5,
        leaseUntil: null,
        lastError: 'HTTP 410 Gone',
      });
      expect(hook?.nextAttemptAt).toBeGreaterThanOrEqual(before);
      expect(hook?.nextAttemptAt).toBeLessThanOrEqual(Date.now());
      expect(chat?.state).toBe('pending');
      // The pending one is left exactly as it was.
      expect(ops).toMatchObject({ state: 'pending', nextAttemptAt: 1_700_000_200_000 });

      // Nothing dead-lettered any more: asking again is harmless.
      const again = await call({ method: 'POST', url: '/jobs/redeliver-all/redeliver' });
      expect(again.status).toBe(200);
      expect(again.json<{ redelivered: string[] }>().redelivered).toEqual([]);
    });

    it('with {"destination": ...} puts back only that one; an unmatched name changes nothing', async () => {
      await deadLettered('redeliver-one');

      const one = await call({
        method: 'POST',
        url: '/jobs/redeliver-one/redeliver',
        json: { destination: 'chat' },
      });
      expect(one.status).toBe(200);
      expect(one.json<{ redelivered: string[] }>().redelivered).toEqual(['chat']);
      const unmatched = await call({
        method: 'POST',
        url: '/jobs/redeliver-one/redeliver',
        json: { destination: 'nobody' },
      });
      expect(unmatched.json<{ redelivered: string[] }>().redelivered).toEqual([]);
      const stored = await withStore((store) => store.get('redeliver-one'));
      expect(stored?.deliveries.map((owed) => `${owed.destination}:${owed.state}`)).toEqual([
        'hook:dead',
        'chat:pending',
        'ops:pending',
      ]);
    });

    it('answers problems like the other routes, and changes nothing', async () => {
      await deadLettered('redeliver-refused');
      const url = '/jobs/redeliver-refused/redeliver';

      const unknownField = expectProblem(
        await call({ method: 'POST', url, json: { destination: 'hook', destinations: ['chat'] } }),
        400,
        'invalid-request',
      );
      expect(unknownField.errors).toEqual([{ pointer: '/destinations', detail: 'unknown field' }]);
      const notString = expectProblem(
        await call({ method: 'POST', url, json: { destination: 7 } }),
        400,
        'invalid-request',
      );
      expect(notString.errors).toEqual([{ pointer: '/destination', detail: 'must be a string' }]);
      expectProblem(await call({ method: 'POST', url, json: { destination: '' } }), 400, 'invalid-request');
      expectProblem(await call({ method: 'POST', url, json: ['hook'] }), 400, 'invalid-request');
      expectProblem(
        await call({
          method: 'POST',
          url,
          body: '{"destination":',
          headers: { 'content-type': 'application/json' },
        }),
        400,
        'invalid-json',
      );
      expectProblem(
        await call({
          method: 'POST',
          url,
          body: 'destination=hook',
          headers: { 'content-type': 'text/plain' },
        }),
        415,
        'unsupported-media-type',
      );
      const wrongMethod = await call({ method: 'GET', url });
      expectProblem(wrongMethod, 405, 'method-not-allowed');
      expect(wrongMethod.headers.allow).toBe('POST');
      const stored = await withStore((store) => store.get('redeliver-refused'));
      expect(stored?.deliveries.filter((owed) => owed.state === 'dead')).toHaveLength(2);

      const unknown = expectProblem(
        await call({ method: 'POST', url: '/jobs/never-tracked/redeliver' }),
        404,
        'job-not-found',
      );
      expect(unknown.detail).toContain('never-tracked');
      const malformed = expectProblem(
        await call({ method: 'POST', url: '/jobs/bad%20id/redeliver' }),
        400,
        'invalid-request',
      );
      expect(malformed.errors).toEqual([
        { parameter: 'job_id', detail: 'must be 1-64 letters, digits and "-"' },
      ]);
      for (const other of ['/jobs/redeliver-refused/redeliver/', '/jobs/redeliver-refused/resend']) {
        expectProblem(await call({ method: 'POST', url: other }), 404, 'route-not-found');
      }
    });
  });

  it('answers an unknown job with 404, and a malformed job id with 400', async () => {
    const problem = expectProblem(
      await call({ method: 'GET', url: '/jobs/never-tracked' }),
      404,
      'job-not-found',
    );
    expect(problem.detail).toContain('never-tracked');
    const malformed = expectProblem(
      await call({ method: 'GET', url: '/jobs/bad%20id' }),
      400,
      'invalid-request',
    );
    expect(malformed.errors).toEqual([
      { parameter: 'job_id', detail: 'must be 1-64 letters, digits and "-"' },
    ]);
  });

  it('untracks a job with 204, then answers 404 for it', async () => {
    await call({ method: 'POST', url: '/jobs', json: { job_id: 'to-drop' } });
    const dropped = await call({ method: 'DELETE', url: '/jobs/to-drop' });
    expect(dropped.status).toBe(204);
    expect(dropped.body).toBe('');
    expect(await withStore((store) => store.get('to-drop'))).toBeNull();
    expectProblem(await call({ method: 'DELETE', url: '/jobs/to-drop' }), 404, 'job-not-found');
    expectProblem(await call({ method: 'GET', url: '/jobs/to-drop' }), 404, 'job-not-found');
  });

  it('serves GET and DELETE that carry content-type: application/json and no body', async () => {
    const headers = { 'content-type': 'application/json' };
    await call({ method: 'POST', url: '/jobs', json: { job_id: 'json-header' } });
    expect((await call({ method: 'GET', url: '/jobs', headers })).status).toBe(200);
    expect((await call({ method: 'GET', url: '/jobs/json-header', headers })).status).toBe(200);
    expect((await call({ method: 'DELETE', url: '/jobs/json-header', headers })).status).toBe(204);
  });

  it('pages through 250 jobs with limit and next_cursor, each job once, in id order', async () => {
    await withStore((store) => store.untrack(['single-1', 'list-1', 'list-2', 'encoded-1', 'ended-1']));
    const ids = Array.from({ length: 250 }, (_, index) => `paged-${String(index).padStart(3, '0')}`);
    const posted = await call({ method: 'POST', url: '/jobs', json: ids.map((job_id) => ({ job_id })) });
    expect(posted.json<TrackAnswer>().added).toHaveLength(250);

    const seen: string[] = [];
    const pageSizes: number[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
      const answer = await call({ method: 'GET', url: `/jobs?limit=100${query}` });
      expect(answer.status).toBe(200);
      const page = answer.json<JobPage>();
      pageSizes.push(page.jobs.length);
      seen.push(...page.jobs.map((job) => job.job_id));
      cursor = page.next_cursor;
    } while (cursor !== null);
    expect(pageSizes).toEqual([100, 100, 50]);
    expect(seen).toEqual(ids);

    const defaultPage = (await call({ method: 'GET', url: '/jobs' })).json<JobPage>();
    expect(defaultPage.jobs).toHaveLength(100);
    expect(defaultPage.jobs[0]).toMatchObject({ job_id: 'paged-000', status: 'NOT_POLLED', phase: 'active' });
  });

  it('rejects a bad limit or cursor with every problem listed', async () => {
    const problem = expectProblem(
      await call({ method: 'GET', url: '/jobs?limit=501&cursor=' }),
      400,
      'invalid-request',
    );
    expect(problem.errors).toEqual([
      { parameter: 'limit', detail: 'must be an integer from 1 to 500' },
      { parameter: 'cursor', detail: 'must not be empty' },
    ]);
    for (const limit of ['0', 'ten', '-1', '1.5']) {
      expectProblem(await call({ method: 'GET', url: `/jobs?limit=${limit}` }), 400, 'invalid-request');
    }
    const forged = expectProblem(
      await call({ method: 'GET', url: '/jobs?cursor=bm9wZQ' }),
      400,
      'invalid-request',
    );
    expect(forged.errors).toEqual([
      { parameter: 'cursor', detail: 'is not a next_cursor this API handed out' },
    ]);
  });

  it('answers unknown routes with 404 and wrong methods with 405 and Allow', async () => {
    for (const url of ['/', '/job', '/jobs/', '/jobs/a/b', '/v1/jobs']) {
      expectProblem(await call({ method: 'GET', url }), 404, 'route-not-found');
    }
    const put = expectProblem(
      await call({ method: 'PUT', url: '/jobs', json: {} }),
      405,
      'method-not-allowed',
    );
    expect(put.detail).toContain('PUT');
    const wrongCollection = await call({ method: 'DELETE', url: '/jobs' });
    expectProblem(wrongCollection, 405, 'method-not-allowed');
    expect(wrongCollection.headers.allow).toBe('GET, POST');
    const wrongItem = await call({ method: 'POST', url: '/jobs/paged-001', json: {} });
    expectProblem(wrongItem, 405, 'method-not-allowed');
    expect(wrongItem.headers.allow).toBe('DELETE, GET');
  });

  it('routes below a named stage the same as on $default', async () => {
    const answer = await call({ method: 'GET', url: '/jobs/paged-001', stage: 'prod' });
    expect(answer.status).toBe(200);
    expect(answer.json<JobView>().job_id).toBe('paged-001');
  });

  it('logs each request as Powertools JSON with the API Gateway request id as correlation id', async () => {
    await call({ method: 'GET', url: '/jobs/paged-002', requestId: 'apigw-req-42' });
    const handled = jsonLines(stdout.chunks).filter(
      (entry) => entry.message === 'request handled' && entry.correlation_id === 'apigw-req-42',
    );
    expect(handled).toHaveLength(1);
    expect(handled[0]).toMatchObject({
      service: 'dli-watch',
      function_name: 'dli-watch-dev-api',
      method: 'GET',
      path: '/jobs/paged-002',
      status: 200,
      caller: 'arn:aws:sts::123456789012:assumed-role/ci/ci',
    });
  });
});
