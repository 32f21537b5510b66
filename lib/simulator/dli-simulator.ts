/**
 * A stand-in for the DLI status and list APIs (docs/dli-api.md §1, §2a, §3, §4) served over real HTTP on
 * 127.0.0.1. The test suite, the benchmark and `dli-watch demo` point the real client at it, so it answers with the exact shapes DLI and its
 * API gateway use, checks AK/SK signatures with the production verifier, and can be told to misbehave.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { parseAuthorization, verifySignature } from '../dli/signer.ts';
import {
  createJobListIndex,
  isListQueryProblem,
  type ListEntry,
  type ListedJob,
  type ListQuery,
  listEntryOfFields,
  parseListQuery,
} from './job-list.ts';
import { closeServer, listenOnLoopback, readRequestBody, requestHeaders } from './loopback-server.ts';

/** The body of `GET /v1.0/{project_id}/jobs/{job_id}/status`, field for field as docs/dli-api.md §1 lists it. */
export interface DliJobStatusBody {
  is_success: boolean;
  message: string;
  job_id: string;
  job_type: string;
  job_mode: string;
  queue_name: string;
  owner: string;
  start_time: number;
  duration?: number;
  status: string;
  input_row_count?: number;
  bad_row_count?: number;
  input_size: number;
  result_count: number;
  database_name?: string;
  table_name?: string;
  detail: string;
  statement: string;
  tags?: { key: string; value: string }[];
  user_conf?: string;
  result_format?: string;
  result_path?: string;
  execution_details_path?: string;
}

/**
 * Overrides for a simulated job's status body. Fields DLI does not (yet) document may be added too, so clients
 * can be tested against a response that grew new fields.
 */
export type SimulatedJobFields = Partial<DliJobStatusBody> & { [extraField: string]: unknown };

/**
 * A job whose status moves on poll by poll: each successful status answer, and each list page that shows the job,
 * counts as one observation.
 */
export interface LifecycleJob {
  /**
   * Status reported on each observation: the n-th (0-based) gets `lifecycle[min(n, length - 1)]`, so the last
   * status repeats forever. Must not be empty.
   */
  lifecycle: string[];
  timeline?: never;
  /**
   * Overrides for the generated body. `job_id` and `status` always come from the path and the lifecycle.
   * `message` is only reported once the job reaches a terminal status: DLI has no failure reason for a job that
   * is still running.
   */
  fields?: SimulatedJobFields;
}

/** One step of a {@link TimelineJob}: from `at` (epoch ms, on the simulator's clock) on, the job shows `status`. */
export interface TimelineEntry {
  at: number;
  status: string;
}

/**
 * A job whose status follows the simulator's clock ({@link DliSimulatorOptions.now}), however often it is
 * observed. Before `timeline[0].at` the job is not submitted yet: the status call answers it as unknown (DLI.0002)
 * and the list does not show it. From then on its status is that of the last entry whose `at` is at or before now.
 * Its `start_time` is `timeline[0].at` (unless `fields.start_time` says otherwise: DLI may date a job a little
 * before it shows up), its `duration` runs from `start_time` to now and stops when it reaches a terminal status,
 * and its list rows carry `end_time`, the moment it reached that status.
 */
export interface TimelineJob {
  /** Not empty, and in order: each `at` at or after the one before. */
  timeline: readonly TimelineEntry[];
  lifecycle?: never;
  /** As {@link LifecycleJob.fields}. `status` comes from the timeline. */
  fields?: SimulatedJobFields;
}

/** A job the simulator knows: how its status evolves, and what else its status body says. */
export type SimulatedJob = LifecycleJob | TimelineJob;

/** A misbehaviour the simulator can be told to show, see {@link DliSimulator.injectFault}. */
export type SimulatedFault =
  /** API gateway throttling: 429 APIGW.0308, with `Retry-After` when `retryAfterSeconds` is given. */
  | { kind: 'throttle'; retryAfterSeconds?: number }
  /** A 5xx with DLI's server-side error body (DLI.0999). */
  | { kind: 'server-error'; status?: 500 | 502 | 503 }
  /** DLI's server-side error as DLI really sends it: HTTP 400 with DLI.0999. */
  | { kind: 'dli-server-error-400' }
  /** Never answers: the request is held until the client gives up or the simulator closes. */
  | { kind: 'timeout' }
  /** 200 with a JSON body cut off half way: a status body on a status call, a list body on a list call. */
  | { kind: 'malformed' }
  /** 200 with valid JSON of the wrong shape: a status body without `status`, or a list body without `job_count`. */
  | { kind: 'wrong-shape' }
  /** 401 APIGW.0301, as if the credentials had been rejected. */
  | { kind: 'auth' };

/**
 * Which requests a fault hits. With neither `jobId` nor `route`, any request (status, list, or one the simulator
 * answers with 404).
 */
