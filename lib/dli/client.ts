import ky, { HTTPError, type KyInstance, NetworkError, TimeoutError } from 'ky';
import { Agent } from 'undici';
import type * as z from 'zod';
import { isRecord } from '../util/is-record.ts';
import type { Log } from '../util/log.ts';
import type { RateLimiter } from '../util/rate-limiter.ts';
import { systemErrorCode } from '../util/system-error-code.ts';
import type { DliAuth } from './auth.ts';
import {
  DliAuthError,
  DliCancelledError,
  type DliError,
  type DliErrorDetails,
  DliJobNotFoundError,
  DliMalformedResponseError,
  DliNetworkError,
  DliProjectError,
  DliRequestError,
  DliServerError,
  DliThrottledError,
} from './errors.ts';
import {
  dliErrorBodySchema,
  type JobListResponse,
  type JobStatusResponse,
  jobListResponseSchema,
  jobStatusResponseSchema,
} from './schemas.ts';
import { signRequest } from './signer.ts';

export interface DliClientOptions {
  /** `https://dli.{region}.myhuaweicloud.com`, or a loopback simulator. */
  endpoint: string;
  projectId: string;
  auth: DliAuth;
  /** Per-attempt timeout. */
  timeoutMs?: number;
  /** Retries after the first attempt, for 429, 5xx, DLI.0999 and network errors. */
  retryLimit?: number;
  /** Longest `Retry-After` honoured; a longer one is cut to this (the cycle cannot wait minutes). */
  maxRetryAfterMs?: number;
  /** Longest backoff between retries when the server gives no `Retry-After`. */
  backoffLimitMs?: number;
  /** Shared by every request and retry of the cycle: the `DLI_WATCH_MAX_RPS` cap. */
  rateLimiter?: RateLimiter;
  log: Log;
  /** Signing time; tests pin it. */
  now?: () => Date;
}

export interface DliClient {
  /** `GET /v1.0/{project_id}/jobs/{job_id}/status`. Throws a {@link DliError} subclass. */
  getJobStatus(jobId: string, options?: { signal?: AbortSignal }): Promise<JobStatusResponse>;
  /** `GET /v1.0/{project_id}/jobs`: one page of the job list. Throws a {@link DliError} subclass. */
  listJobs(query: JobListQuery, options?: { signal?: AbortSignal }): Promise<JobListResponse>;
}

/**
 * One page of the job list, as docs/dli-api.md §2a describes its parameters: `start` and `end` bound the start
 * time (epoch ms), the page is 1 to 100 jobs, and `current-page` goes to 100 at most (narrow the window rather than
 * page further). Only the filters that narrow a scan exactly are offered: one queue, one owner, one type, one
 * status.
 */
export interface JobListQuery {
  pageSize?: number;
  currentPage?: number;
  start?: number;
  end?: number;
  order?: 'start_time_desc' | 'start_time_asc' | 'duration_desc' | 'duration_asc';
  status?: string;
  queue?: string;
  owner?: string;
  /** One job type (`job-type`). */
  jobType?: string;
}

/**
 * How much of a server's keep-alive hint is held back, so that a socket is never reused just as the server closes
 * it: small enough that a 1 s hint still leaves the socket usable for most of that second.
 */
const KEEP_ALIVE_THRESHOLD_MS = 250;
const AUTH_ERROR_CODES = new Set(['APIGW.0301', 'DLI.0013', 'DLI.0014', 'DLI.0015']);
const NOT_FOUND_ERROR_CODES = new Set(['DLI.0002']);
/** DLI reports its own server-side failure as HTTP 400 with this code. */
const SERVER_ERROR_CODES = new Set(['DLI.0999']);

/**
 * A DLI client on ky: signs every request (AK/SK) or sends the IAM token, retries throttling, server errors and
 * network failures with capped, jittered backoff (honouring `Retry-After`), never retries other 4xx, and turns
 * every failure into one of the {@link DliError} kinds, carrying DLI's `X-Request-Id`.
 */
