import { GetItemCommand, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { JobRecord } from '../../lib/job.ts';
import {
  DEFAULT_RETENTION_MS,
  DYNAMODB_DUE_INDEX,
  DYNAMODB_MAX_ATTEMPTS,
  DYNAMODB_WRITE_CONCURRENCY,
  DynamoDbStore,
} from '../../lib/store/dynamodb-store.ts';
import type { Page } from '../../lib/store/job-store.ts';
import { openStore } from '../../lib/store/open-store.ts';
import { InvalidCursorError, StoreError } from '../../lib/store/store-error.ts';
import {
  LOCAL_AWS,
  type LocalDynamoDb,
  localDynamoDbClient,
  type ProxyDecision,
  startDynalite,
  startDynamoDbProxy,
} from '../support/dynalite.ts';
import { describeJobStoreContract, MINUTE, NOW, pendingDelivery } from '../support/job-store-contract.ts';

const DAY = 24 * 60 * MINUTE;

let local: LocalDynamoDb;

beforeAll(async () => {
  local = await startDynalite();
});

afterAll(async () => {
  await local.close();
});

describeJobStoreContract('DynamoDB (dynalite)', async () => {
  const store = new DynamoDbStore({ client: local.client, table: await local.createJobTable() });
  return { store, cleanup: () => store.close() };
});

/** The item as DynamoDB holds it, read past the store. */
async function rawItem(table: string, jobId: string) {
  const { Item } = await local.client.send(
    new GetItemCommand({ TableName: table, Key: { job_id: { S: jobId } }, ConsistentRead: true }),
  );
  return Item;
}

/** Job ids in the due index, in index order, read past the store. */
async function idsInDueIndex(table: string): Promise<string[]> {
  const { Items } = await local.client.send(
    new QueryCommand({
      TableName: table,
      IndexName: DYNAMODB_DUE_INDEX,
      KeyConditionExpression: 'due_shard = :due',
      ExpressionAttributeValues: { ':due': { S: 'due' } },
    }),
  );
  return (Items ?? []).map((item) => item.job_id?.S ?? '');
}

async function mustGet(store: DynamoDbStore, jobId: string): Promise<JobRecord> {
  const record = await store.get(jobId);
  if (record === null) throw new Error(`${jobId} is not tracked`);
  return record;
}

describe('DynamoDbStore', () => {
  const stores: DynamoDbStore[] = [];

  /** A store on a fresh table whose clock stands at `now`; closed after the test. */
  async function freshStore(options: { now?: number; retentionMs?: number } = {}) {
    const table = await local.createJobTable();
    const store = new DynamoDbStore({
      client: local.client,
      table,
      clock: { now: () => options.now ?? NOW },
      retentionMs: options.retentionMs,
    });
    stores.push(store);
    return { store, table };
  }

  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    vi.unstubAllEnvs();
  });

  describe('sparse due index and retention', () => {
    it('keeps a finished job with nothing owed out of the index and dates its expiry 14 days on', async () => {
      const { store, table } = await freshStore();
      await store.track([{ jobId: 'job-a' }, { jobId: 'job-b' }], NOW);
      const tracked = await mustGet(store, 'job-a');

      const finished = await store.update(
        { ...tracked, phase: 'terminal', status: 'FINISHED', lastPolledAt: NOW, deliveries: [] },
        tracked.version,
      );

      expect(finished?.phase).toBe('terminal');
      expect(await idsInDueIndex(table)).toEqual(['job-b']);
      const item = await rawItem(table, 'job-a');
      expect(item?.due_shard).toBeUndefined();
      expect(item?.expires_at).toEqual({ N: String((NOW + DEFAULT_RETENTION_MS) / 1000) });
      expect((await rawItem(table, 'job-b'))?.expires_at).toBeUndefined();
      expect(await store.listDue({ cycleStartedAt: NOW, now: NOW, limit: 10 })).toMatchObject({
        items: [{ jobId: 'job-b' }],
      });
    });

    it('puts a finished job back in the index, without expiry, while it owes a pending delivery', async () => {
      const { store, table } = await freshStore();
      await store.track([{ jobId: 'job-a' }], NOW);
      const tracked = await mustGet(store, 'job-a');
      const finished = await store.update(
        { ...tracked, phase: 'terminal', status: 'FAILED', lastPolledAt: NOW - MINUTE },
        tracked.version,
      );
      if (finished === null) throw new Error('setup update lost');

      const owing = await store.update({ ...finished, deliveries: [pendingDelivery()] }, finished.version);

      expect(owing).not.toBeNull();
      expect(await idsInDueIndex(table)).toEqual(['job-a']);
      const item = await rawItem(table, 'job-a');
      expect(item?.expires_at).toBeUndefined();
      expect(item?.due_at).toEqual({ N: String(NOW - MINUTE) });
      expect(
        (await store.listDue({ cycleStartedAt: NOW, now: NOW, limit: 10, only: 'deliveries' })).items,
      ).toEqual([owing]);
    });

    it('lets a lost job and one whose deliveries are all dead expire after the configured retention', async () => {
      const { store, table } = await freshStore({ now: NOW + DAY, retentionMs: 2 * DAY });
      await store.track([{ jobId: 'lost' }, { jobId: 'dead-letters' }], NOW);
      const lost = await mustGet(store, 'lost');
      await store.update({ ...lost, phase: 'lost', notFoundCount: 3, lastPolledAt: NOW }, lost.version);
      const dead = await mustGet(store, 'dead-letters');
      await store.update(
        {
          ...dead,
          phase: 'terminal',
          status: 'FINISHED',
          lastPolledAt: NOW,
          deliveries: [pendingDelivery({ state: 'dead', attempts: 9 })],
        },
        dead.version,
      );

      const expiresAt = { N: String((NOW + 3 * DAY) / 1000) };
      expect((await rawItem(table, 'lost'))?.expires_at).toEqual(expiresAt);
      expect((await rawItem(table, 'dead-letters'))?.expires_at).toEqual(expiresAt);
      expect(await idsInDueIndex(table)).toEqual([]);
      expect((await store.get('dead-letters'))?.deliveries).toEqual([
        pendingDelivery({ state: 'dead', attempts: 9 }),
      ]);
    });

    it('orders the index never polled first, then by last poll, so a page of polls is least recently polled', async () => {
      const { store, table } = await freshStore();
      await store.track(
        [{ jobId: 'b-new' }, { jobId: 'a-new' }, { jobId: 'polled-early' }, { jobId: 'polled-late' }],
        NOW,
      );
      for (const [jobId, lastPolledAt] of [
        ['polled-late', NOW - MINUTE],
        ['polled-early', 5],
      ] as const) {
        const record = await mustGet(store, jobId);
        await store.update({ ...record, status: 'RUNNING', lastPolledAt }, record.version);
      }

      expect(await idsInDueIndex(table)).toEqual(['a-new', 'b-new', 'polled-early', 'polled-late']);
      const pollsOf = async (cursor: string | null) =>
        store.listDue({ cycleStartedAt: NOW - MINUTE, now: NOW, limit: 1, only: 'polls', cursor });
      const pages: string[][] = [];
      let cursor: string | null = null;
      do {
        const page: Page<JobRecord> = await pollsOf(cursor);
        pages.push(page.items.map((record) => record.jobId));
        cursor = page.cursor;
      } while (cursor !== null && pages.length < 10);
      expect(pages).toEqual([['a-new'], ['b-new'], ['polled-early']]);
      // A cursor from a listing of everything can stand past a later cycle's polls: that listing is done.
      const everything = await store.listDue({ cycleStartedAt: NOW, now: NOW, limit: 3 });
      expect(everything.items.at(-1)?.jobId).toBe('polled-early');
      expect(
        await store.listDue({
          cycleStartedAt: 5,
          now: NOW,
          limit: 3,
          only: 'polls',
          cursor: everything.cursor,
        }),
      ).toEqual({ items: [], cursor: null });
    });
  });

  it('lets exactly one of two stores (two cycles, two clients) win each compare-and-set on one table', async () => {
    const { table } = await freshStore();
    const cycleA = new DynamoDbStore({ table, client: localDynamoDbClient(local.endpoint) });
    const cycleB = new DynamoDbStore({ table, client: localDynamoDbClient(local.endpoint) });
    const jobIds = Array.from({ length: 20 }, (_, index) => `job-${index}`);
    await cycleA.track(
      jobIds.map((jobId) => ({ jobId })),
      NOW,
    );
    try {
      const outcomes = await Promise.all(
        jobIds.map(async (jobId) => {
          const [seenByA, seenByB] = await Promise.all([mustGet(cycleA, jobId), mustGet(cycleB, jobId)]);
          const lease = (destination: string) => [pendingDelivery({ destination, leaseUntil: NOW + MINUTE })];
          const [fromA, fromB] = await Promise.all([
            cycleA.update({ ...seenByA, phase: 'terminal', deliveries: lease('from-a') }, seenByA.version),
            cycleB.update({ ...seenByB, phase: 'terminal', deliveries: lease('from-b') }, seenByB.version),
          ]);
          return { jobId, fromA, fromB };
        }),
      );

      for (const { jobId, fromA, fromB } of outcomes) {
        const winners = [fromA, fromB].filter((result) => result !== null);
        expect(winners, jobId).toHaveLength(1);
        expect(await cycleB.get(jobId)).toStrictEqual(winners[0]);
      }
    } finally {
      await cycleA.close();
      await cycleB.close();
    }
  });

  it('tracks 1500 ids with at most 16 conditional puts in flight, leaving already tracked jobs alone', async () => {
    const { table } = await freshStore();
    const proxy = await startDynamoDbProxy(local.endpoint);
    const client = localDynamoDbClient(proxy.endpoint);
    const store = new DynamoDbStore({ table, client });
    try {
      const jobIds = Array.from({ length: 1500 }, (_, index) => `job-${String(index).padStart(4, '0')}`);
      await store.track(
        jobIds.slice(0, 100).map((jobId) => ({ jobId, labels: { batch: 'first' } })),
        NOW,
      );

      const result = await store.track(
        jobIds.map((jobId) => ({ jobId, labels: { batch: 'second' } })),
        NOW + MINUTE,
      );

      expect(result).toEqual({ added: 1400, addedIds: jobIds.slice(100), existing: 100 });
      expect(proxy.operations.filter((operation) => operation === 'PutItem')).toHaveLength(1600);
      expect(proxy.maxInFlight).toBeLessThanOrEqual(DYNAMODB_WRITE_CONCURRENCY);
      expect(proxy.maxInFlight).toBeGreaterThan(1);
      expect((await store.get('job-0099'))?.labels).toEqual({ batch: 'first' });
      expect((await store.get('job-0100'))?.labels).toEqual({ batch: 'second' });
    } finally {
      await store.close();
      client.destroy();
      await proxy.close();
    }
  });

  describe('start time and state items', () => {
    it('stores the start time as a number attribute, and leaves it out while unknown', async () => {
      const { store, table } = await freshStore();
      await store.track([{ jobId: 'job-a', startTime: NOW - MINUTE }, { jobId: 'job-b' }], NOW);

      expect((await rawItem(table, 'job-a'))?.start_time).toEqual({ N: String(NOW - MINUTE) });
      expect(await rawItem(table, 'job-b')).not.toHaveProperty('start_time');
      expect((await rawItem(table, 'job-b'))?.schema_version).toEqual({ N: '1' });
    });

    it('reads a job item written before start_time existed as not knowing it, and refuses a non-number', async () => {
      const { store, table } = await freshStore();
      await store.track([{ jobId: 'job-a', startTime: NOW }], NOW);
      const { start_time: _, ...withoutStartTime } = (await rawItem(table, 'job-a')) ?? {};
      await local.client.send(new PutItemCommand({ TableName: table, Item: withoutStartTime }));
      await local.client.send(
        new PutItemCommand({
          TableName: table,
          Item: { ...withoutStartTime, job_id: { S: 'job-bad' }, start_time: { S: 'yesterday' } },
        }),
      );

      expect((await store.get('job-a'))?.startTime).toBeNull();
      await expect(store.get('job-bad')).rejects.toBeInstanceOf(StoreError);
    });

    it('keeps a state value as its own item: outside the due index, never expiring, its value as JSON text', async () => {
      const { store, table } = await freshStore();
      await store.track([{ jobId: 'job-a' }], NOW);

      await store.putState('watch:etl', { cursor: 1, names: ['a'] }, 0);
      await store.putState('watch:etl', { cursor: 2, names: ['a'] }, 1);

      const item = await rawItem(table, '~state:watch:etl');
      expect(item).toEqual({
        job_id: { S: '~state:watch:etl' },
        item_kind: { S: 'state' },
        schema_version: { N: '1' },
        state_version: { N: '2' },
        state_value: { S: JSON.stringify({ cursor: 2, names: ['a'] }) },
      });
      expect(await idsInDueIndex(table)).toEqual(['job-a']);
    });

    it('refuses a state item from a newer dli-watch or another program, without quoting its value', async () => {
      const { store, table } = await freshStore();
      await local.client.send(
        new PutItemCommand({
          TableName: table,
          Item: {
            job_id: { S: '~state:newer' },
            item_kind: { S: 'state' },
            schema_version: { N: '2' },
            state_version: { N: '1' },
            state_value: { S: '"do-not-echo"' },
          },
        }),
      );
      await local.client.send(
        new PutItemCommand({
          TableName: table,
          Item: { job_id: { S: '~state:foreign' }, state_value: { S: 'do-not-echo' } },
        }),
      );

      const newer = await store.getState('newer').catch((caught: unknown) => caught);
      const foreign = await store.getState('foreign').catch((caught: unknown) => caught);

      expect(newer).toBeInstanceOf(StoreError);
      expect((newer as Error).message).toContain('newer dli-watch');
      expect(foreign).toBeInstanceOf(StoreError);
      expect((foreign as Error).message).toContain('foreign');
      for (const error of [newer, foreign]) expect((error as Error).message).not.toContain('do-not-echo');
      expect(await store.list({ limit: 10 })).toEqual({ items: [], cursor: null });
    });

    it('asks BatchGetItem again for the keys DynamoDB left unprocessed, until none are left', async () => {
      const { table } = await freshStore();
      const client = localDynamoDbClient(local.endpoint);
      let batchGets = 0;
      // Answers the first two requests as a throttled table would: part of the keys come back unprocessed.
      client.middlewareStack.add(
        (next) => async (args) => {
          const result = await next(args);
          const output = result.output as {
            Responses?: Record<string, Record<string, unknown>[]>;
            UnprocessedKeys?: Record<string, { Keys: Record<string, unknown>[]; ConsistentRead?: boolean }>;
          };
          if (output.Responses === undefined) return result;
          batchGets++;
          const items = output.Responses[table] ?? [];
          if (batchGets <= 2 && items.length > 1) {
            const kept = items.slice(0, 1);
            const left = items.slice(1).map((item) => ({ job_id: item.job_id }));
            output.Responses[table] = kept;
            output.UnprocessedKeys = { [table]: { Keys: left, ConsistentRead: true } };
          }
          return result;
        },
        { step: 'initialize', name: 'leaveKeysUnprocessed' },
      );
      const store = new DynamoDbStore({ table, client });
      try {
        const jobIds = Array.from({ length: 30 }, (_, index) => `job-${index}`);
        await store.track(
          jobIds.map((jobId) => ({ jobId })),
          NOW,
        );

        const found = await store.getMany([...jobIds, 'never-tracked']);

        expect(found.map((record) => record.jobId).sort()).toEqual([...jobIds].sort());
        expect(batchGets).toBe(3);
      } finally {
        await store.close();
        client.destroy();
      }
    });

    it('reads many jobs with one BatchGetItem, each id asked once', async () => {
      const { table } = await freshStore();
      const proxy = await startDynamoDbProxy(local.endpoint);
      const client = localDynamoDbClient(proxy.endpoint);
      const store = new DynamoDbStore({ table, client });
      try {
        await store.track([{ jobId: 'job-a' }, { jobId: 'job-b' }], NOW);
        proxy.operations.splice(0);

        const found = await store.getMany(['job-a', 'job-b', 'job-a', 'nope']);

        expect(found.map((record) => record.jobId).sort()).toEqual(['job-a', 'job-b']);
        expect(proxy.operations).toEqual(['BatchGetItem']);
        expect(await store.getMany([])).toEqual([]);
        expect(proxy.operations).toEqual(['BatchGetItem']);
      } finally {
        await store.close();
        client.destroy();
        await proxy.close();
      }
    });
  });

  describe('throttling', () => {
    /** A store whose requests pass through a proxy that answers `throttled` requests with `errorType`. */
    async function throttledStore(
      decide: (operation: string, index: number) => ProxyDecision,
      clientConfig: { maxAttempts?: number } = {},
    ) {
      const { table } = await freshStore();
      const proxy = await startDynamoDbProxy(local.endpoint, decide);
      const client = localDynamoDbClient(proxy.endpoint, clientConfig);
      const store = new DynamoDbStore({ table, client });
      return {
        store,
        table,
        proxy,
        async close() {
          await store.close();
          client.destroy();
          await proxy.close();
        },
      };
    }

    it('retries throttled requests of either kind, so nothing is lost', async () => {
      const throttledOnce = new Map([
        ['PutItem', 'ProvisionedThroughputExceededException'],
        ['GetItem', 'ThrottlingException'],
      ]);
      const { store, proxy, close } = await throttledStore((operation) => {
        const errorType = throttledOnce.get(operation);
        if (errorType === undefined) return 'forward';
        throttledOnce.delete(operation);
        return { errorType };
      });
      try {
        expect(await store.track([{ jobId: 'job-a', labels: { team: 'data' } }], NOW)).toEqual({
          added: 1,
          addedIds: ['job-a'],
          existing: 0,
        });
        expect((await store.get('job-a'))?.labels).toEqual({ team: 'data' });
        expect(proxy.operations).toEqual(['PutItem', 'PutItem', 'GetItem', 'GetItem']);
      } finally {
        await close();
      }
    });

    it('gives up after the client’s attempts with a StoreError naming the table and the operation', async () => {
      const { store, table, proxy, close } = await throttledStore(
        () => ({ errorType: 'ThrottlingException' }),
        {
          maxAttempts: 2,
        },
      );
      try {
        const error = await store.get('job-a').catch((caught: unknown) => caught);

        expect(error).toBeInstanceOf(StoreError);
        expect((error as Error).message).toBe(
          `Cannot read a job in the DynamoDB table ${table}: ThrottlingException: Rate of requests exceeds the allowed throughput.`,
        );
        expect(proxy.operations).toEqual(['GetItem', 'GetItem']);
      } finally {
        await close();
      }
    });

    it('makes six attempts by default', async () => {
      const client = localDynamoDbClient(local.endpoint);
      try {
        expect(DYNAMODB_MAX_ATTEMPTS).toBe(6);
        expect(await client.config.maxAttempts()).toBe(6);
      } finally {
        client.destroy();
      }
    });
  });

  describe('errors', () => {
    it('reports a missing table as a StoreError naming it and the operation, without record contents', async () => {
      const store = new DynamoDbStore({ client: local.client, table: 'no-such-table' });
      stores.push(store);

      const error = await store
        .track([{ jobId: 'job-a', labels: { team: 'do-not-echo' } }], NOW)
        .catch((caught: unknown) => caught);

      expect(error).toBeInstanceOf(StoreError);
      expect((error as Error).message).toContain('no-such-table');
      expect((error as Error).message).toContain('Cannot track jobs');
      expect((error as Error).message).toContain('ResourceNotFoundException');
      expect((error as Error).message).not.toContain('do-not-echo');
      expect((error as Error).cause).toBeInstanceOf(Error);
    });

    it('refuses an item another program wrote, and one from a newer dli-watch, leaving other jobs readable', async () => {
      const { store, table } = await freshStore();
      await store.track([{ jobId: 'job-ok' }], NOW);
      await local.client.send(
        new PutItemCommand({
          TableName: table,
          Item: { job_id: { S: 'job-foreign' }, labels: { S: 'do-not-echo' } },
        }),
      );
      const newer = await rawItem(table, 'job-ok');
      await local.client.send(
        new PutItemCommand({
          TableName: table,
          Item: { ...newer, job_id: { S: 'job-newer' }, schema_version: { N: '2' } },
        }),
      );

      const foreign = await store.get('job-foreign').catch((caught: unknown) => caught);
      const fromNewer = await store.get('job-newer').catch((caught: unknown) => caught);

      expect(foreign).toBeInstanceOf(StoreError);
      expect((foreign as Error).message).toContain('job-foreign');
      expect((foreign as Error).message).not.toContain('do-not-echo');
      expect(fromNewer).toBeInstanceOf(StoreError);
      expect((fromNewer as Error).message).toContain('newer dli-watch');
      expect((await store.get('job-ok'))?.jobId).toBe('job-ok');
    });

    it('rejects a cursor it did not hand out, and work on a closed store', async () => {
      const { store } = await freshStore();
      await store.track([{ jobId: 'job-a' }, { jobId: 'job-b' }], NOW);
      const listCursor = (await store.list({ limit: 1 })).cursor;
      if (listCursor === null) throw new Error('expected a second page');

      await expect(
        store.listDue({ cycleStartedAt: NOW, now: NOW, limit: 1, cursor: listCursor }),
      ).rejects.toThrow(InvalidCursorError);
      await expect(store.list({ limit: 1, cursor: 'not-a-cursor' })).rejects.toThrow(InvalidCursorError);
      await store.close();
      await expect(store.get('job-a')).rejects.toBeInstanceOf(StoreError);
    });
  });

  describe('openStore', () => {
    it('builds a DynamoDB store for dynamodb:<table> that honours AWS_REGION and AWS_ENDPOINT_URL_DYNAMODB', async () => {
      const table = await local.createJobTable();
      vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', local.endpoint);
      vi.stubEnv('AWS_REGION', LOCAL_AWS.region);
      vi.stubEnv('AWS_ACCESS_KEY_ID', LOCAL_AWS.credentials.accessKeyId);
      vi.stubEnv('AWS_SECRET_ACCESS_KEY', LOCAL_AWS.credentials.secretAccessKey);
      vi.stubEnv('AWS_SESSION_TOKEN', undefined);
      vi.stubEnv('AWS_PROFILE', undefined);

      const store = await openStore({ kind: 'dynamodb', table });
      try {
        expect(store).toBeInstanceOf(DynamoDbStore);
        expect(await store.track([{ jobId: 'job-a', labels: { via: 'env' } }], NOW)).toEqual({
          added: 1,
          addedIds: ['job-a'],
          existing: 0,
        });
      } finally {
        await store.close();
      }

      // Written to dynalite's table, where a store built from an explicit client sees it.
      const reader = new DynamoDbStore({ client: local.client, table });
      stores.push(reader);
      expect((await reader.get('job-a'))?.labels).toEqual({ via: 'env' });
    });

    it('refuses to open without a region, naming the variable to set', async () => {
      vi.stubEnv('AWS_REGION', undefined);
      vi.stubEnv('AWS_DEFAULT_REGION', undefined);
      vi.stubEnv('AWS_PROFILE', undefined);
      vi.stubEnv('AWS_CONFIG_FILE', '/nonexistent/aws-config');

      const error = await openStore({ kind: 'dynamodb', table: 'jobs' }).catch((caught: unknown) => caught);

      expect(error).toBeInstanceOf(StoreError);
      expect((error as Error).message).toBe(
        'Cannot open the DynamoDB table jobs: no AWS region is configured (set AWS_REGION)',
      );
    });
  });
});