export interface InjectFaultOptions {
  /** Only status calls for this job are affected. Cannot be combined with `route: 'list'`. */
  jobId?: string;
  /** Only status calls (`GET …/jobs/{job_id}/status`) or only list calls (`GET …/jobs`) are affected. */
  route?: 'status' | 'list';
  /** How many matching requests get the fault before the simulator behaves again. Default 1. */
  times?: number;
}

export interface DliSimulatorOptions {
  /** The only project the simulator serves; any other project in the path is a 404 DLI.0023. */
  projectId: string;
  /**
   * When given, requests must carry a valid SDK-HMAC-SHA256 signature by this key (or an accepted token), an
   * `X-Sdk-Date` within 15 minutes of {@link DliSimulatorOptions.now}, and `X-Project-Id` equal to the path's
   * project.
   */
  credentials?: { accessKey: string; secretKey: string };
  /** Accepted `X-Auth-Token` values: the IAM-token alternative to AK/SK. */
  tokens?: string[];
  /** Fixed delay before every answer, in ms. Default 0. */
  latencyMs?: number;
  /**
   * How long an idle keep-alive connection is kept, in ms, which the server announces as `Keep-Alive: timeout=…`.
   * Default 1000: a short hint, as gateways send, so clients that drop sockets under short hints (fetch's default
   * dispatcher drops those at or below 2 s) show it in the tests and the benchmark.
   */
  keepAliveTimeoutMs?: number;
  /**
   * The simulator's clock (epoch ms), used for generated start times (read once, when the simulator is created),
   * and on each request for the `X-Sdk-Date` check and the status and duration of {@link TimelineJob}s: read at
   * most once per request, so both see the same moment.
   */
  now?: () => number;
  /**
   * Consulted for job ids not added with {@link DliSimulator.addJob}, on every status call, so it must answer the
   * same way each time for the same id. `undefined` means the job does not exist. Lets a benchmark serve tens of
   * thousands of jobs while the simulator keeps only a poll counter per job. The list never shows these jobs: a
   * factory cannot be enumerated.
   */
  jobFactory?: (jobId: string) => SimulatedJob | undefined;
  /**
   * Whether the list compares `start` and `end` with a job's start time exclusively (`start < t < end`). Default
   * false: inclusively (`start <= t <= end`). DLI does not document which (docs/dli-api.md §2a), so tests run a
   * client against both.
   */
  listBoundsExclusive?: boolean;
}

/** A running (or startable) DLI simulator. */
export interface DliSimulator {
  /** Listens on 127.0.0.1 on a free port; resolves to the base URL, `http://127.0.0.1:<port>`. */
  start(): Promise<string>;
  /** Stops listening, drops held and pending requests, and resolves once the server is closed. */
  close(): Promise<void>;
  /**
   * Adds (or replaces) a job and resets its poll count. The job is listed from then on (a {@link TimelineJob} from
   * its first `at`), in the list's index ordered by start time: the job and its fields must not be changed after
   * this call; add it again instead. Throws for a job with neither a lifecycle nor a timeline, an empty one, or a
   * timeline out of order.
   */
  addJob(jobId: string, job: SimulatedJob): void;
  /** Forgets a job: it is unknown from then on (unless the job factory knows it), and later list rows move back. */
  removeJob(jobId: string): void;
  /**
   * Observations of a job so far: successful status answers, plus list pages that showed it (faulted requests do
   * not count). For a {@link LifecycleJob} this is where it is in its lifecycle.
   */
  pollCount(jobId: string): number;
  /** Makes the next `times` matching requests misbehave. Faults queue up and are used in the order given. */
  injectFault(fault: SimulatedFault, options?: InjectFaultOptions): void;
  /**
   * Calls `listener` as each request arrives, before it is answered, with its route: for a test that changes the
   * project between two requests of one scan (a job submitted while the watcher pages).
   */
  onRequest(listener: (route: 'status' | 'list' | 'other') => void): void;
  /** Every request received, whatever its outcome. */
  readonly requestCount: number;
  /**
   * Requests received whose method and path are those of the list call (`GET /v1.0/{project_id}/jobs`, whatever
   * the project), whatever their outcome: faulted, refused for their authentication or their parameters, or
   * answered.
   */
  readonly listRequestCount: number;
  /**
   * Requests received whose method and path are those of the status call (`GET
   * /v1.0/{project_id}/jobs/{job_id}/status`, whatever the project or job), whatever their outcome: faulted,
   * refused for their authentication, answered as an unknown job, or answered.
   */
  readonly statusRequestCount: number;
  /** TCP connections accepted: fewer than requests when clients keep connections alive. */
  readonly connectionCount: number;
  /** The most requests that were being handled at the same moment. */
  readonly maxInFlight: number;
}

