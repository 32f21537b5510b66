import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiRequest, createTrackingApi } from '../../lib/api/tracking-api.ts';
import { SqliteStore } from '../../lib/store/sqlite-store.ts';
import { createStderrLog } from '../../lib/util/log.ts';
import { forwardingStore } from '../support/forwarding-store.ts';

const directory = mkdtempSync(join(tmpdir(), 'dli-watch-tracking-api-'));
let store: SqliteStore;

beforeAll(() => {
  store = SqliteStore.open(join(directory, 'state.db'));
});

afterAll(async () => {
  await store.close();
  rmSync(directory, { recursive: true, force: true });
});

function request(overrides: Partial<ApiRequest>): ApiRequest {
  return { method: 'GET', path: '/jobs', query: {}, headers: {}, body: null, ...overrides };
}

describe('createTrackingApi', () => {
  it('stamps newly tracked jobs with the injected clock', async () => {
    const api = createTrackingApi({ store, now: () => 1_800_000_000_000 });
    const answer = await api(
      request({
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{"job_id":"clocked"}',
      }),
    );
    expect(answer.status).toBe(201);
    const shown = await api(request({ path: '/jobs/clocked' }));
    expect(JSON.parse(shown.body)).toMatchObject({ tracked_at: '2027-01-15T08:00:00.000Z' });
  });

  it('tracks a job named twice in one list once, with its first labels', async () => {
    const api = createTrackingApi({ store });
    const answer = await api(
      request({
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify([
          { job_id: 'twice', labels: { pick: 'first' } },
          { job_id: 'twice', labels: { pick: 'second' } },
        ]),
      }),
    );
    expect(JSON.parse(answer.body)).toEqual({ added: ['twice'], already_tracked: [] });
    expect((await store.get('twice'))?.labels).toEqual({ pick: 'first' });
  });

  it('accepts +json media types and refuses a POST with no content type', async () => {
    const api = createTrackingApi({ store });
    const body = '{"job_id":"merge-typed"}';
    const typed = await api(
      request({ method: 'POST', headers: { 'content-type': 'application/merge-patch+json' }, body }),
    );
    expect(typed.status).toBe(201);
    const untyped = await api(request({ method: 'POST', body }));
    expect(untyped.status).toBe(415);
    expect(untyped.headers['content-type']).toBe('application/problem+json');
  });

  it('answers a store failure with a bare 500 problem and logs the cause for the operator', async () => {
    const broken = SqliteStore.open(join(directory, 'broken.db'));
    await broken.close();
    const logged: string[] = [];
    const api = createTrackingApi({
      store: broken,
      log: createStderrLog({ write: (line) => logged.push(line) }),
    });
    const answer = await api(request({ path: '/jobs/any-job' }));
    expect(answer.status).toBe(500);
    expect(JSON.parse(answer.body)).toEqual({
      type: 'tag:dli-watch,2026:problem/internal-error',
      title: 'Internal error',
      status: 500,
      detail: 'The request could not be completed; it is safe to retry.',
    });
    expect(answer.body).not.toContain('broken.db');
    expect(JSON.parse(logged.join(''))).toMatchObject({
      message: 'request failed',
      error_name: 'StoreError',
      error: expect.stringContaining('is closed'),
    });
  });

  it('answers 409 job-busy, changing nothing, when the job changes under every try of a redeliver', async () => {
    await store.track([{ jobId: 'busy' }], 1_000);
    const tracked = await store.get('busy');
    if (tracked === null) throw new Error('just tracked');
    const dead = {
      destination: 'hook',
      state: 'dead' as const,
      attempts: 3,
      createdAt: 1_000,
      nextAttemptAt: 0,
      leaseUntil: null,
      lastError: 'HTTP 410',
    };
    await store.update(
      { ...tracked, phase: 'terminal', status: 'FAILED', lastPolledAt: 2_000, deliveries: [dead] },
      1,
    );
    // Another writer (a cycle, say) changes the job right after every read the API makes: a real write each time.
    const busy = forwardingStore(store, {
      async get(jobId) {
        const read = await store.get(jobId);
        if (read !== null)
          await store.update({ ...read, notFoundCount: read.notFoundCount + 1 }, read.version);
        return read;
      },
    });
    const api = createTrackingApi({ store: busy });

    const answer = await api(request({ method: 'POST', path: '/jobs/busy/redeliver' }));

    expect(answer.status).toBe(409);
    expect(answer.headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(answer.body)).toMatchObject({
      type: 'tag:dli-watch,2026:problem/job-busy',
      status: 409,
      detail: expect.stringContaining('Retry'),
    });
    expect((await store.get('busy'))?.deliveries).toEqual([dead]);
  });
});
