import type { ZodError } from 'zod';
import * as z from 'zod';
import { describeRecord } from '../job-view.ts';
import type { JobStore } from '../store/job-store.ts';
import { redeliverDeadLettered } from '../store/redeliver.ts';
import { InvalidCursorError } from '../store/store-error.ts';
import { isJobId, JOB_ID_RULE, type TrackItem, toTrackRequest, trackItemSchema } from '../track-request.ts';
import { forEachBounded } from '../util/for-each-bounded.ts';
import type { Log } from '../util/log.ts';
import { jsonPointer, type ProblemError, type ProblemKind, problem } from './problem.ts';

/** One HTTP request as the tracking API sees it, whatever carried it (API Gateway, a test). */
export interface ApiRequest {
  method: string;
  /** The path below the API's base (no stage prefix), still percent-encoded: `/jobs/{job_id}`. */
  path: string;
  /** Query parameters, decoded. */
  query: Record<string, string | undefined>;
  /** Header names in any case. */
  headers: Record<string, string | undefined>;
  /** The body as text; `null` or `''` when there is none. */
  body: string | null;
}

export interface ApiResponse {
  status: number;
  headers: Record<string, string>;
  /** `''` for 204. */
  body: string;
}

export interface TrackingApiOptions {
  store: JobStore;
  /** Epoch ms: when newly tracked jobs were tracked. */
  now?: () => number;
  /** Where unexpected failures are told in full; the caller only learns that something went wrong. */
  log?: Log;
}

export const DEFAULT_PAGE_LIMIT = 100;
export const MAX_PAGE_LIMIT = 500;
/** Keeps one request well inside API Gateway's 30 s integration timeout on DynamoDB. */
export const MAX_JOBS_PER_REQUEST = 500;
/** Create-if-absent writes in flight at once for one request: enough to hide DynamoDB latency, not a burst. */
const TRACK_CONCURRENCY = 8;

const PAGE_LIMIT_RULE = `must be an integer from 1 to ${MAX_PAGE_LIMIT}`;

const pageQuerySchema = z.object({
  limit: z
    .string()
    .regex(/^\d+$/, PAGE_LIMIT_RULE)
    .transform(Number)
    .pipe(z.number().int().min(1, PAGE_LIMIT_RULE).max(MAX_PAGE_LIMIT, PAGE_LIMIT_RULE))
    .optional(),
  cursor: z.string().min(1, 'must not be empty').optional(),
});

/**
 * The body of `POST /jobs/{job_id}/redeliver`, all optional. The destination is matched against the job's
 * deliveries, not the configuration (the API has none), so it is only bounded here: a name no delivery has
 * simply matches nothing.
 */
const redeliverBodySchema = z.strictObject({
  destination: z
    .string({ error: 'must be a string' })
    .min(1, 'must not be empty')
    .max(64, 'destination names are at most 64 characters')
    .optional(),
});

/**
 * The tracking API: `POST /jobs`, `GET /jobs`, `GET /jobs/{job_id}`, `DELETE /jobs/{job_id}` and
 * `POST /jobs/{job_id}/redeliver` over a job store.
 * Returns a function answering one request; it never throws: whatever fails becomes a problem response
 * (`application/problem+json`), with nothing internal in it.
 */