/** DLI's `SQL job` status path; only GET is served. */
const STATUS_PATH = /^\/v1\.0\/([^/]+)\/jobs\/([^/]+)\/status$/;
/** The job list: `GET /v1.0/{project_id}/jobs` (docs/dli-api.md §2a). */
const LIST_PATH = /^\/v1\.0\/([^/]+)\/jobs$/;
/** Any versioned DLI path, to find the project a request addresses even when the route is unknown. */
const PROJECT_IN_PATH = /^\/v1(?:\.0)?\/([^/]+)/;
/** The two routes the simulator serves, which faults can be limited to. */
type Route = 'status' | 'list';
const SDK_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;
const TERMINAL = new Set(['FINISHED', 'FAILED', 'CANCELLED']);
const TYPES_WITH_TABLE = new Set(['QUERY', 'IMPORT', 'EXPORT']);

interface ErrorReply {
  status: number;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
}

/**
 * The answer for a job id DLI does not know. docs/dli-api.md §3 says DLI.0002 over HTTP 400 is expected but not
 * confirmed: this is the one place to change if the real API turns out to answer otherwise.
 */
function unknownJobReply(jobId: string): ErrorReply {
  return { status: 400, body: { error_code: 'DLI.0002', error_msg: `The job ${jobId} does not exist.` } };
}

function noSuchResourceReply(): ErrorReply {
  return { status: 404, body: { error_code: 'DLI.0023', error_msg: 'No related resources were found.' } };
}

/** The API gateway's authentication failure; `reason` must never contain a credential. */
function gatewayAuthReply(requestId: string, reason: string): ErrorReply {
  return {
    status: 401,
    body: {
      error_code: 'APIGW.0301',
      error_msg: `Incorrect IAM authentication information: ${reason}`,
      request_id: requestId,
    },
  };
}

function gatewayThrottleReply(requestId: string, retryAfterSeconds: number | undefined): ErrorReply {
  return {
    status: 429,
    body: {
      error_code: 'APIGW.0308',
      error_msg:
        'The throttling threshold has been reached: policy user over ratelimit,limit:200,time:1 minute',
      request_id: requestId,
    },
    headers: retryAfterSeconds === undefined ? {} : { 'Retry-After': String(retryAfterSeconds) },
  };
}

function dliServerErrorReply(status: number): ErrorReply {
  return {
    status,
    body: { error_code: 'DLI.0999', error_msg: 'Server-side errors occur. Please try again later.' },
  };
}

/** A stable small number per job id, so generated values do not change between polls without storing them. */
function hashJobId(jobId: string): number {
  let hash = 2166136261;
  for (let index = 0; index < jobId.length; index++) {
    hash ^= jobId.charCodeAt(index);
    hash = Math.imul(hash, 16777619);
  }
  return hash >>> 0;
}

const RESULT_DETAIL = JSON.stringify({
  type: 'struct',
  fields: [
    { name: 'region', type: 'string', nullable: true, metadata: {} },
    { name: 'revenue', type: 'decimal(18,2)', nullable: true, metadata: {} },
  ],
});
const EMPTY_DETAIL = JSON.stringify({ type: 'struct', fields: [] });

/**
 * The parts of a job's status body that never change and that the simulator generates when `fields` does not say:
 * derived from the job id's hash, the job type and the simulator's epoch (or, for a timeline job, its first entry).
 */
interface GeneratedFacts {
  job_type: string;
  queue_name: string;
  owner: string;
  start_time: number;
  database_name?: string;
  table_name?: string;
  detail: string;
  statement: string;
}

function generatedFacts(job: SimulatedJob, hash: number, simulatorEpochMs: number): GeneratedFacts {
  const jobType = job.fields?.job_type ?? 'QUERY';
  const facts: GeneratedFacts = {
    job_type: jobType,
    queue_name: 'default',
    owner: 'etl_user',
    start_time: job.timeline?.[0]?.at ?? simulatorEpochMs - 60_000 - (hash % 600_000),
    detail: jobType === 'QUERY' ? RESULT_DETAIL : EMPTY_DETAIL,
    statement:
      jobType === 'QUERY'
        ? 'SELECT region, sum(amount) AS revenue FROM sales.orders_2024 GROUP BY region'
        : 'INSERT INTO sales.orders_summary SELECT region, sum(amount) FROM sales.orders_2024 GROUP BY region',
  };
  if (TYPES_WITH_TABLE.has(jobType)) {
    facts.database_name = 'sales';
    facts.table_name = 'orders_2024';
  }
  return facts;
}

/**
 * A job as the simulator keeps it: what the list's filters read (taken from `fields`, or else from the generated
 * values the status body shows, so both agree), and what its bodies are built from. Made once per `addJob`, and
 * per status call for a job of the factory.
 */
interface JobEntry extends ListEntry {
  readonly job: SimulatedJob;
  readonly hash: number;
  readonly generated: GeneratedFacts;
  /** When the job shows up: `timeline[0].at`, or always for a lifecycle job. */
  readonly submittedAt: number;
}