export function createDliClient(options: DliClientOptions): DliClient {
  const { auth, projectId, rateLimiter, log } = options;
  const now = options.now ?? (() => new Date());
  const redact = secretRedactor(auth);
  // Keep-alive under short hints: fetch's default dispatcher drops a socket whose `Keep-Alive: timeout=` hint is at
  // or below its 2 s threshold, so a gateway hinting 1 s costs a new connection (and TLS handshake) per request.
  const dispatcher = new Agent({ keepAliveTimeoutThreshold: KEEP_ALIVE_THRESHOLD_MS });
  const http: KyInstance = ky.create({
    baseUrl: `${options.endpoint.replace(/\/+$/, '')}/`,
    fetch: (input, init) => fetch(input, { ...init, dispatcher } as RequestInit),
    timeout: options.timeoutMs ?? 10_000,
    throwHttpErrors: true,
    retry: {
      limit: options.retryLimit ?? 2,
      methods: ['get'],
      statusCodes: [429, 500, 502, 503, 504],
      afterStatusCodes: [429, 503],
      maxRetryAfter: options.maxRetryAfterMs ?? 5_000,
      backoffLimit: options.backoffLimitMs ?? 3_000,
      delay: (attempt) => 500 * 2 ** (attempt - 1),
      jitter: true,
      retryOnTimeout: true,
      shouldRetry: ({ error }) => {
        if (error instanceof HTTPError && error.response.status === 400) {
          return SERVER_ERROR_CODES.has(errorBody(error.data).error_code ?? '');
        }
        return undefined;
      },
    },
    hooks: {
      beforeRequest: [
        async ({ request, options: requestOptions }) => {
          await rateLimiter?.acquire(callerSignal(requestOptions.context));
          applyAuth(request, auth, projectId, now());
        },
      ],
      beforeRetry: [
        async ({ request, options: requestOptions, error, retryCount }) => {
          log.debug('retrying DLI request', { retry: retryCount, reason: describeKyError(error) });
          // Not `request.signal`: after a timeout ky has already aborted it, which would let the retry skip the
          // queue. Only the caller's own cancellation may cut the wait short.
          await rateLimiter?.acquire(callerSignal(requestOptions.context));
          // A retry can come seconds later; a fresh X-Sdk-Date keeps it well inside the 15-minute window.
          applyAuth(request, auth, projectId, now());
        },
      ],
    },
  });

  return {
    getJobStatus(jobId, { signal } = {}) {
      const path = `v1.0/${encodeURIComponent(projectId)}/jobs/${encodeURIComponent(jobId)}/status`;
      return getJson(path, jobStatusResponseSchema, 'status', { jobId, signal });
    },

    listJobs(query, { signal } = {}) {
      const path = `v1.0/${encodeURIComponent(projectId)}/jobs`;
      return getJson(path, jobListResponseSchema, 'list', { searchParams: listSearchParams(query), signal });
    },
  };

  /**
   * One GET and its answer read as DLI writes it: JSON, `is_success: false` or an error body turned into the
   * matching {@link DliError}, the rest checked against `schema`.
   */
  async function getJson<T>(
    path: string,
    schema: z.ZodType<T>,
    what: string,
    options: { jobId?: string; searchParams?: URLSearchParams; signal?: AbortSignal | undefined },
  ): Promise<T> {
    const { jobId, signal } = options;
    let response: Response;
    try {
      response = await http.get(path, {
        ...(options.searchParams ? { searchParams: options.searchParams } : {}),
        ...(signal ? { signal, context: { callerSignal: signal } } : {}),
      });
    } catch (error) {
      throw toDliError(error, jobId, redact);
    }
    const requestId = response.headers.get('x-request-id') ?? undefined;
    const text = await response.text().catch((cause: unknown) => {
      throw new DliNetworkError('DLI response body could not be read', { jobId, requestId, cause });
    });
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (cause) {
      throw new DliMalformedResponseError('DLI answered with a body that is not JSON', {
        jobId,
        status: response.status,
        requestId,
        cause,
      });
    }
    // Read only on the way to an error: a successful answer is no error body.
    const failure = () => errorBody(json);
    // `is_success: false` is DLI saying the request failed: its message matters more than the fields a failed
    // request leaves out, so check it before the shape.
    if (isRecord(json) && json.is_success === false) {
      const { error_code: code, error_msg: errorMessage } = failure();
      if (code) throw classify(response.status, code, errorMessage, { jobId, requestId }, redact);
      const reason = typeof json.message === 'string' && json.message ? `: ${redact(json.message)}` : '';
      throw new DliRequestError(`DLI reported the request failed${reason}`, {
        jobId,
        status: response.status,
        requestId,
      });
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const { error_code: code, error_msg: errorMessage } = failure();
      if (code) throw classify(response.status, code, errorMessage, { jobId, requestId }, redact);
      throw new DliMalformedResponseError(
        `DLI ${what} response has an unexpected shape: ${parsed.error.issues
          .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
          .join('; ')}`,
        { jobId, status: response.status, requestId },
      );
    }
    return parsed.data;
  }
}