export function createTrackingApi(
  options: TrackingApiOptions,
): (request: ApiRequest) => Promise<ApiResponse> {
  const { store } = options;
  const now = options.now ?? Date.now;

  async function trackJobs(request: ApiRequest): Promise<ApiResponse> {
    const parsed = parseJsonBody(request);
    if ('response' in parsed) return parsed.response;
    const items = validateTrackBody(parsed.value);
    if ('response' in items) return items.response;

    // A job named twice keeps its first labels, as the CLI and the stores do.
    const firsts = new Map<string, TrackItem>();
    for (const item of items.value) if (!firsts.has(item.job_id)) firsts.set(item.job_id, item);
    const trackedAt = now();
    const added: string[] = [];
    const alreadyTracked: string[] = [];
    // One store call per job: a batch only says how many were new, and the caller is told which.
    await forEachBounded([...firsts.values()], TRACK_CONCURRENCY, async (item) => {
      const result = await store.track([toTrackRequest(item)], trackedAt);
      (result.added > 0 ? added : alreadyTracked).push(item.job_id);
    });
    // Writes finish in any order; answers list ids in the order the caller sent them.
    const position = new Map([...firsts.keys()].map((jobId, index) => [jobId, index]));
    const byRequestOrder = (a: string, b: string) => (position.get(a) ?? 0) - (position.get(b) ?? 0);
    return json(added.length > 0 ? 201 : 200, {
      added: added.sort(byRequestOrder),
      already_tracked: alreadyTracked.sort(byRequestOrder),
    });
  }

  async function listJobs(request: ApiRequest): Promise<ApiResponse> {
    const query = pageQuerySchema.safeParse({ limit: request.query.limit, cursor: request.query.cursor });
    if (!query.success) {
      return problemResponse(
        'invalid-request',
        'The query parameters are invalid.',
        parameterErrors(query.error),
      );
    }
    try {
      const page = await store.list({
        limit: query.data.limit ?? DEFAULT_PAGE_LIMIT,
        cursor: query.data.cursor ?? null,
      });
      return json(200, { jobs: page.items.map(describeRecord), next_cursor: page.cursor });
    } catch (error) {
      if (!(error instanceof InvalidCursorError)) throw error;
      return problemResponse('invalid-request', 'The query parameters are invalid.', [
        { parameter: 'cursor', detail: 'is not a next_cursor this API handed out' },
      ]);
    }
  }

  async function getJob(jobId: string): Promise<ApiResponse> {
    const record = await store.get(jobId);
    return record === null ? jobNotFound(jobId) : json(200, describeRecord(record));
  }

  async function untrackJob(jobId: string): Promise<ApiResponse> {
    const removed = await store.untrack([jobId]);
    return removed.length > 0 ? { status: 204, headers: {}, body: '' } : jobNotFound(jobId);
  }

  /**
   * Dead-lettered deliveries back to pending, due now, keeping their event and so their `webhook-id`. Answers
   * which destinations were put back (none, when nothing was dead-lettered: asking twice is harmless) and the job
   * as it now is.
   */
  async function redeliverJob(jobId: string, request: ApiRequest): Promise<ApiResponse> {
    let destination: string | undefined;
    // The body is optional: no body, or an empty one, means every dead-lettered delivery.
    if (request.body !== null && request.body.trim() !== '') {
      const parsed = parseJsonBody(request);
      if ('response' in parsed) return parsed.response;
      const body = redeliverBodySchema.safeParse(parsed.value);
      if (!body.success) {
        const errors = bodyErrors(body.error);
        return problemResponse(
          'invalid-request',
          `The request body has ${errors.length} problem(s).`,
          errors,
        );
      }
      destination = body.data.destination;
    }
    const outcome = await redeliverDeadLettered(
      store,
      jobId,
      destination === undefined ? { now: now() } : { now: now(), destination },
    );
    if (outcome.kind === 'not-tracked') return jobNotFound(jobId);
    if (outcome.kind === 'contended') {
      return problemResponse(
        'job-busy',
        `Job ${jobId} kept changing while its deliveries were being updated; nothing was changed. Retry.`,
      );
    }
    return json(200, { redelivered: outcome.destinations, job: describeRecord(outcome.record) });
  }

  async function route(request: ApiRequest): Promise<ApiResponse> {
    const method = request.method.toUpperCase();
    const segments = request.path.split('/').slice(1);
    if (request.path === '/jobs') {
      if (method === 'POST') return trackJobs(request);
      if (method === 'GET') return listJobs(request);
      return methodNotAllowed(method, ['GET', 'POST']);
    }
    const [collection, encodedId, action, ...rest] = segments;
    const isJob = action === undefined;
    const isRedeliver = action === 'redeliver' && rest.length === 0;
    if (request.path.startsWith('/') && collection === 'jobs' && encodedId && (isJob || isRedeliver)) {
      if (isJob && method !== 'GET' && method !== 'DELETE')
        return methodNotAllowed(method, ['DELETE', 'GET']);
      if (isRedeliver && method !== 'POST') return methodNotAllowed(method, ['POST']);
      const jobId = decodePathSegment(encodedId);
      if (jobId === null || !isJobId(jobId)) {
        return problemResponse('invalid-request', 'The job id in the path is invalid.', [
          { parameter: 'job_id', detail: `must be ${JOB_ID_RULE}` },
        ]);
      }
      if (isRedeliver) return redeliverJob(jobId, request);
      return method === 'GET' ? getJob(jobId) : untrackJob(jobId);
    }
    return problemResponse(
      'route-not-found',
      'This API serves /jobs, /jobs/{job_id} and /jobs/{job_id}/redeliver only.',
    );
  }

  return async (request) => {
    try {
      return await route(request);
    } catch (error) {
      // Store errors name the store and the operation, never record contents: fit for the operator's log.
      options.log?.error('request failed', {
        method: request.method,
        path: request.path,
        error_name: error instanceof Error ? error.name : typeof error,
        error: error instanceof Error ? error.message : String(error),
      });
      return problemResponse('internal-error', 'The request could not be completed; it is safe to retry.');
    }
  };
}