function createJobEntry(jobId: string, job: SimulatedJob, simulatorEpochMs: number): JobEntry {
  checkJob(jobId, job);
  const hash = hashJobId(jobId);
  const generated = generatedFacts(job, hash, simulatorEpochMs);
  const { message: _message, ...overrides } = job.fields ?? {};
  // Exactly the values the body shows: the generated ones, overridden by `fields`.
  const shown: Record<string, unknown> = { ...generated, ...overrides };
  const startTime = typeof shown.start_time === 'number' ? shown.start_time : generated.start_time;
  return {
    ...listEntryOfFields(jobId, startTime, shown),
    job,
    hash,
    generated,
    submittedAt: job.timeline?.[0]?.at ?? Number.NEGATIVE_INFINITY,
  };
}

/** Throws unless the job has exactly one of a lifecycle and a timeline, not empty, and the timeline in order. */
function checkJob(jobId: string, job: SimulatedJob): void {
  const { lifecycle, timeline } = job as { lifecycle?: unknown; timeline?: unknown };
  if ((lifecycle === undefined) === (timeline === undefined))
    throw new Error(`Simulated job ${jobId} needs either a lifecycle or a timeline`);
  if (lifecycle !== undefined) {
    if (!Array.isArray(lifecycle) || lifecycle.length === 0)
      throw new Error(`Simulated job ${jobId} needs at least one status`);
    return;
  }
  if (!Array.isArray(timeline) || timeline.length === 0)
    throw new Error(`Simulated job ${jobId} needs at least one timeline entry`);
  let previous = Number.NEGATIVE_INFINITY;
  for (const entry of timeline as TimelineEntry[]) {
    if (!Number.isFinite(entry.at))
      throw new Error(`Simulated job ${jobId} has a timeline entry without a time`);
    if (entry.at < previous)
      throw new Error(`Simulated job ${jobId} has a timeline out of order at ${entry.at}`);
    previous = entry.at;
  }
}

/** Where a job is at one moment: what its bodies show that changes as it runs. */
interface JobState {
  status: string;
  /** The generated `duration` (`fields.duration` still overrides it in the body). */
  duration: number;
  /** When a timeline job reached its terminal status; `undefined` for a lifecycle job or one still running. */
  endedAt: number | undefined;
}

/**
 * A job's state after `observations` earlier observations at time `at`, or `undefined` while a timeline job is
 * not submitted yet. Cheap: no body is built.
 */
function jobState(entry: JobEntry, observations: number, at: number): JobState | undefined {
  const { job, hash } = entry;
  if (job.timeline === undefined) {
    const stage = Math.min(observations, job.lifecycle.length - 1);
    // A job's duration keeps growing while it runs and freezes once the lifecycle reaches its last status.
    return {
      status: job.lifecycle[stage] ?? 'RUNNING',
      duration: 150 + (hash % 1000) + stage * 2500,
      endedAt: undefined,
    };
  }
  const { timeline } = job;
  // The last entry at or before `at`.
  let low = 0;
  let high = timeline.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((timeline[middle] as TimelineEntry).at <= at) low = middle + 1;
    else high = middle;
  }
  const current = low - 1;
  const entryNow = timeline[current];
  if (entryNow === undefined) return undefined;
  let endedAt: number | undefined;
  if (TERMINAL.has(entryNow.status)) {
    // The job ended when it first reached the terminal status it has been in since.
    let first = current;
    while (first > 0 && TERMINAL.has((timeline[first - 1] as TimelineEntry).status)) first -= 1;
    endedAt = (timeline[first] as TimelineEntry).at;
  }
  return { status: entryNow.status, duration: Math.max(0, (endedAt ?? at) - entry.startTime), endedAt };
}

/** The `duration` the job's body shows in `state`: `fields.duration` when given, else the generated one. */
function shownDuration(entry: JobEntry, state: JobState): number {
  const fields = entry.job.fields;
  if (fields !== undefined && Object.hasOwn(fields, 'duration'))
    return typeof fields.duration === 'number' ? fields.duration : 0;
  return state.duration;
}

/**
 * Builds the status body of a job in `state`. Everything is derived from the entry (the job id, its fields, the
 * simulator's epoch) and the state, so nothing but the poll counter has to be kept per job.
 */
