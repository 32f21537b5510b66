/**
 * A stand-in for the DLI status and list APIs (docs/dli-api.md §1, §2a, §3, §4) served over real HTTP on
 * 127.0.0.1. The test suite, the benchmark and `dli-watch demo` point the real client at it, so it answers with the exact shapes DLI and its
 * API gateway use, checks AK/SK signatures with the production verifier, and can be told to misbehave.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { parseAuthorization, verifySignature } from '../dli/signer.ts';
import { isListQueryProblem, type ListedJob, listPage, parseListQuery } from './job-list.ts';
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

/** A job the simulator knows: how its status evolves poll by poll, and what else its status body says. */
export interface SimulatedJob {
  /**
   * Status reported on each successful poll: the n-th poll (0-based) gets `lifecycle[min(n, length - 1)]`, so the
   * last status repeats forever. Must not be empty.
   */
  lifecycle: string[];
  /**
   * Overrides for the generated body. `job_id` and `status` always come from the path and the lifecycle.
   * `message` is only reported once the job reaches a terminal status: DLI has no failure reason for a job that
   * is still running.
   */
  fields?: SimulatedJobFields;
}

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
  /** 200 with a JSON body cut off half way. */
  | { kind: 'malformed' }
  /** 200 with valid JSON that lacks `status`. */
  | { kind: 'wrong-shape' }
  /** 401 APIGW.0301, as if the credentials had been rejected. */
  | { kind: 'auth' };

export interface InjectFaultOptions {
  /** Only requests for this job's status are affected; without it, any request is. */
  jobId?: string;
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
  /** The simulator's clock (epoch ms), used for the `X-Sdk-Date` check and for generated start times. */
  now?: () => number;
  /**
   * Consulted for job ids not added with {@link DliSimulator.addJob}, on every poll, so it must answer the same
   * way each time for the same id. `undefined` means the job does not exist. Lets a benchmark serve tens of
   * thousands of jobs while the simulator keeps only a poll counter per job.
   */
  jobFactory?: (jobId: string) => SimulatedJob | undefined;
}

/** A running (or startable) DLI simulator. */
export interface DliSimulator {
  /** Listens on 127.0.0.1 on a free port; resolves to the base URL, `http://127.0.0.1:<port>`. */
  start(): Promise<string>;
  /** Stops listening, drops held and pending requests, and resolves once the server is closed. */
  close(): Promise<void>;
  /** Adds (or replaces) a job and resets its poll count. */
  addJob(jobId: string, job: SimulatedJob): void;
  /** Forgets a job: it is unknown from then on (unless the job factory knows it). */
  removeJob(jobId: string): void;
  /** Successful status answers served for a job so far (faulted requests do not count). */
  pollCount(jobId: string): number;
  /** Makes the next `times` matching requests misbehave. Faults queue up and are used in the order given. */
  injectFault(fault: SimulatedFault, options?: InjectFaultOptions): void;
  /** Every request received, whatever its outcome. */
  readonly requestCount: number;
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
 * Builds the status body a job shows after `pollIndex` earlier successful polls. Everything is derived from the
 * job id, the poll index and the simulator's epoch, so nothing but the poll counter has to be kept per job.
 */
function buildStatusBody(
  jobId: string,
  job: SimulatedJob,
  pollIndex: number,
  simulatorEpochMs: number,
): Record<string, unknown> {
  const stage = Math.min(pollIndex, job.lifecycle.length - 1);
  const status = job.lifecycle[stage] ?? 'RUNNING';
  const fields = job.fields ?? {};
  const jobType = fields.job_type ?? 'QUERY';
  const hash = hashJobId(jobId);
  const finished = status === 'FINISHED';
  const generated: Record<string, unknown> = {
    is_success: true,
    message: '',
    job_id: jobId,
    job_type: jobType,
    job_mode: 'async',
    queue_name: 'default',
    owner: 'etl_user',
    start_time: simulatorEpochMs - 60_000 - (hash % 600_000),
    // A job's duration keeps growing while it runs and freezes once the lifecycle reaches its last status.
    duration: 150 + (hash % 1000) + stage * 2500,
    status,
  };
  if (jobType === 'INSERT') {
    generated.input_row_count = finished ? 10_000 + (hash % 90_000) : 0;
    generated.bad_row_count = 0;
  }
  generated.input_size = finished ? 1_048_576 + (hash % 50_000_000) : 0;
  generated.result_count = finished ? 1 + (hash % 5000) : 0;
  if (TYPES_WITH_TABLE.has(jobType)) {
    generated.database_name = 'sales';
    generated.table_name = 'orders_2024';
  }
  generated.detail = jobType === 'QUERY' ? RESULT_DETAIL : EMPTY_DETAIL;
  generated.statement =
    jobType === 'QUERY'
      ? 'SELECT region, sum(amount) AS revenue FROM sales.orders_2024 GROUP BY region'
      : 'INSERT INTO sales.orders_summary SELECT region, sum(amount) FROM sales.orders_2024 GROUP BY region';

  const { message, ...overrides } = fields;
  return {
    ...generated,
    ...overrides,
    message: TERMINAL.has(status) && typeof message === 'string' ? message : '',
    job_id: jobId,
    status,
  };
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
  const jobs = new Map<string, SimulatedJob>();
  const pollCounts = new Map<string, number>();
  const faults: { fault: SimulatedFault; jobId: string | undefined; remaining: number }[] = [];
  const pendingTimers = new Set<NodeJS.Timeout>();
  let server: Server | undefined;
  let requestCount = 0;
  let connectionCount = 0;
  let inFlight = 0;
  let maxInFlight = 0;

  function lookupJob(jobId: string): SimulatedJob | undefined {
    return jobs.get(jobId) ?? options.jobFactory?.(jobId);
  }

  function takeFault(jobId: string | undefined): SimulatedFault | undefined {
    const index = faults.findIndex((entry) => entry.jobId === undefined || entry.jobId === jobId);
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
    if (Math.abs(now() - sdkDate) > MAX_CLOCK_SKEW_MS) return 'X-Sdk-Date is more than 15 minutes off';
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
   * the poll counter: a faulted request never advances the job's lifecycle.
   */
  function faultReply(
    requestId: string,
    fault: SimulatedFault,
    jobId: string | undefined,
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
        const id = jobId ?? 'unknown';
        const job = lookupJob(id) ?? { lifecycle: ['RUNNING'] };
        const body = buildStatusBody(id, job, pollCounts.get(id) ?? 0, simulatorEpochMs);
        if (fault.kind === 'wrong-shape') {
          const { status: _status, ...withoutStatus } = body;
          return { status: 200, body: JSON.stringify(withoutStatus) };
        }
        const json = JSON.stringify(body);
        return { status: 200, body: json.slice(0, Math.floor(json.length / 2)) };
      }
    }
  }

