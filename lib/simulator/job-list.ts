/**
 * The DLI job list (`GET /v1.0/{project_id}/jobs`, docs/dli-api.md §2a) as the simulator answers it: the query's
 * parameters checked as DLI checks them, its filters, its four orders and its offset paging. Pure: the simulator
 * hands it the rows as they are at the moment of the request.
 */

/** One row of the list: a job's status body without `job_mode`, with `end_time` once it ended. */
export type ListedJob = Record<string, unknown> & { job_id: string; status: string; start_time: number };

export type ListOrder = 'start_time_desc' | 'start_time_asc' | 'duration_desc' | 'duration_asc';

export interface ListQuery {
  pageSize: number;
  currentPage: number;
  /** Epoch ms bounds on the job's start time, inclusive; `undefined` (or 0 on the wire) for no bound. */
  start: number | undefined;
  end: number | undefined;
  order: ListOrder;
  /** One status; DLI takes no list of them, so a comma is part of the value (and matches nothing). */
  jobStatus: string | undefined;
  /** `job-type` (one type, or `ALL`) and `job_types` (a list) intersect when both are given. */
  jobType: string | undefined;
  jobTypes: string[] | undefined;
  queueName: string | undefined;
  owner: string | undefined;
  /** Case-insensitive fragment of the statement. */
  sqlPattern: string | undefined;
  /** `k1=v1,k2=v2`, matched fuzzily (a fragment of the key and of the value), as DLI does. */
  tags: { key: string; value: string }[] | undefined;
  jobId: string | undefined;
  dbName: string | undefined;
  tableName: string | undefined;
}

/** A query DLI refuses: `DLI.0001`, parameter check failed, with HTTP 400. */
export interface ListQueryProblem {
  message: string;
}

export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 50;
/** Docs since 2025 give 1–100 for `current-page`; the simulator enforces it, so a scan that pages past it fails. */
export const MAX_CURRENT_PAGE = 100;
const ORDERS: readonly ListOrder[] = ['start_time_desc', 'start_time_asc', 'duration_desc', 'duration_asc'];

/** The query a request asks for, or what is wrong with it. */
export function parseListQuery(params: URLSearchParams): ListQuery | ListQueryProblem {
  const integer = (name: string, fallback: number, min: number, max: number): number | ListQueryProblem => {
    const text = params.get(name);
    if (text === null) return fallback;
    const value = /^\d{1,15}$/.test(text) ? Number(text) : Number.NaN;
    if (!(value >= min && value <= max))
      return { message: `${name} must be an integer from ${min} to ${max}` };
    return value;
  };
  const pageSize = integer('page-size', DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE);
  if (typeof pageSize !== 'number') return pageSize;
  const currentPage = integer('current-page', 1, 1, MAX_CURRENT_PAGE);
  if (typeof currentPage !== 'number') return currentPage;
  const start = integer('start', 0, 0, Number.MAX_SAFE_INTEGER);
  if (typeof start !== 'number') return start;
  const end = integer('end', 0, 0, Number.MAX_SAFE_INTEGER);
  if (typeof end !== 'number') return end;
  const order = (params.get('order') ?? 'start_time_desc') as ListOrder;
  if (!ORDERS.includes(order)) return { message: `order must be one of ${ORDERS.join(', ')}` };
  const jobStatus = params.get('job-status') ?? undefined;
  if (jobStatus !== undefined && jobStatus.length > 16)
    return { message: 'job-status is at most 16 characters' };
  const tagsText = params.get('tags');
  const tags = tagsText?.split(',').map((pair) => {
    const separator = pair.indexOf('=');
    return separator < 0
      ? { key: pair, value: '' }
      : { key: pair.slice(0, separator), value: pair.slice(separator + 1) };
  });
  const jobTypes = params.getAll('job_types').flatMap((value) => value.split(','));
  return {
    pageSize,
    currentPage,
    start: start === 0 ? undefined : start,
    end: end === 0 ? undefined : end,
    order,
    jobStatus,
    jobType: params.get('job-type') ?? undefined,
    jobTypes: jobTypes.length > 0 ? jobTypes : undefined,
    queueName: params.get('queue_name') ?? undefined,
    owner: params.get('owner') ?? undefined,
    sqlPattern: params.get('sql_pattern') ?? undefined,
    tags,
    jobId: params.get('job-id') ?? undefined,
    dbName: params.get('db_name') ?? undefined,
    tableName: params.get('table_name') ?? undefined,
  };
}

export function isListQueryProblem(value: ListQuery | ListQueryProblem): value is ListQueryProblem {
  return 'message' in value;
}

/** Whether a row passes every filter of the query. */
function matches(row: ListedJob, query: ListQuery): boolean {
  const text = (field: string) => (typeof row[field] === 'string' ? (row[field] as string) : '');
  if (query.start !== undefined && row.start_time < query.start) return false;
  if (query.end !== undefined && row.start_time > query.end) return false;
  if (query.jobStatus !== undefined && row.status !== query.jobStatus) return false;
  if (query.jobType !== undefined && query.jobType !== 'ALL' && text('job_type') !== query.jobType)
    return false;
  if (query.jobTypes !== undefined && !query.jobTypes.includes(text('job_type'))) return false;
  if (query.queueName !== undefined && text('queue_name') !== query.queueName) return false;
  if (query.owner !== undefined && text('owner') !== query.owner) return false;
  if (query.jobId !== undefined && row.job_id !== query.jobId) return false;
  if (query.dbName !== undefined && text('database_name') !== query.dbName) return false;
  if (query.tableName !== undefined && text('table_name') !== query.tableName) return false;
  if (query.sqlPattern !== undefined) {
    if (!text('statement').toLowerCase().includes(query.sqlPattern.toLowerCase())) return false;
  }
  if (query.tags !== undefined) {
    const rowTags = Array.isArray(row.tags) ? (row.tags as { key: string; value: string }[]) : [];
    const fuzzy = (wanted: { key: string; value: string }) =>
      rowTags.some((tag) => tag.key.includes(wanted.key) && tag.value.includes(wanted.value));
    if (!query.tags.every(fuzzy)) return false;
  }
  return true;
}

function duration(row: ListedJob): number {
  return typeof row.duration === 'number' ? row.duration : 0;
}

const COMPARE: Record<ListOrder, (a: ListedJob, b: ListedJob) => number> = {
  start_time_desc: (a, b) => b.start_time - a.start_time,
  start_time_asc: (a, b) => a.start_time - b.start_time,
  duration_desc: (a, b) => duration(b) - duration(a),
  duration_asc: (a, b) => duration(a) - duration(b),
};

/**
 * The page the query asks for, and `job_count`: how many jobs match in all (not the page's size). Paging is by
 * offset over the matching rows as they are now, so a job submitted between two page requests moves every row
 * after it by one in the default, newest-first order: rows are then seen twice or skipped, as on DLI.
 */
export function listPage(
  rows: readonly ListedJob[],
  query: ListQuery,
): { jobCount: number; jobs: ListedJob[] } {
  const matching = rows.filter((row) => matches(row, query));
  // Ties keep a fixed order (by id), so that two requests for the same page see the same rows.
  matching.sort(
    (a, b) => COMPARE[query.order](a, b) || (a.job_id < b.job_id ? -1 : a.job_id > b.job_id ? 1 : 0),
  );
  const offset = (query.currentPage - 1) * query.pageSize;
  return { jobCount: matching.length, jobs: matching.slice(offset, offset + query.pageSize) };
}
