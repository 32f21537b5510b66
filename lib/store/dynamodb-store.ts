import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DynamoDBClient,
  type DynamoDBClientConfig,
  DynamoDBServiceException,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  type PutCommandInput,
  QueryCommand,
  type QueryCommandInput,
  ScanCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  type DailySummary,
  type Delivery,
  earliestDeliveryAttemptAt,
  type JobEvent,
  type JobPhase,
  type JobRecord,
  type KeySource,
  newJobRecord,
  readStoredEvent,
  type TrackRequest,
} from '../job.ts';
import type { Clock } from '../util/clock.ts';
import { forEachBounded } from '../util/for-each-bounded.ts';
import { isRecord } from '../util/is-record.ts';
import {
  assertStateKey,
  type DuePageQuery,
  MAX_GET_MANY,
  type Page,
  type PrunableJobStore,
  type PruneQuery,
  type PruneResult,
  type StoredState,
  type TrackResult,
} from './job-store.ts';
import {
  assertPageLimit,
  type DueCursor,
  decodeDueCursor,
  decodeListCursor,
  encodeCursor,
  type ListCursor,
} from './page-cursor.ts';
import { StoreError } from './store-error.ts';

/** Name of the sparse global secondary index that `listDue` queries. */
export const DYNAMODB_DUE_INDEX = 'due-by-last-poll';

/** The attribute DynamoDB's time to live deletes finished jobs by (epoch seconds). */
export const DYNAMODB_TTL_ATTRIBUTE = 'expires_at';

/** How long a finished job with nothing left to deliver is kept before DynamoDB's TTL removes it. */
export const DEFAULT_RETENTION_MS = 14 * 24 * 60 * 60 * 1000;

/**
 * Attempts per request, the first included. The SDK's standard retry strategy retries throttling
 * (`ProvisionedThroughputExceededException`, `ThrottlingException`), 5xx answers and dropped connections with
 * jittered exponential backoff (1 s base for throttling in this SDK version, so 5 retries wait 15 s on
 * average and 31 s at most): enough to ride out an on-demand table scaling up, short enough to fit a cycle.
 */
export const DYNAMODB_MAX_ATTEMPTS = 6;

/** Conditional writes `track` and `untrack` keep in flight at once: fast, without a burst that throttles. */
export const DYNAMODB_WRITE_CONCURRENCY = 16;

/** Partition key value of every item in the due index: the index only holds jobs that can need work. */
const DUE_SHARD = 'due';

/**
 * Format of the items this code writes. An item with a higher `schema_version` came from a newer dli-watch
 * that may store things this one does not understand, so it is refused rather than overwritten.
 *
 * Still 1 with `start_time` and the state items: `start_time` is optional (an item without it reads as "not known
 * yet", and an older dli-watch ignores it), and a job item's layout is otherwise unchanged. Bumping it would make
 * every older dli-watch refuse every job written from now on.
 */
const ITEM_SCHEMA_VERSION = 1;

/** Digits of a last-poll instant in the due index's sort key: every non-negative safe integer fits. */
const POLL_TIME_DIGITS = 16;
const LARGEST_POLL_TIME = 10 ** POLL_TIME_DIGITS - 1;

/** Reading fewer items per request than this would cost round trips when the filter drops most of them. */
const MIN_DUE_QUERY_ITEMS = 100;

const JOB_PHASES: readonly string[] = ['active', 'terminal', 'lost'] satisfies JobPhase[];

/**
 * State values share the table with the jobs, under a partition key no job id can take (job ids are letters,
 * digits and `-`): the deployed table and the function's permissions stay as they are. They carry no `phase`, so
 * `list` and `prune` pass them by, and no `due_shard`, so the due index never holds them.
 */
const STATE_KEY_PREFIX = '~state:';

/** Tries of a BatchGetItem whose keys DynamoDB left unprocessed (throttled), with a doubling pause between. */
const BATCH_GET_TRIES = 8;

/**
 * One job as a DynamoDB item. The record's own fields are stored as attributes of their own (readable in the
 * console); the attributes after them are derived from the record on every write, like SQLite's columns.
 * Nullable fields are left out rather than stored as NULL.
 */