function buildStatusBody(entry: JobEntry, state: JobState): Record<string, unknown> {
  const { generated, hash, jobId } = entry;
  const { status } = state;
  const jobType = generated.job_type;
  const finished = status === 'FINISHED';
  const body: Record<string, unknown> = {
    is_success: true,
    message: '',
    job_id: jobId,
    job_type: jobType,
    job_mode: 'async',
    queue_name: generated.queue_name,
    owner: generated.owner,
    start_time: generated.start_time,
    duration: state.duration,
    status,
  };
  if (jobType === 'INSERT') {
    body.input_row_count = finished ? 10_000 + (hash % 90_000) : 0;
    body.bad_row_count = 0;
  }
  body.input_size = finished ? 1_048_576 + (hash % 50_000_000) : 0;
  body.result_count = finished ? 1 + (hash % 5000) : 0;
  if (generated.database_name !== undefined) {
    body.database_name = generated.database_name;
    body.table_name = generated.table_name;
  }
  body.detail = generated.detail;
  body.statement = generated.statement;

  const { message, ...overrides } = entry.job.fields ?? {};
  return {
    ...body,
    ...overrides,
    message: TERMINAL.has(status) && typeof message === 'string' ? message : '',
    job_id: jobId,
    status,
  };
}

/**
 * A list row of a job in `state`: its status body without `job_mode`, with `end_time` once it ended (a timeline
 * job's terminal moment; for a lifecycle job, `start_time + duration` as the body shows them).
 */
function buildListRow(entry: JobEntry, state: JobState): ListedJob {
  const { job_mode: _mode, ...row } = buildStatusBody(entry, state) as ListedJob;
  if (!TERMINAL.has(state.status)) return row;
  return { ...row, end_time: state.endedAt ?? Number(row.start_time) + Number(row.duration ?? 0) };
}

function parseSdkDate(value: string): number | undefined {
  const match = SDK_DATE.exec(value);
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second] = match.map(Number);
  if (year === undefined || month === undefined || day === undefined) return undefined;
  return Date.UTC(year, month - 1, day, hour ?? 0, minute ?? 0, second ?? 0);
}

