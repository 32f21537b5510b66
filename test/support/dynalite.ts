import { createServer, request as httpRequest, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { closeServer, listenOnLoopback, readRequestBody } from '../../lib/simulator/loopback-server.ts';
import { createDynamoDbClient, DynamoDbStore } from '../../lib/store/dynamodb-store.ts';
import type { Clock } from '../../lib/util/clock.ts';

// dynalite ships no type declarations; `require` with the slice of its API used here keeps the types honest.
const require = createRequire(import.meta.url);
const dynalite = require('dynalite') as (options: {
  createTableMs?: number;
  deleteTableMs?: number;
}) => Server;

/** Credentials and region for a local server: dynalite checks that requests are signed, not by whom. */
export const LOCAL_AWS = {
  region: 'us-east-1',
  credentials: { accessKeyId: 'dynalite-test', secretAccessKey: 'dynalite-test-secret' },
} as const;

/** A DynamoDB-compatible server in this process, on a random loopback port. */
export interface LocalDynamoDb {
  /** `http://127.0.0.1:<port>`. */
  endpoint: string;
  /** A client pointed at it, with the store's retry settings; destroyed by `close`. */
  client: DynamoDBClient;
  /** Creates a table with the store's layout under a name no other call returns (no TTL: dynalite has none). */
  createJobTable(): Promise<string>;
  /**
   * Two stores on one new table, each with a client of its own, as two processes racing on one table would have
   * (the second client is destroyed by `close`).
   */
  racingStores(clock: Pick<Clock, 'now'>): Promise<[DynamoDbStore, DynamoDbStore]>;
  close(): Promise<void>;
}

/** A client for `endpoint` with fake credentials, built the way the store builds its own. */
export function localDynamoDbClient(endpoint: string, config: { maxAttempts?: number } = {}): DynamoDBClient {
  return createDynamoDbClient({ ...LOCAL_AWS, endpoint, ...config });
}

/** Starts dynalite in memory on 127.0.0.1, port 0. Tables are active as soon as they are created. */
export async function startDynalite(): Promise<LocalDynamoDb> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0 });
  const endpoint = await listenOnLoopback(server);
  const client = localDynamoDbClient(endpoint);
  let tables = 0;
  const extraClients: DynamoDBClient[] = [];
  const createJobTable = async () => {
    tables += 1;
    const table = `dli-watch-jobs-${tables}`;
    await DynamoDbStore.createTable(client, table, { enableTimeToLive: false });
    return table;
  };
  return {
    endpoint,
    client,
    createJobTable,
    async racingStores(clock) {
      const table = await createJobTable();
      const other = localDynamoDbClient(endpoint);
      extraClients.push(other);
      return [
        new DynamoDbStore({ table, client, clock }),
        new DynamoDbStore({ table, client: other, clock }),
      ];
    },
    async close() {
      for (const other of extraClients) other.destroy();
      client.destroy();
      await closeServer(server);
    },
  };
}

/** What a {@link DynamoDbProxy} does with one request: pass it on, or answer it with a DynamoDB error. */
export type ProxyDecision = 'forward' | { errorType: string; status?: number };

/**
 * A loopback HTTP server in front of a DynamoDB endpoint that forwards every request unchanged unless
 * `decide` answers it with an error instead. Lets tests throttle chosen requests and watch how many are in
 * flight at once, against a real server.
 */
export interface DynamoDbProxy {
  endpoint: string;
  /** Operations seen, in arrival order (`PutItem`, `Query`, ...). */
  readonly operations: string[];
  /** Most requests that were in flight at the same moment. */
  readonly maxInFlight: number;
  close(): Promise<void>;
}

export async function startDynamoDbProxy(
  target: string,
  decide: (operation: string, index: number) => ProxyDecision = () => 'forward',
): Promise<DynamoDbProxy> {
  const operations: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const targetUrl = new URL(target);
  const server = createServer(async (incoming, outgoing) => {
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const done = () => {
      inFlight -= 1;
    };
    outgoing.once('close', done);
    const body = await readRequestBody(incoming);
    const operation = String(incoming.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
    operations.push(operation);
    const decision = decide(operation, operations.length - 1);
    if (decision !== 'forward') {
      const answer = JSON.stringify({
        __type: `com.amazonaws.dynamodb.v20120810#${decision.errorType}`,
        message: 'Rate of requests exceeds the allowed throughput.',
      });
      outgoing.writeHead(decision.status ?? 400, { 'content-type': 'application/x-amz-json-1.0' });
      outgoing.end(answer);
      return;
    }
    const forwarded = httpRequest(
      {
        host: targetUrl.hostname,
        port: targetUrl.port,
        method: incoming.method,
        path: incoming.url,
        headers: { ...incoming.headers, host: targetUrl.host },
      },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forwarded.on('error', () => outgoing.destroy());
    forwarded.end(body);
  });
  const endpoint = await listenOnLoopback(server);
  return {
    endpoint,
    operations,
    get maxInFlight() {
      return maxInFlight;
    },
    close: () => closeServer(server),
  };
}