interface JobItem {
  job_id: string;
  schema_version: number;
  version: number;
  phase: JobPhase;
  status?: string;
  labels: Record<string, string>;
  not_found_count: number;
  tracked_at: number;
  /**
   * DLI's start time of the job. Added without a new item schema version: an older dli-watch reading such an item
   * ignores the attribute, and this one reads an item without it as "not known yet".
   */
  start_time?: number;
  last_polled_at?: number;
  status_changed_at?: number;
  /**
   * JSON text: the event carries DLI's full status response, whose numbers and shapes DynamoDB's types do
   * not all hold exactly (numbers beyond 1e125, for one).
   */
  event?: string;
  /**
   * JSON text, like `event`. This and the two below were added without a new item schema version: an older
   * dli-watch ignores them, and this one reads an item without them as having none.
   */
  notices?: string;
  /** JSON text, like `event`: a summary record's summary (`daily-summary.ts`). */
  summary?: string;
  warn_after_ms?: number;
  key_from?: KeySource;
  deliveries: Delivery[];
  /** Earliest moment a pending delivery may be attempted; absent when nothing is pending. */
  due_at?: number;
  /** Present only while the job can need work (active, or owing a pending delivery): the index is sparse. */
  due_shard?: typeof DUE_SHARD;
  due_sort?: string;
  /** Epoch seconds: set once the job is finished with nothing pending, so the TTL deletes it later. */
  expires_at?: number;
}

export interface DynamoDbStoreOptions {
  /** Table name; the table must have the layout {@link DynamoDbStore.createTable} creates. */
  table: string;
  /**
   * Client to use; the caller keeps ownership (closing the store leaves it open). Without one the store
   * makes its own with {@link createDynamoDbClient} and destroys it on close.
   */
  client?: DynamoDBClient;
  /** How long a finished job with nothing left to deliver is kept; default {@link DEFAULT_RETENTION_MS}. */
  retentionMs?: number;
  /** Dates the expiry of finished jobs; default the system clock. */
  clock?: Pick<Clock, 'now'>;
}

/**
 * A DynamoDB client with dli-watch's retry settings ({@link DYNAMODB_MAX_ATTEMPTS}). Region, credentials and
 * endpoint come from the standard AWS sources (`AWS_REGION`, `AWS_ENDPOINT_URL_DYNAMODB`, the credential
 * chain) unless `config` sets them.
 */
export function createDynamoDbClient(config: DynamoDBClientConfig = {}): DynamoDBClient {
  return new DynamoDBClient({ maxAttempts: DYNAMODB_MAX_ATTEMPTS, ...config });
}

/**
 * The table layout the store needs, as a `CreateTable` request. `serverless.yml` must declare the same:
 * - partition key `job_id` (S), no sort key;
 * - global secondary index `due-by-last-poll` ({@link DYNAMODB_DUE_INDEX}): partition key `due_shard` (S),
 *   sort key `due_sort` (S), projection ALL;
 * - attribute definitions for exactly those three attributes, billing mode PAY_PER_REQUEST;
 * - time to live on `expires_at` ({@link DYNAMODB_TTL_ATTRIBUTE}), which `CreateTable` cannot set.
 */