/** Creates a DLI simulator; call `start()` to listen. */
export function createDliSimulator(options: DliSimulatorOptions): DliSimulator {
  const now = options.now ?? Date.now;
  const latencyMs = options.latencyMs ?? 0;
  const simulatorEpochMs = now();
  const boundsExclusive = options.listBoundsExclusive ?? false;
  /** The jobs added with `addJob`, ordered for the list. */
  const jobs = createJobListIndex<JobEntry>();
  /** No job added is submitted later than this (it never decreases): from then on, every job is listed. */
  let lastSubmissionAt = Number.NEGATIVE_INFINITY;
  const pollCounts = new Map<string, number>();
  const faults: {
    fault: SimulatedFault;
    jobId: string | undefined;
    route: Route | undefined;
    remaining: number;
  }[] = [];
  const pendingTimers = new Set<NodeJS.Timeout>();
  let server: Server | undefined;
  let requestCount = 0;
  let listRequestCount = 0;
  let statusRequestCount = 0;
  const requestListeners: ((route: 'status' | 'list' | 'other') => void)[] = [];
  let connectionCount = 0;
  let inFlight = 0;
  let maxInFlight = 0;

  /** The job, added or from the factory (which is asked again on every call). */
  function lookupJob(jobId: string): JobEntry | undefined {
    const added = jobs.get(jobId);
    if (added) return added;
    const made = options.jobFactory?.(jobId);
    return made === undefined ? undefined : createJobEntry(jobId, made, simulatorEpochMs);
  }

  function takeFault(route: Route | undefined, jobId: string | undefined): SimulatedFault | undefined {
    const index = faults.findIndex(
      (entry) =>
        (entry.route === undefined || entry.route === route) &&
        (entry.jobId === undefined || (route === 'status' && entry.jobId === jobId)),
    );
    const entry = faults[index];
    if (!entry) return undefined;
    entry.remaining -= 1;
    if (entry.remaining <= 0) faults.splice(index, 1);
    return entry.fault;
  }

  /** Returns why the request is not authenticated, or undefined when it is (or no auth is configured). */
  function authenticationFailure(
    request: IncomingMessage,
    headers: Record<string, string>,
    body: Buffer,
    pathProjectId: string | undefined,
    clock: () => number,
  ): string | undefined {
    const { credentials, tokens } = options;
    if (!credentials && !tokens) return undefined;
    const token = headers['x-auth-token'];
    if (token !== undefined) {
      return tokens?.includes(token) ? undefined : 'the token is invalid or has expired';
    }
    const authorization = headers.authorization;
    if (authorization === undefined) return 'the request carries neither a signature nor a token';
    if (!credentials) return 'AK/SK authentication is not accepted here';
    const parsed = parseAuthorization(authorization);
    if (!parsed) return 'the Authorization header is not an SDK-HMAC-SHA256 signature';
    if (parsed.accessKey !== credentials.accessKey) return 'the access key does not exist';
    const sdkDate = parseSdkDate(headers['x-sdk-date'] ?? '');
    if (sdkDate === undefined) return 'X-Sdk-Date is missing or malformed';
    if (Math.abs(clock() - sdkDate) > MAX_CLOCK_SKEW_MS) return 'X-Sdk-Date is more than 15 minutes off';
    // The client signed the URL it asked for, with the host as it sent it.
    const signedUrl = `http://${headers.host ?? ''}${request.url ?? '/'}`;
    const valid = verifySignature(
      { method: request.method ?? 'GET', url: signedUrl, headers, body: new Uint8Array(body) },
      credentials.secretKey,
    );
    if (!valid) return 'verify aksk signature fail';
    const projectId = pathProjectId ?? options.projectId;
    if (headers['x-project-id'] !== projectId) return 'X-Project-Id does not match the project in the path';
    return undefined;
  }

  function send(
    response: ServerResponse,
    requestId: string,
    status: number,
    body: string,
    headers: Record<string, string> = {},
  ): void {
    if (response.destroyed || response.writableEnded) return;
    response.writeHead(status, {
      ...headers,
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
      'X-Request-Id': requestId,
    });
    response.end(body);
  }

  function sendReply(response: ServerResponse, requestId: string, reply: ErrorReply): void {
    send(response, requestId, reply.status, JSON.stringify(reply.body), reply.headers);
  }

  function afterLatency(answer: () => void): void {
    if (latencyMs <= 0) {
      answer();
      return;
    }
    const timer = setTimeout(() => {
      pendingTimers.delete(timer);
      answer();
    }, latencyMs);
    pendingTimers.add(timer);
  }

  /**
   * What a faulted request gets, or `undefined` for a request that is never answered. Computed without touching
   * any counter: a faulted request never advances a job's lifecycle. A malformed or wrong-shape fault on a list
   * call spoils the list body the request would have got; on any other request, the status body of its job.
   */
  function faultReply(
    requestId: string,
    fault: SimulatedFault,
    route: Route | undefined,
    jobId: string | undefined,
    searchParams: URLSearchParams,
    clock: () => number,
  ): { status: number; body: string; headers?: Record<string, string> } | undefined {
    const asJson = (reply: ErrorReply) => ({ ...reply, body: JSON.stringify(reply.body) });
    switch (fault.kind) {
      case 'timeout':
        return undefined;
      case 'throttle':
        return asJson(gatewayThrottleReply(requestId, fault.retryAfterSeconds));
      case 'server-error':
        return asJson(dliServerErrorReply(fault.status ?? 500));
      case 'dli-server-error-400':
        return asJson(dliServerErrorReply(400));
      case 'auth':
        return asJson(gatewayAuthReply(requestId, 'verify aksk signature fail'));
      case 'malformed':
      case 'wrong-shape': {
        let body: Record<string, unknown>;
        if (route === 'list') {
          const query = parseListQuery(searchParams);
          const page = isListQueryProblem(query) ? { jobCount: 0, rows: [] } : listAnswer(query, clock());
          body = { is_success: true, message: '', job_count: page.jobCount, jobs: page.rows };
          if (fault.kind === 'wrong-shape') delete body.job_count;
        } else {
          const id = jobId ?? 'unknown';
          const at = clock();
          const found = lookupJob(id);
          const state = found && jobState(found, pollCounts.get(id) ?? 0, at);
          const entry =
            found && state ? found : createJobEntry(id, { lifecycle: ['RUNNING'] }, simulatorEpochMs);
          body = buildStatusBody(entry, state ?? (jobState(entry, 0, at) as JobState));
          if (fault.kind === 'wrong-shape') delete body.status;
        }
        const json = JSON.stringify(body);
        if (fault.kind === 'wrong-shape') return { status: 200, body: json };
        return { status: 200, body: json.slice(0, Math.floor(json.length / 2)) };
      }
    }
  }

  /**
   * The rows of the page `query` asks for at time `at`, and `job_count`, read from the index: the window's bounds
   * by binary search, the cheap filters on what the index keeps, a job's state (status, duration) only when the
   * query filters or orders by it, and bodies only for the page's rows. Changes nothing: `entries` are the jobs
   * the caller observes if it answers with these rows.
   */
  function listAnswer(
    query: ListQuery,
    at: number,
  ): { jobCount: number; rows: ListedJob[]; entries: JobEntry[] } {
    const stateOf = (entry: JobEntry) => jobState(entry, pollCounts.get(entry.jobId) ?? 0, at);
    const page = jobs.page(
      query,
      {
        ...(at < lastSubmissionAt && { isListed: (entry: JobEntry) => entry.submittedAt <= at }),
        status: (entry) => stateOf(entry)?.status ?? '',
        duration: (entry) => {
          const state = stateOf(entry);
          return state ? shownDuration(entry, state) : 0;
        },
      },
      { boundsExclusive },
    );
    const rows = page.entries.map((entry) => buildListRow(entry, stateOf(entry) as JobState));
    return { jobCount: page.jobCount, rows, entries: page.entries };
  }

  /**
   * The list call's answer. Only jobs added with `addJob` are listed (a `jobFactory` cannot be enumerated), and a
   * timeline job only once submitted. A job in the page counts as observed, like a status answer: a lifecycle job
   * moves on, so a watcher that reads statuses from list rows sees jobs end as one that polls them does.
   */
  function listReply(params: URLSearchParams, clock: () => number): { status: number; body: string } {
    const query = parseListQuery(params);
    if (isListQueryProblem(query)) {
      return {
        status: 400,
        body: JSON.stringify({ is_success: false, error_code: 'DLI.0001', error_msg: query.message }),
      };
    }
    const page = listAnswer(query, clock());
    for (const { jobId } of page.entries) pollCounts.set(jobId, (pollCounts.get(jobId) ?? 0) + 1);
    return {
      status: 200,
      body: JSON.stringify({ is_success: true, message: '', job_count: page.jobCount, jobs: page.rows }),
    };
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    requestCount += 1;
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    response.on('close', () => {
      inFlight -= 1;
    });
    const requestId = randomUUID().replaceAll('-', '');
    const path = (request.url ?? '/').split('?', 1)[0] ?? '/';
    const statusRoute = request.method === 'GET' ? STATUS_PATH.exec(path) : null;
    const route: Route | undefined = statusRoute
      ? 'status'
      : request.method === 'GET' && LIST_PATH.test(path)
        ? 'list'
        : undefined;
    if (route === 'status') statusRequestCount += 1;
    if (route === 'list') listRequestCount += 1;
    for (const listener of requestListeners) listener(route ?? 'other');

    const body = await readRequestBody(request);
    const headers = requestHeaders(request);
    // The simulator's clock is read at most once per request: one moment serves the X-Sdk-Date check and the
    // state of timeline jobs (and a test clock that moves on each read moves once per request).
    let requestTime: number | undefined;
    const clock = () => {
      requestTime ??= now();
      return requestTime;
    };
    let pathProjectId: string | undefined;
    let jobId: string | undefined;
    try {
      const projectSegment = PROJECT_IN_PATH.exec(path)?.[1];
      pathProjectId = projectSegment === undefined ? undefined : decodeURIComponent(projectSegment);
      jobId = statusRoute?.[2] === undefined ? undefined : decodeURIComponent(statusRoute[2]);
    } catch {
      // A malformed percent-escape names no project or job: the request falls through to the 404 below.
      pathProjectId = undefined;
      jobId = undefined;
    }

    const authFailure = authenticationFailure(request, headers, body, pathProjectId, clock);
    if (authFailure !== undefined) {
      afterLatency(() => sendReply(response, requestId, gatewayAuthReply(requestId, authFailure)));
      return;
    }

    const searchParams =
      route === 'list' ? new URL(request.url ?? '/', 'http://simulator').searchParams : new URLSearchParams();
    const fault = takeFault(route, jobId);
    if (fault) {
      const reply = faultReply(requestId, fault, route, jobId, searchParams, clock);
      // No reply: the request is held until the client aborts or close() drops the connection.
      if (reply) afterLatency(() => send(response, requestId, reply.status, reply.body, reply.headers));
      return;
    }

    if (route === 'list' && pathProjectId === options.projectId) {
      const reply = listReply(searchParams, clock);
      afterLatency(() => send(response, requestId, reply.status, reply.body));
      return;
    }
    if (jobId === undefined || pathProjectId !== options.projectId) {
      afterLatency(() => sendReply(response, requestId, noSuchResourceReply()));
      return;
    }
    const job = lookupJob(jobId);
    const pollIndex = pollCounts.get(jobId) ?? 0;
    // A timeline job not submitted yet is as unknown as one that never was.
    const state = job && jobState(job, pollIndex, clock());
    if (!job || !state) {
      const knownJobId = jobId;
      afterLatency(() => sendReply(response, requestId, unknownJobReply(knownJobId)));
      return;
    }
    pollCounts.set(jobId, pollIndex + 1);
    const statusBody = JSON.stringify(buildStatusBody(job, state));
    afterLatency(() => send(response, requestId, 200, statusBody));
  }

  return {
    start() {
      if (server) return Promise.reject(new Error('The DLI simulator is already started'));
      const listening = createServer((request, response) => {
        handle(request, response).catch((error: unknown) => {
          // Only a broken request stream gets here; answering is best effort.
          const requestId = randomUUID().replaceAll('-', '');
          const reason = error instanceof Error ? error.message : String(error);
          send(response, requestId, 500, JSON.stringify({ error_code: 'DLI.0999', error_msg: reason }));
        });
      });
      listening.keepAliveTimeout = options.keepAliveTimeoutMs ?? 1_000;
      listening.on('connection', () => {
        connectionCount += 1;
      });
      server = listening;
      return listenOnLoopback(listening);
    },
    close() {
      const closing = server;
      server = undefined;
      for (const timer of pendingTimers) clearTimeout(timer);
      pendingTimers.clear();
      if (!closing) return Promise.resolve();
      // Held ("timeout") requests and idle keep-alive sockets would otherwise keep it waiting.
      return closeServer(closing);
    },
    addJob(jobId, job) {
      const entry = createJobEntry(jobId, job, simulatorEpochMs);
      jobs.set(entry);
      lastSubmissionAt = Math.max(lastSubmissionAt, entry.submittedAt);
      pollCounts.delete(jobId);
    },
    removeJob(jobId) {
      jobs.delete(jobId);
      pollCounts.delete(jobId);
    },
    pollCount(jobId) {
      return pollCounts.get(jobId) ?? 0;
    },
    injectFault(fault, faultOptions = {}) {
      const times = faultOptions.times ?? 1;
      if (!Number.isInteger(times) || times < 1)
        throw new Error(`Fault times must be a positive integer: ${times}`);
      const { jobId, route } = faultOptions;
      if (jobId !== undefined && route === 'list')
        throw new Error('A fault for one job only hits its status calls: it cannot be on the list route');
      faults.push({
        fault,
        jobId,
        route: route ?? (jobId === undefined ? undefined : 'status'),
        remaining: times,
      });
    },
    get requestCount() {
      return requestCount;
    },
    onRequest(listener) {
      requestListeners.push(listener);
    },
    get listRequestCount() {
      return listRequestCount;
    },
    get statusRequestCount() {
      return statusRequestCount;
    },
    get connectionCount() {
      return connectionCount;
    },
    get maxInFlight() {
      return maxInFlight;
    },
  };
}

