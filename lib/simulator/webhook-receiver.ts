/**
 * A generic webhook endpoint on 127.0.0.1 that records what it is sent and answers as scripted. Tests point
 * destinations at it to see the exact bytes a chat platform would receive; `dli-watch demo` prints from it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { closeServer, listenOnLoopback, requestHeaders } from './loopback-server.ts';

/** One request as the receiver saw it. */
export interface ReceivedWebhookRequest {
  method: string;
  /** Path including the query string, as sent. */
  path: string;
  /** Header names in lower case; repeated headers joined with `, `. */
  headers: Record<string, string>;
  /** The body decoded as UTF-8. */
  body: string;
  /** Epoch ms when the body had fully arrived, by the receiver's clock. */
  receivedAt: number;
}

/** How the receiver answers one request. */
export interface WebhookResponse {
  status: number;
  /** Default: empty. */
  body?: string;
  /** `content-type` defaults to `text/plain; charset=utf-8`. */
  headers?: Record<string, string>;
  /** Waits this long before answering, to exercise a sender's timeout. Default 0. */
  delayMs?: number;
}

export interface WebhookReceiverOptions {
  /** The answer when nothing is scripted. Default `{ status: 200, body: 'ok' }`. */
  defaultResponse?: WebhookResponse;
  /**
   * Decides the answer from the request itself (a platform-like receiver checking a signature, say). Consulted
   * after scripted answers; returning `undefined` falls back to the default answer.
   */
  respond?: (request: ReceivedWebhookRequest) => WebhookResponse | undefined;
  /** Clock for `receivedAt`. Default `Date.now`. */
  now?: () => number;
  /** Bodies larger than this are refused with 413 (and still recorded, truncated). Default 16 MiB. */
  maxBodyBytes?: number;
}

export type WebhookRequestListener = (request: ReceivedWebhookRequest) => void;

export interface WebhookReceiver {
  /** Listens on 127.0.0.1 on a free port; resolves to the base URL, `http://127.0.0.1:<port>`. */
  start(): Promise<string>;
  /** Stops listening, rejects pending {@link WebhookReceiver.waitForRequests} calls, drops open connections. */
  close(): Promise<void>;
  /** Every request received so far, oldest first. */
  readonly requests: readonly ReceivedWebhookRequest[];
  /** Queues answers for the next requests, used in order; the default answer applies again afterwards. */
  respondNext(...responses: WebhookResponse[]): void;
  /** Calls `listener` for each request as it arrives (before it is answered); returns an unsubscribe function. */
  onRequest(listener: WebhookRequestListener): () => void;
  /**
   * Resolves with the first `count` requests once that many have arrived (at once if they already have);
   * rejects when `timeoutMs` passes first, or when the receiver closes.
   */
  waitForRequests(count: number, timeoutMs: number): Promise<ReceivedWebhookRequest[]>;
}

/** Rejects {@link WebhookReceiver.waitForRequests} when too few requests arrived in time or before close. */
export class WebhookWaitError extends Error {
  override name = 'WebhookWaitError';
}

const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;

interface Waiter {
  count: number;
  resolve: (requests: ReceivedWebhookRequest[]) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/** Reads the body, keeping at most `maxBytes`; `tooLarge` says whether more was sent. */
function readBody(request: IncomingMessage, maxBytes: number): Promise<{ body: Buffer; tooLarge: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    request.on('data', (chunk: Buffer) => {
      if (tooLarge) return;
      if (size + chunk.length > maxBytes) {
        tooLarge = true;
        chunks.push(chunk.subarray(0, maxBytes - size));
        size = maxBytes;
        return;
      }
      chunks.push(chunk);
      size += chunk.length;
    });
    request.on('end', () => resolve({ body: Buffer.concat(chunks), tooLarge }));
    request.on('error', reject);
  });
}

/** Creates a webhook receiver; call `start()` to listen. */
export function createWebhookReceiver(options: WebhookReceiverOptions = {}): WebhookReceiver {
  const now = options.now ?? Date.now;
  const defaultResponse = options.defaultResponse ?? { status: 200, body: 'ok' };
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const requests: ReceivedWebhookRequest[] = [];
  const scripted: WebhookResponse[] = [];
  const listeners = new Set<WebhookRequestListener>();
  const waiters = new Set<Waiter>();
  const pendingTimers = new Set<NodeJS.Timeout>();
  let server: Server | undefined;

  function settleWaiters(): void {
    for (const waiter of waiters) {
      if (requests.length < waiter.count) continue;
      waiters.delete(waiter);
      clearTimeout(waiter.timer);
      waiter.resolve(requests.slice(0, waiter.count));
    }
  }

  function answer(response: ServerResponse, reply: WebhookResponse): void {
    if (response.destroyed || response.writableEnded) return;
    const body = reply.body ?? '';
    const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8' };
    for (const [name, value] of Object.entries(reply.headers ?? {})) headers[name.toLowerCase()] = value;
    headers['content-length'] = String(Buffer.byteLength(body));
    response.writeHead(reply.status, headers);
    response.end(body);
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const { body, tooLarge } = await readBody(request, maxBodyBytes);
    const received: ReceivedWebhookRequest = {
      method: request.method ?? 'GET',
      path: request.url ?? '/',
      headers: requestHeaders(request),
      body: body.toString('utf8'),
      receivedAt: now(),
    };
    requests.push(received);
    for (const listener of listeners) {
      try {
        listener(received);
      } catch {
        // A listener's failure (e.g. the demo's printer) must not stop the receiver from answering.
      }
    }
    settleWaiters();

    const reply = tooLarge
      ? { status: 413, body: 'request body too large' }
      : (scripted.shift() ?? options.respond?.(received) ?? defaultResponse);
    const delayMs = reply.delayMs ?? 0;
    if (delayMs <= 0) {
      answer(response, reply);
      return;
    }
    const timer = setTimeout(() => {
      pendingTimers.delete(timer);
      answer(response, reply);
    }, delayMs);
    pendingTimers.add(timer);
  }

  return {
    start() {
      if (server) return Promise.reject(new Error('The webhook receiver is already started'));
      const listening = createServer((request, response) => {
        handle(request, response).catch(() => {
          // The request stream broke (client went away): there is nobody to answer.
          response.destroy();
        });
      });
      server = listening;
      return listenOnLoopback(listening);
    },
    close() {
      const closing = server;
      server = undefined;
      for (const timer of pendingTimers) clearTimeout(timer);
      pendingTimers.clear();
      for (const waiter of waiters) {
        clearTimeout(waiter.timer);
        waiter.reject(
          new WebhookWaitError(
            `The webhook receiver closed after ${requests.length} of ${waiter.count} requests`,
          ),
        );
      }
      waiters.clear();
      if (!closing) return Promise.resolve();
      return closeServer(closing);
    },
    get requests() {
      return requests;
    },
    respondNext(...responses) {
      scripted.push(...responses);
    },
    onRequest(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    waitForRequests(count, timeoutMs) {
      if (requests.length >= count) return Promise.resolve(requests.slice(0, count));
      return new Promise((resolve, reject) => {
        const waiter: Waiter = {
          count,
          resolve,
          reject,
          timer: setTimeout(() => {
            waiters.delete(waiter);
            reject(
              new WebhookWaitError(
                `Expected ${count} webhook requests within ${timeoutMs} ms, got ${requests.length}`,
              ),
            );
          }, timeoutMs),
        };
        waiters.add(waiter);
      });
    },
  };
}