/** The list query as DLI's parameters (docs/dli-api.md §2a); absent fields are left out. */
function listSearchParams(query: JobListQuery): URLSearchParams {
  const params = new URLSearchParams();
  const set = (name: string, value: string | number | undefined) => {
    if (value !== undefined) params.set(name, String(value));
  };
  set('page-size', query.pageSize);
  set('current-page', query.currentPage);
  set('start', query.start);
  set('end', query.end);
  set('order', query.order);
  set('job-status', query.status);
  set('queue_name', query.queue);
  set('owner', query.owner);
  set('job-type', query.jobType);
  return params;
}

function applyAuth(request: Request, auth: DliAuth, projectId: string, date: Date): void {
  request.headers.set('content-type', 'application/json');
  request.headers.set('x-project-id', projectId);
  if (auth.kind === 'token') {
    request.headers.set('x-auth-token', auth.token);
    return;
  }
  request.headers.delete('authorization');
  const signed = signRequest(
    { method: request.method, url: request.url, headers: Object.fromEntries(request.headers) },
    auth,
    date,
  );
  for (const [name, value] of Object.entries(signed)) {
    // fetch sets Host itself from the URL, which is exactly what was signed.
    if (name.toLowerCase() !== 'host') request.headers.set(name, value);
  }
}

function errorBody(data: unknown): { error_code?: string; error_msg?: string; request_id?: string } {
  if (typeof data === 'string') {
    try {
      return errorBody(JSON.parse(data));
    } catch {
      return {};
    }
  }
  const parsed = dliErrorBodySchema.safeParse(data);
  return parsed.success ? parsed.data : {};
}

/** The caller's own signal, passed through ky's `context`; ky's `request.signal` also fires on its timeouts. */
function callerSignal(context: Record<string, unknown>): AbortSignal | undefined {
  const signal = context.callerSignal;
  return signal instanceof AbortSignal ? signal : undefined;
}

/**
 * Replaces the secret key and any token in server-provided text: a gateway may echo the credential it rejected,
 * and that text goes into error messages, which go into logs.
 */
function secretRedactor(auth: DliAuth): (text: string) => string {
  const secrets = (auth.kind === 'token' ? [auth.token] : [auth.secretKey, auth.securityToken]).filter(
    (secret): secret is string => typeof secret === 'string' && secret.length > 0,
  );
  return (text) => secrets.reduce((redacted, secret) => redacted.replaceAll(secret, '[REDACTED]'), text);
}

function classify(
  status: number,
  code: string | undefined,
  message: string | undefined,
  details: DliErrorDetails,
  redact: (text: string) => string,
) {
  const text = redact([code, message].filter(Boolean).join(': ') || `HTTP ${status}`);
  const all = { ...details, status, code };
  if (status === 401 || AUTH_ERROR_CODES.has(code ?? '')) {
    return new DliAuthError(`DLI rejected the credentials (${text})`, all);
  }
  if (code === 'DLI.0023' || (code === 'DLI.0001' && /project/i.test(message ?? ''))) {
    return new DliProjectError(`DLI does not know this project (${text})`, all);
  }
  if (NOT_FOUND_ERROR_CODES.has(code ?? ''))
    return new DliJobNotFoundError(`DLI has no such job (${text})`, all);
  if (status === 429) return new DliThrottledError(`DLI throttled the request (${text})`, all);
  if (status >= 500 || SERVER_ERROR_CODES.has(code ?? '')) {
    return new DliServerError(`DLI server error (${text})`, all);
  }
  return new DliRequestError(`DLI refused the request (${text})`, all);
}

function toDliError(error: unknown, jobId: string | undefined, redact: (text: string) => string): DliError {
  if (error instanceof HTTPError) {
    const body = errorBody(error.data);
    const requestId = error.response.headers.get('x-request-id') ?? body.request_id;
    return classify(
      error.response.status,
      body.error_code,
      body.error_msg,
      { jobId, requestId, cause: error },
      redact,
    );
  }
  if (error instanceof TimeoutError) {
    return new DliNetworkError('DLI did not answer in time', { jobId, cause: error });
  }
  if (error instanceof NetworkError) {
    return new DliNetworkError(`DLI could not be reached (${systemErrorCode(error)})`, {
      jobId,
      cause: error,
    });
  }
  if (error instanceof DOMException && error.name === 'AbortError') {
    return new DliCancelledError('DLI request was cancelled by a stop', { jobId, cause: error });
  }
  return new DliNetworkError(
    `DLI request failed (${error instanceof Error ? error.name : 'unknown error'})`,
    {
      jobId,
      cause: error,
    },
  );
}

function describeKyError(error: Error): string {
  if (error instanceof HTTPError) return `HTTP ${error.response.status}`;
  if (error instanceof TimeoutError) return 'timeout';
  if (error instanceof NetworkError) return systemErrorCode(error);
  return error.name;
}