const FAILURE_MESSAGES = [
  'DLI.0005: AnalysisException: Table or view not found: sales.orders_2024;',
  "DLI.0005: AnalysisException: cannot resolve '`amout`' given input columns: [order_id, region, amount, created_at];",
  "DLI.0005: ParseException: mismatched input 'FORM' expecting <EOF>(line 1, pos 25)",
  'DLI.0999: SparkException: Job aborted due to stage failure: Task 3 in stage 2.0 failed 4 times, most recent ' +
    'failure: ExecutorLostFailure (executor 7 exited caused by one of the running tasks) Reason: Container killed ' +
    'by YARN for exceeding memory limits.',
  'DLI.0001: The queue etl_queue has insufficient CUs to run the job.',
];

const JOB_SHAPES: SimulatedJobFields[] = [
  {
    job_type: 'QUERY',
    statement: 'SELECT region, sum(amount) AS revenue FROM sales.orders_2024 GROUP BY region',
    database_name: 'sales',
    table_name: 'orders_2024',
  },
  {
    job_type: 'QUERY',
    statement: "SELECT * FROM web.page_views WHERE dt = '2024-06-01' LIMIT 1000",
    database_name: 'web',
    table_name: 'page_views',
  },
  {
    job_type: 'INSERT',
    statement:
      'INSERT OVERWRITE TABLE sales.daily_revenue SELECT dt, sum(amount) FROM sales.orders_2024 GROUP BY dt',
  },
  {
    job_type: 'DDL',
    statement: 'CREATE TABLE IF NOT EXISTS sales.refunds (order_id STRING, amount DECIMAL(18,2))',
  },
];