/** The body of a POST as JSON, or the problem response explaining why it is not. */
function parseJsonBody(request: ApiRequest): { value: unknown } | { response: ApiResponse } {
  const contentType = headerValue(request.headers, 'content-type');
  if (contentType === undefined || !isJsonMediaType(contentType)) {
    return {
      response: problemResponse(
        'unsupported-media-type',
        'Send the body as JSON with content-type: application/json.',
      ),
    };
  }
  if (request.body === null || request.body.trim() === '') {
    return {
      response: problemResponse('invalid-request', 'The request has no body.', [
        {
          pointer: '',
          detail:
            'expected {"job_id": ..., "labels"?: {...}, "warn_after"?: "2h", "key"?: {...}} or a list of them',
        },
      ]),
    };
  }
  try {
    return { value: JSON.parse(request.body) };
  } catch {
    // JSON.parse's message quotes the body; the caller has the body already and logs must not repeat it.
    return { response: problemResponse('invalid-json', 'The request body could not be parsed as JSON.') };
  }
}

function validateTrackBody(value: unknown): { value: TrackItem[] } | { response: ApiResponse } {
  const invalid = (errors: ProblemError[]) => ({
    response: problemResponse('invalid-request', `The request body has ${errors.length} problem(s).`, errors),
  });
  if (Array.isArray(value)) {
    if (value.length === 0) return invalid([{ pointer: '', detail: 'give at least one job' }]);
    if (value.length > MAX_JOBS_PER_REQUEST) {
      return invalid([{ pointer: '', detail: `at most ${MAX_JOBS_PER_REQUEST} jobs per request` }]);
    }
    const result = z.array(trackItemSchema).safeParse(value);
    return result.success ? { value: result.data } : invalid(bodyErrors(result.error));
  }
  if (typeof value !== 'object' || value === null) {
    return invalid([{ pointer: '', detail: 'expected {"job_id": ..., "labels"?: {...}} or a list of them' }]);
  }
  const result = trackItemSchema.safeParse(value);
  return result.success ? { value: [result.data] } : invalid(bodyErrors(result.error));
}

/** Every zod issue as a problem error, one per unknown field so each can be pointed at. */
function bodyErrors(error: ZodError): ProblemError[] {
  return error.issues.flatMap((issue): ProblemError[] => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        pointer: jsonPointer([...issue.path, key]),
        detail: 'unknown field',
      }));
    }
    if (issue.code === 'invalid_key') {
      return [{ pointer: jsonPointer(issue.path), detail: issue.issues[0]?.message ?? issue.message }];
    }
    return [{ pointer: jsonPointer(issue.path), detail: issue.message }];
  });
}

function parameterErrors(error: ZodError): ProblemError[] {
  return error.issues.map((issue) => ({ parameter: String(issue.path[0] ?? ''), detail: issue.message }));
}

function jobNotFound(jobId: string): ApiResponse {
  return problemResponse('job-not-found', `Job ${jobId} is not tracked.`);
}

function methodNotAllowed(method: string, allowed: string[]): ApiResponse {
  const response = problemResponse(
    'method-not-allowed',
    // The method is the caller's text: bounded, so a long one cannot bloat the response or the logs.
    `${method.slice(0, 16)} is not allowed here; use ${allowed.join(' or ')}.`,
  );
  return { ...response, headers: { ...response.headers, allow: allowed.join(', ') } };
}

function problemResponse(kind: ProblemKind, detail: string, errors?: ProblemError[]): ApiResponse {
  const body = problem(kind, detail, errors);
  return {
    status: body.status,
    headers: { 'content-type': 'application/problem+json' },
    body: JSON.stringify(body),
  };
}

function json(status: number, value: unknown): ApiResponse {
  return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) };
}

function headerValue(headers: Record<string, string | undefined>, name: string): string | undefined {
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === name) return value;
  return undefined;
}

/** `application/json` or any `+json` type (`application/merge-patch+json`), parameters such as charset allowed. */
function isJsonMediaType(contentType: string): boolean {
  const essence = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  return essence === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(essence);
}

function decodePathSegment(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}