export function dynamoDbTableDefinition(table: string): CreateTableCommandInput {
  return {
    TableName: table,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'job_id', AttributeType: 'S' },
      { AttributeName: 'due_shard', AttributeType: 'S' },
      { AttributeName: 'due_sort', AttributeType: 'S' },
    ],
    KeySchema: [{ AttributeName: 'job_id', KeyType: 'HASH' }],
    GlobalSecondaryIndexes: [
      {
        IndexName: DYNAMODB_DUE_INDEX,
        KeySchema: [
          { AttributeName: 'due_shard', KeyType: 'HASH' },
          { AttributeName: 'due_sort', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
  };
}

/**
 * Sort key in the due index: never polled (`0#<job id>`) before every polled job
 * (`1<last poll, 16 digits>#<job id>`), polled ones oldest poll first, ties broken by id. Strings compare
 * by UTF-8 bytes in DynamoDB, as in SQLite, so both backends order ids alike.
 */
function dueSortKey(lastPolledAt: number | null, jobId: string): string {
  if (lastPolledAt === null) return `0#${jobId}`;
  return `1${String(lastPolledAt).padStart(POLL_TIME_DIGITS, '0')}#${jobId}`;
}

/** The smallest sort key of a job polled at or after `cycleStartedAt`: polls wanted sort strictly below it. */
function pollSortBound(cycleStartedAt: number): string {
  if (cycleStartedAt <= 0) return '1';
  if (cycleStartedAt > LARGEST_POLL_TIME) return '2';
  // Poll instants are integers, so `polled < cycleStartedAt` is `polled < ceil(cycleStartedAt)`.
  return `1${String(Math.ceil(cycleStartedAt)).padStart(POLL_TIME_DIGITS, '0')}`;
}

function assertPollTime(lastPolledAt: number | null): void {
  if (lastPolledAt === null) return;
  if (!Number.isSafeInteger(lastPolledAt) || lastPolledAt < 0) {
    throw new RangeError(`lastPolledAt must be a non-negative integer (epoch ms), got ${lastPolledAt}`);
  }
}

/** The condition part of a conditional put. */
type PutCondition = Pick<
  PutCommandInput,
  'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'
>;

/** Create-if-absent: no item under this key yet. */
const ABSENT: PutCondition = {
  ConditionExpression: 'attribute_not_exists(#key)',
  ExpressionAttributeNames: { '#key': 'job_id' },
};

/** Compare-and-set: the stored `attribute` is still `expected`. */
function atVersion(attribute: string, expected: number): PutCondition {
  return {
    ConditionExpression: '#version = :expected',
    ExpressionAttributeNames: { '#version': attribute },
    ExpressionAttributeValues: { ':expected': expected },
  };
}

/** A compare-and-set or create-if-absent condition that did not hold: someone else got there first. */
function isConditionFailure(error: unknown): boolean {
  return isRecord(error) && error.name === 'ConditionalCheckFailedException';
}

/** What a failure says about itself, without anything that came out of a record. */
function describeCause(error: unknown): string {
  // DynamoDB's own messages name attributes and limits, not values. Client-side failures can quote values
  // (the marshaller names what it could not convert), so only their kind is kept, plus a system error code
  // (ECONNREFUSED and the like) and the credential chain's message, which say what to fix.
  if (error instanceof DynamoDBServiceException) return `${error.name}: ${error.message}`;
  if (!(error instanceof Error)) return 'unknown error';
  if (error.name === 'CredentialsProviderError') return `${error.name}: ${error.message}`;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? `${error.name} (${code})` : error.name;
}

/**
 * The job store in one DynamoDB table, for running dli-watch on AWS. One item per job; every change is a
 * conditional write on its `version` (no transactions), so overlapping cycles, the API and the CLI can all
 * use the table at once and a lost compare-and-set just means somebody else did the work.
 *
 * Jobs that can need work carry `due_shard`/`due_sort` and so appear in the sparse index
 * {@link DYNAMODB_DUE_INDEX}, which `listDue` reads in least-recently-polled order; finished jobs leave it
 * and get `expires_at`, so the table's TTL deletes them after the retention period. Reads of the index are
 * eventually consistent: a page may hold a copy that was changed a moment ago, whose update then loses its
 * compare-and-set, which is how a stale view is meant to end.
 */
export class DynamoDbStore implements PrunableJobStore {
  readonly table: string;
  readonly retentionMs: number;
  readonly #client: DynamoDBClient;
  readonly #documents: DynamoDBDocumentClient;
  readonly #ownsClient: boolean;
  readonly #clock: Pick<Clock, 'now'>;
  #closed = false;

  constructor(options: DynamoDbStoreOptions) {
    const retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
    if (!Number.isSafeInteger(retentionMs) || retentionMs < 0) {
      throw new RangeError(`retentionMs must be a non-negative integer, got ${retentionMs}`);
    }
    this.table = options.table;
    this.retentionMs = retentionMs;
    this.#ownsClient = options.client === undefined;
    this.#client = options.client ?? createDynamoDbClient();
    this.#documents = DynamoDBDocumentClient.from(this.#client, {
      marshallOptions: { removeUndefinedValues: true },
    });
    this.#clock = options.clock ?? { now: () => Date.now() };
  }

  /**
   * Opens the store on `table` with a client of its own configured from the environment. Checks only what
   * can be checked without a request (a region is configured); a missing table or missing permissions
   * surface as a {@link StoreError} from the first operation.
   *
   * @throws StoreError when no AWS region is configured.
   */
  static async open(options: Omit<DynamoDbStoreOptions, 'client'>): Promise<DynamoDbStore> {
    const store = new DynamoDbStore(options);
    try {
      await store.#client.config.region();
    } catch (error) {
      await store.close();
      throw new StoreError(
        `Cannot open the DynamoDB table ${options.table}: no AWS region is configured (set AWS_REGION)`,
        { cause: error },
      );
    }
    return store;
  }

  /**
   * Creates `table` with the layout of {@link dynamoDbTableDefinition}, waits until it is active, then turns
   * on its time to live (`enableTimeToLive: false` skips that, for servers without `UpdateTimeToLive`,
   * like dynalite). For tests and manual setups; deployments create the table from `serverless.yml`.
   */
  static async createTable(
    client: DynamoDBClient,
    table: string,
    options: { enableTimeToLive?: boolean; maxWaitSeconds?: number } = {},
  ): Promise<void> {
    await client.send(new CreateTableCommand(dynamoDbTableDefinition(table)));
    await waitUntilTableExists(
      { client, maxWaitTime: options.maxWaitSeconds ?? 300, minDelay: 1, maxDelay: 10 },
      { TableName: table },
    );
    if (options.enableTimeToLive ?? true) {
      await client.send(
        new UpdateTimeToLiveCommand({
          TableName: table,
          TimeToLiveSpecification: { AttributeName: DYNAMODB_TTL_ATTRIBUTE, Enabled: true },
        }),
      );
    }
  }

  async track(jobs: TrackRequest[], now: number): Promise<TrackResult> {
    // A job named twice in one call keeps its first labels, as it would have had the calls been separate.
    const firsts = new Map<string, TrackRequest>();
    for (const job of jobs) if (!firsts.has(job.jobId)) firsts.set(job.jobId, job);
    let added = 0;
    const addedSet = new Set<string>();
    await this.#run('track jobs', async () => {
      try {
        // BatchWriteItem cannot be conditional, and tracking must leave existing jobs alone: one
        // create-if-absent PutItem per job.
        await forEachBounded([...firsts.values()], DYNAMODB_WRITE_CONCURRENCY, async (job) => {
          const record = newJobRecord(job, now);
          if (await this.#putIf(this.#toItem(record, 1), ABSENT)) {
            added++;
            addedSet.add(job.jobId);
          }
        });
      } catch (error) {
        // Without a transaction the jobs added so far stay; tracking is idempotent, so a retry finishes it.
        throw new StoreError(
          `Cannot track jobs in the DynamoDB table ${this.table} (${added} of ${firsts.size} were added ` +
            `before the failure; tracking them again is safe): ${describeCause(error)}`,
          { cause: error },
        );
      }
    });
    return {
      added,
      addedIds: [...firsts.keys()].filter((jobId) => addedSet.has(jobId)),
      existing: jobs.length - added,
    };
  }

  async create(record: JobRecord): Promise<boolean> {
    return this.#run('create a record', () => this.#putIf(this.#toItem(record, 1), ABSENT));
  }

  async untrack(jobIds: string[]): Promise<string[]> {
    const removed = new Set<string>();
    await this.#run('untrack jobs', () =>
      forEachBounded([...new Set(jobIds)], DYNAMODB_WRITE_CONCURRENCY, async (jobId) => {
        try {
          await this.#documents.send(
            new DeleteCommand({
              TableName: this.table,
              Key: { job_id: jobId },
              // Tells "was tracked" from "was not" without reading the item back.
              ConditionExpression: 'attribute_exists(#jobId)',
              ExpressionAttributeNames: { '#jobId': 'job_id' },
            }),
          );
          removed.add(jobId);
        } catch (error) {
          if (!isConditionFailure(error)) throw error;
        }
      }),
    );
    return [...new Set(jobIds)].filter((jobId) => removed.has(jobId));
  }

  /**
   * A filtered Scan finds the candidates; each is deleted on condition that its version is the one read, so a job
   * changed since (a delivery redelivered) stays. The table's TTL removes finished jobs anyway after the retention
   * period, dead-lettered ones included; `prune` is for removing them sooner.
   */
  async prune(query: PruneQuery): Promise<PruneResult> {
    let removed = 0;
    let keptDeadLettered = 0;
    await this.#run('prune jobs', async () => {
      let startKey: Record<string, unknown> | undefined;
      do {
        const page = await this.#documents.send(
          new ScanCommand({
            TableName: this.table,
            ConsistentRead: true,
            // due_at is absent exactly when nothing is pending.
            FilterExpression:
              '#phase IN (:terminal, :lost) AND attribute_not_exists(#dueAt) AND #lastPolledAt < :before',
            ExpressionAttributeNames: {
              '#phase': 'phase',
              '#dueAt': 'due_at',
              '#lastPolledAt': 'last_polled_at',
            },
            ExpressionAttributeValues: {
              ':terminal': 'terminal',
              ':lost': 'lost',
              ':before': query.finishedBefore,
            },
            ExclusiveStartKey: startKey,
          }),
        );
        const doomed: JobRecord[] = [];
        for (const item of page.Items ?? []) {
          const record = this.#toRecord(item);
          if (!query.includeDeadLettered && record.deliveries.some((delivery) => delivery.state === 'dead')) {
            keptDeadLettered++;
          } else {
            doomed.push(record);
          }
        }
        await forEachBounded(doomed, DYNAMODB_WRITE_CONCURRENCY, async (record) => {
          try {
            await this.#documents.send(
              new DeleteCommand({
                TableName: this.table,
                Key: { job_id: record.jobId },
                ConditionExpression: '#version = :read',
                ExpressionAttributeNames: { '#version': 'version' },
                ExpressionAttributeValues: { ':read': record.version },
              }),
            );
            removed++;
          } catch (error) {
            if (!isConditionFailure(error)) throw error;
          }
        });
        startKey = page.LastEvaluatedKey;
      } while (startKey !== undefined);
    });
    return { removed, keptDeadLettered };
  }

  async get(jobId: string): Promise<JobRecord | null> {
    return this.#run('read a job', async () => {
      const { Item } = await this.#documents.send(
        new GetCommand({ TableName: this.table, Key: { job_id: jobId }, ConsistentRead: true }),
      );
      return Item === undefined ? null : this.#toRecord(Item);
    });
  }

  async getMany(jobIds: readonly string[]): Promise<JobRecord[]> {
    if (jobIds.length > MAX_GET_MANY) {
      throw new RangeError(`getMany takes at most ${MAX_GET_MANY} ids, got ${jobIds.length}`);
    }
    const unique = [...new Set(jobIds)];
    if (unique.length === 0) return [];
    return this.#run('read jobs', async () => {
      const items: Record<string, unknown>[] = [];
      let keys: Record<string, unknown>[] = unique.map((jobId) => ({ job_id: jobId }));
      for (let attempt = 0; keys.length > 0; attempt++) {
        if (attempt >= BATCH_GET_TRIES) {
          throw new StoreError(
            `Cannot read jobs in the DynamoDB table ${this.table}: ${keys.length} keys stayed unprocessed`,
            { transient: true },
          );
        }
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
        const answer = await this.#documents.send(
          new BatchGetCommand({ RequestItems: { [this.table]: { Keys: keys, ConsistentRead: true } } }),
        );
        items.push(...(answer.Responses?.[this.table] ?? []));
        keys = (answer.UnprocessedKeys?.[this.table]?.Keys ?? []) as Record<string, unknown>[];
      }
      return items.filter((item) => typeof item.phase === 'string').map((item) => this.#toRecord(item));
    });
  }

  async getState(key: string): Promise<StoredState | null> {
    assertStateKey(key);
    return this.#run('read a state value', async () => {
      const { Item } = await this.#documents.send(
        new GetCommand({
          TableName: this.table,
          Key: { job_id: STATE_KEY_PREFIX + key },
          ConsistentRead: true,
        }),
      );
      return Item === undefined ? null : this.#toState(Item);
    });
  }

  async listStates(prefix: string): Promise<StoredState[]> {
    return this.#run('read state values', async () => {
      const states: StoredState[] = [];
      let startKey: Record<string, unknown> | undefined;
      do {
        // A Scan: state values are few, and the table has no index over them (adding one would change the stack).
        const page = await this.#documents.send(
          new ScanCommand({
            TableName: this.table,
            ConsistentRead: true,
            FilterExpression: 'begins_with(#key, :prefix) AND #kind = :state',
            ExpressionAttributeNames: { '#key': 'job_id', '#kind': 'item_kind' },
            ExpressionAttributeValues: { ':prefix': STATE_KEY_PREFIX + prefix, ':state': 'state' },
            ExclusiveStartKey: startKey,
          }),
        );
        for (const item of page.Items ?? []) states.push(this.#toState(item));
        startKey = page.LastEvaluatedKey;
      } while (startKey !== undefined);
      return states.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    });
  }

  async putState(key: string, value: unknown, expectedVersion: number): Promise<number | null> {
    assertStateKey(key);
    if (!Number.isSafeInteger(expectedVersion) || expectedVersion < 0) {
      throw new RangeError(`expectedVersion must be a non-negative integer, got ${expectedVersion}`);
    }
    // Serialized before any request: a value JSON cannot hold is the caller's mistake, not the table's.
    const text = JSON.stringify(value);
    if (text === undefined) throw new TypeError('A state value must be JSON-serializable, got undefined');
    const version = expectedVersion + 1;
    const item = {
      job_id: STATE_KEY_PREFIX + key,
      item_kind: 'state',
      schema_version: ITEM_SCHEMA_VERSION,
      state_version: version,
      state_value: text,
    };
    return this.#run('write a state value', async () =>
      (await this.#putIf(item, expectedVersion === 0 ? ABSENT : atVersion('state_version', expectedVersion)))
        ? version
        : null,
    );
  }

  async list(options: { limit: number; cursor?: string | null }): Promise<Page<JobRecord>> {
    assertPageLimit(options.limit);
    const after = options.cursor == null ? null : decodeListCursor(options.cursor);
    return this.#run('list jobs', async () => {
      // A Scan: every job, in DynamoDB's hash order. One item more than asked tells whether a page follows.
      const wanted = options.limit + 1;
      const items: Record<string, unknown>[] = [];
      let startKey: Record<string, unknown> | undefined =
        after === null ? undefined : { job_id: after.jobId };
      do {
        const page = await this.#documents.send(
          new ScanCommand({
            TableName: this.table,
            ConsistentRead: true,
            // State values have no phase. Limit counts items read before this filter, so a page can come short.
            FilterExpression: 'attribute_exists(#phase)',
            ExpressionAttributeNames: { '#phase': 'phase' },
            Limit: wanted - items.length,
            ExclusiveStartKey: startKey,
          }),
        );
        items.push(...(page.Items ?? []));
        startKey = page.LastEvaluatedKey;
      } while (items.length < wanted && startKey !== undefined);
      return this.#toPage(items, options.limit, (last) => ({ kind: 'all', jobId: last.jobId }));
    });
  }

  async listDue(query: DuePageQuery): Promise<Page<JobRecord>> {
    assertPageLimit(query.limit);
    const after = query.cursor == null ? null : decodeDueCursor(query.cursor);
    const afterSort = after === null ? null : dueSortKey(after.lastPolledAt, after.jobId);
    const includePolls = query.only !== 'deliveries';
    const includeDeliveries = query.only !== 'polls';
    const names: Record<string, string> = { '#shard': 'due_shard' };
    const values: Record<string, unknown> = { ':due': DUE_SHARD };
    let keyCondition = '#shard = :due';
    const wanted: string[] = [];
    if (includePolls) {
      Object.assign(names, { '#phase': 'phase', '#lastPolledAt': 'last_polled_at' });
      Object.assign(values, { ':active': 'active', ':cycleStartedAt': query.cycleStartedAt });
      wanted.push(
        '(#phase = :active AND (attribute_not_exists(#lastPolledAt) OR #lastPolledAt < :cycleStartedAt))',
      );
    }
    if (includeDeliveries) {
      names['#dueAt'] = 'due_at';
      values[':now'] = query.now;
      // False when due_at is absent: nothing pending.
      wanted.push('#dueAt <= :now');
    }
    if (query.only === 'polls') {
      // Jobs polled in this cycle sort at or after the bound: the key condition skips them unread.
      const bound = pollSortBound(query.cycleStartedAt);
      if (afterSort !== null && afterSort >= bound) return { items: [], cursor: null };
      names['#sort'] = 'due_sort';
      values[':pollBound'] = bound;
      keyCondition += ' AND #sort < :pollBound';
    }
    return this.#run('list due jobs', async () => {
      const wantedItems = query.limit + 1;
      const items: Record<string, unknown>[] = [];
      // The cursor is the index key of the last job handed out, not DynamoDB's LastEvaluatedKey: a filtered
      // page can end anywhere, and an item updated or removed since still marks a position in the index.
      let startKey: Record<string, unknown> | undefined =
        after === null ? undefined : { job_id: after.jobId, due_shard: DUE_SHARD, due_sort: afterSort };
      do {
        const request: QueryCommandInput = {
          TableName: this.table,
          IndexName: DYNAMODB_DUE_INDEX,
          KeyConditionExpression: keyCondition,
          FilterExpression: wanted.join(' OR '),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          // Limit counts items read before the filter; a filtered page can hold fewer than asked, or none.
          Limit: Math.max(wantedItems - items.length, MIN_DUE_QUERY_ITEMS),
          ExclusiveStartKey: startKey,
        };
        const page = await this.#documents.send(new QueryCommand(request));
        items.push(...(page.Items ?? []));
        startKey = page.LastEvaluatedKey;
      } while (items.length < wantedItems && startKey !== undefined);
      return this.#toPage(items, query.limit, (last) => ({
        kind: 'due',
        lastPolledAt: last.lastPolledAt,
        jobId: last.jobId,
      }));
    });
  }

  async update(next: JobRecord, expectedVersion: number): Promise<JobRecord | null> {
    assertPollTime(next.lastPolledAt);
    return this.#run('update a job', async () => {
      const version = expectedVersion + 1;
      // A whole-item put: attributes the new record no longer derives (due_shard, expires_at) disappear.
      // The condition also fails when the job was untracked, so an update never recreates it.
      const stored = await this.#putIf(this.#toItem(next, version), atVersion('version', expectedVersion));
      return stored ? { ...next, version } : null;
    });
  }

  /**
   * Puts `item` on `condition`: `false` when the condition did not hold (someone else got there first), which is
   * never an error. The one conditional put of the store: tracking, record updates and state values.
   */
  async #putIf(item: object, condition: PutCondition): Promise<boolean> {
    try {
      await this.#documents.send(new PutCommand({ TableName: this.table, Item: item, ...condition }));
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#ownsClient) this.#client.destroy();
  }

  /** Runs `work`, turning anything the SDK throws into a StoreError that names the table and operation. */
  async #run<T>(operation: string, work: () => Promise<T>): Promise<T> {
    if (this.#closed) {
      throw new StoreError(`Cannot ${operation}: the store on DynamoDB table ${this.table} is closed`);
    }
    try {
      return await work();
    } catch (error) {
      if (error instanceof StoreError) throw error;
      throw new StoreError(
        `Cannot ${operation} in the DynamoDB table ${this.table}: ${describeCause(error)}`,
        { cause: error, transient: isTransientAwsError(error) },
      );
    }
  }

  /** The first `limit` items as records, and a cursor after the last of them when more were read. */
  #toPage(
    items: readonly Record<string, unknown>[],
    limit: number,
    cursorAfter: (last: JobRecord) => DueCursor | ListCursor,
  ): Page<JobRecord> {
    const records = items.slice(0, limit).map((item) => this.#toRecord(item));
    const last = records.at(-1);
    return { items: records, cursor: items.length > limit && last ? encodeCursor(cursorAfter(last)) : null };
  }

  #toItem(record: JobRecord, version: number): JobItem {
    assertPollTime(record.lastPolledAt);
    const dueAt = earliestDeliveryAttemptAt(record.deliveries);
    const canNeedWork = record.phase === 'active' || dueAt !== null;
    return {
      job_id: record.jobId,
      schema_version: ITEM_SCHEMA_VERSION,
      version,
      phase: record.phase,
      status: record.status ?? undefined,
      labels: record.labels,
      not_found_count: record.notFoundCount,
      tracked_at: record.trackedAt,
      start_time: record.startTime ?? undefined,
      last_polled_at: record.lastPolledAt ?? undefined,
      status_changed_at: record.statusChangedAt ?? undefined,
      event: record.event === null ? undefined : JSON.stringify(record.event),
      notices: record.notices.length === 0 ? undefined : JSON.stringify(record.notices),
      summary: record.summary === undefined ? undefined : JSON.stringify(record.summary),
      warn_after_ms: record.warnAfterMs ?? undefined,
      key_from: record.keyFrom ?? undefined,
      deliveries: record.deliveries,
      due_at: dueAt ?? undefined,
      due_shard: canNeedWork ? DUE_SHARD : undefined,
      due_sort: canNeedWork ? dueSortKey(record.lastPolledAt, record.jobId) : undefined,
      // Counted from the later of now and the last poll: a summary record's "last poll" is the end of the day it is
      // owed on, and it must outlive that day, or a cycle would find it gone and raise it again.
      expires_at: canNeedWork
        ? undefined
        : Math.ceil((Math.max(this.#clock.now(), record.lastPolledAt ?? 0) + this.retentionMs) / 1000),
    };
  }

  #toState(item: Record<string, unknown>): StoredState {
    const key = String(item.job_id).slice(STATE_KEY_PREFIX.length);
    if (typeof item.schema_version === 'number' && item.schema_version > ITEM_SCHEMA_VERSION) {
      throw new StoreError(
        `The state value ${key} in the DynamoDB table ${this.table} has item schema version ` +
          `${item.schema_version}, written by a newer dli-watch; this one only knows up to version ` +
          `${ITEM_SCHEMA_VERSION}. Upgrade dli-watch.`,
      );
    }
    if (
      item.item_kind !== 'state' ||
      typeof item.state_version !== 'number' ||
      typeof item.state_value !== 'string'
    ) {
      throw new StoreError(
        `The state value ${key} in the DynamoDB table ${this.table} was not written by dli-watch`,
      );
    }
    try {
      return { key, version: item.state_version, value: JSON.parse(item.state_value) };
    } catch (error) {
      throw new StoreError(`The state value ${key} in the DynamoDB table ${this.table} is not valid JSON`, {
        cause: error,
      });
    }
  }

  #toRecord(item: Record<string, unknown>): JobRecord {
    const jobId = item.job_id;
    const schemaVersion = item.schema_version;
    if (
      typeof jobId === 'string' &&
      typeof schemaVersion === 'number' &&
      schemaVersion > ITEM_SCHEMA_VERSION
    ) {
      throw new StoreError(
        `Job ${jobId} in the DynamoDB table ${this.table} has item schema version ${schemaVersion}, written ` +
          `by a newer dli-watch; this one only knows up to version ${ITEM_SCHEMA_VERSION}. Upgrade dli-watch.`,
      );
    }
    const optionalNumber = (value: unknown) => value === undefined || typeof value === 'number';
    if (
      typeof jobId !== 'string' ||
      typeof item.version !== 'number' ||
      typeof item.phase !== 'string' ||
      !JOB_PHASES.includes(item.phase) ||
      !(item.status === undefined || typeof item.status === 'string') ||
      !isRecord(item.labels) ||
      typeof item.not_found_count !== 'number' ||
      typeof item.tracked_at !== 'number' ||
      !optionalNumber(item.last_polled_at) ||
      !optionalNumber(item.start_time) ||
      !optionalNumber(item.status_changed_at) ||
      !(item.event === undefined || typeof item.event === 'string') ||
      !(item.notices === undefined || typeof item.notices === 'string') ||
      !(item.summary === undefined || typeof item.summary === 'string') ||
      !optionalNumber(item.warn_after_ms) ||
      !(item.key_from === undefined || isRecord(item.key_from)) ||
      !Array.isArray(item.deliveries)
    ) {
      const which = typeof jobId === 'string' ? `Job ${jobId} in` : 'An item of';
      throw new StoreError(`${which} the DynamoDB table ${this.table} was not written by dli-watch`);
    }
    const parseEvents = (text: string, what: string): unknown => {
      try {
        return JSON.parse(text);
      } catch (error) {
        throw new StoreError(
          `The stored ${what} of job ${jobId} in the DynamoDB table ${this.table} is not valid JSON`,
          { cause: error },
        );
      }
    };
    const event =
      item.event === undefined ? null : readStoredEvent(parseEvents(item.event, 'event') as JobEvent);
    const notices =
      item.notices === undefined
        ? []
        : (parseEvents(item.notices, 'notices') as JobEvent[]).map(readStoredEvent);
    const summary =
      item.summary === undefined ? undefined : (parseEvents(item.summary, 'summary') as DailySummary);
    return {
      jobId,
      version: item.version,
      phase: item.phase as JobPhase,
      status: item.status ?? null,
      labels: item.labels as Record<string, string>,
      notFoundCount: item.not_found_count,
      trackedAt: item.tracked_at,
      startTime: (item.start_time as number | undefined) ?? null,
      lastPolledAt: (item.last_polled_at as number | undefined) ?? null,
      statusChangedAt: (item.status_changed_at as number | undefined) ?? null,
      warnAfterMs: (item.warn_after_ms as number | undefined) ?? null,
      keyFrom: (item.key_from as KeySource | undefined) ?? null,
      event,
      notices,
      ...(summary === undefined ? {} : { summary }),
      deliveries: item.deliveries as Delivery[],
    };
  }
}

/** AWS error names that mean "not now" rather than "never": throttling and the service's own trouble. */
const TRANSIENT_AWS_ERRORS = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'TimeoutError',
]);
/** Network failures on the way to DynamoDB: the endpoint may be back in a moment. */
const TRANSIENT_NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
]);

/** Whether an SDK failure is an outage a later try may get past, not a table or permission problem. */
function isTransientAwsError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (TRANSIENT_AWS_ERRORS.has(error.name)) return true;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  if (status !== undefined && status >= 500) return true;
  const code = (error as NodeJS.ErrnoException).code;
  return code !== undefined && TRANSIENT_NETWORK_CODES.has(code);
}