const QUEUES = ['default', 'etl_queue', 'bi_reports'];
const OWNERS = ['alice', 'etl_service', 'bi_user'];

function pick<T>(random: () => number, items: readonly T[]): T {
  const item = items[Math.floor(random() * items.length)] ?? items[0];
  if (item === undefined) throw new Error('pick() needs at least one item');
  return item;
}

/**
 * A plausible job: one or two LAUNCHING polls, a few RUNNING ones (sometimes a SCALING in between), then
 * FINISHED (about 60%), FAILED (30%, with a realistic DLI failure message) or CANCELLED (10%), with a job type,
 * queue, owner and statement to match. `random` returns numbers in [0, 1), so a seeded one makes a repeatable demo.
 */
export function randomLifecycle(random: () => number): LifecycleJob {
  const lifecycle: string[] = [];
  const launching = 1 + Math.floor(random() * 2);
  for (let index = 0; index < launching; index++) lifecycle.push('LAUNCHING');
  const running = 1 + Math.floor(random() * 5);
  for (let index = 0; index < running; index++) lifecycle.push('RUNNING');
  if (random() < 0.1) lifecycle.push('SCALING', 'RUNNING');

  const outcome = random();
  const fields: SimulatedJobFields = {
    ...pick(random, JOB_SHAPES),
    queue_name: pick(random, QUEUES),
    owner: pick(random, OWNERS),
  };
  if (random() < 0.3)
    fields.tags = [{ key: 'team', value: pick(random, ['finance', 'marketing', 'data-platform']) }];
  if (outcome < 0.6) {
    lifecycle.push('FINISHED');
  } else if (outcome < 0.9) {
    lifecycle.push('FAILED');
    fields.message = pick(random, FAILURE_MESSAGES);
  } else {
    lifecycle.push('CANCELLED');
  }
  return { lifecycle, fields };
}