  /**
   * The list call's answer. Only jobs added with `addJob` are listed (a `jobFactory` cannot be enumerated). A job in
   * the page counts as observed, like a status answer: its lifecycle moves on, so a watcher that reads statuses from
   * list rows sees jobs end as one that polls them does.
   */
  function listReply(params: URLSearchParams): { status: number; body: string } {
    const query = parseListQuery(params);
    if (isListQueryProblem(query)) {
      return {
        status: 400,
        body: JSON.stringify({ is_success: false, error_code: 'DLI.0001', error_msg: query.message }),
      };
    }
    const rows = [...jobs].map(([id, job]) => {
      const { job_mode: _mode, ...row } = buildStatusBody(id, job, pollCounts.get(id) ?? 0, simulatorEpochMs);
      const ended = TERMINAL.has(String(row.status));
      return {
        ...row,
        ...(ended && { end_time: Number(row.start_time) + Number(row.duration ?? 0) }),
      } as ListedJob;
    });
    const page = listPage(rows, query);
    for (const row of page.jobs) pollCounts.set(row.job_id, (pollCounts.get(row.job_id) ?? 0) + 1);
    return {
      status: 200,
      body: JSON.stringify({ is_success: true, message: '', job_count: page.jobCount, jobs: page.jobs }),
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

    const body = await readRequestBody(request);
    const headers = requestHeaders(request);
    const path = (request.url ?? '/').split('?', 1)[0] ?? '/';
    const statusRoute = request.method === 'GET' ? STATUS_PATH.exec(path) : null;
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

    const authFailure = authenticationFailure(request, headers, body, pathProjectId);
    if (authFailure !== undefined) {
      afterLatency(() => sendReply(response, requestId, gatewayAuthReply(requestId, authFailure)));
      return;
    }

    const fault = takeFault(jobId);
    if (fault) {
      const reply = faultReply(requestId, fault, jobId);
      // No reply: the request is held until the client aborts or close() drops the connection.
      if (reply) afterLatency(() => send(response, requestId, reply.status, reply.body, reply.headers));
      return;
    }

    if (request.method === 'GET' && LIST_PATH.test(path) && pathProjectId === options.projectId) {
      const reply = listReply(new URL(request.url ?? '/', 'http://simulator').searchParams);
      afterLatency(() => send(response, requestId, reply.status, reply.body));
      return;
    }
    if (jobId === undefined || pathProjectId !== options.projectId) {
      afterLatency(() => sendReply(response, requestId, noSuchResourceReply()));
      return;
    }
    const job = lookupJob(jobId);
    if (!job) {
      const knownJobId = jobId;
      afterLatency(() => sendReply(response, requestId, unknownJobReply(knownJobId)));
      return;
    }
    const pollIndex = pollCounts.get(jobId) ?? 0;
    pollCounts.set(jobId, pollIndex + 1);
    const statusBody = JSON.stringify(buildStatusBody(jobId, job, pollIndex, simulatorEpochMs));
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
      if (job.lifecycle.length === 0) throw new Error(`Simulated job ${jobId} needs at least one status`);
      jobs.set(jobId, job);
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
      faults.push({ fault, jobId: faultOptions.jobId, remaining: times });
    },
    get requestCount() {
      return requestCount;
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
export function randomLifecycle(random: () => number): SimulatedJob {
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
