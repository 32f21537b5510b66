/**
 * The DLI job list (`GET /v1.0/{project_id}/jobs`, docs/dli-api.md §2a) as the simulator answers it: the query's
 * parameters checked as DLI checks them, its filters, its four orders and its offset paging. Pure: the simulator
 * keeps its jobs in a {@link JobListIndex} and says, through a {@link ListView}, what changes with time (a job's
 * status, its duration, whether it is submitted yet); {@link listPage} is the same semantics over rows already
 * built, kept as the plain reference the index is tested against.
 */

/** One row of the list: a job's status body without `job_mode`, with `end_time` once it ended. */
export type ListedJob = Record<string, unknown> & { job_id: string; status: string; start_time: number };

export type ListOrder = 'start_time_desc' | 'start_time_asc' | 'duration_desc' | 'duration_asc';

export interface ListQuery {
  pageSize: number;
  currentPage: number;
  /**
   * Epoch ms bounds on the job's start time; `undefined` (or 0 on the wire) for no bound. Inclusive unless the
   * caller asks for exclusive bounds ({@link ListBoundsOptions}): DLI does not document which it is.
   */
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

export interface JobTag {
  key: string;
  value: string;
}

/**
 * What the list's cheap filters and its start-time orders read of a job. None of it changes once the job is added,
 * so a {@link JobListIndex} keeps it beside the job and a query never has to build a row to filter one. Text
 * fields a job does not have are the empty string, as DLI's filters see a missing field.
 */
export interface ListEntry {
  readonly jobId: string;
  /** The `start_time` the job's rows show, epoch ms. */
  readonly startTime: number;
  readonly jobType: string;
  readonly queueName: string;
  readonly owner: string;
  /** The statement in lower case, for the case-insensitive `sql_pattern`. */
  readonly statementLower: string;
  readonly tags: readonly JobTag[];
  readonly databaseName: string;
  readonly tableName: string;
}

/**
 * What a query needs of a job that changes as time passes or as the job is observed. Asked only for jobs in the
 * query's start-time window, and `status` and `duration` only when the query filters or orders by them.
 */
export interface ListView<E extends ListEntry> {
  /** Whether the job is listed at all yet (a job not yet submitted is not). Every job is when omitted. */
  isListed?(entry: E): boolean;
  /** The status a row of the job would show now. */
  status(entry: E): string;
  /** The `duration` a row of the job would show now, 0 when it shows none; only the `duration_*` orders ask. */
  duration(entry: E): number;
}

export interface ListBoundsOptions {
  /**
   * Compare `start` and `end` with a job's start time exclusively (`start < t < end`) instead of inclusively
   * (`start <= t <= end`, the default). DLI does not say which it does; tests run a client against both.
   */
  boundsExclusive?: boolean;
}

/** One page of a query: `jobCount` counts every job that matches (not the page's rows), `entries` the page's. */
export interface ListSelection<E> {
  jobCount: number;
  entries: E[];
}

/**
 * The query's filters, other than its bounds, as one test of an entry, made once per query: only the filters the
 * query has are checked, and `undefined` means it has none (every job in the window matches).
 */
function compileFilter<E extends ListEntry>(
  query: ListQuery,
  view: Pick<ListView<E>, 'isListed' | 'status'>,
): ((entry: E) => boolean) | undefined {
  const tests: ((entry: E) => boolean)[] = [];
  if (view.isListed) tests.push(view.isListed);
  const { jobType, jobTypes, queueName, owner, jobId, dbName, tableName, tags, jobStatus } = query;
  if (jobType !== undefined && jobType !== 'ALL') tests.push((entry) => entry.jobType === jobType);
  if (jobTypes !== undefined) tests.push((entry) => jobTypes.includes(entry.jobType));
  if (queueName !== undefined) tests.push((entry) => entry.queueName === queueName);
  if (owner !== undefined) tests.push((entry) => entry.owner === owner);
  if (jobId !== undefined) tests.push((entry) => entry.jobId === jobId);
  if (dbName !== undefined) tests.push((entry) => entry.databaseName === dbName);
  if (tableName !== undefined) tests.push((entry) => entry.tableName === tableName);
  if (query.sqlPattern !== undefined) {
    const fragment = query.sqlPattern.toLowerCase();
    tests.push((entry) => entry.statementLower.includes(fragment));
  }
  if (tags !== undefined) {
    // Fuzzy, as DLI matches tags: each wanted tag is a fragment of the key and of the value of one of the job's.
    tests.push((entry) =>
      tags.every((wanted) =>
        entry.tags.some((tag) => tag.key.includes(wanted.key) && tag.value.includes(wanted.value)),
      ),
    );
  }
  // Last: the only test that may cost more than a comparison.
  if (jobStatus !== undefined) tests.push((entry) => view.status(entry) === jobStatus);
  if (tests.length === 0) return undefined;
  return (entry) => {
    for (const test of tests) if (!test(entry)) return false;
    return true;
  };
}

/** The order of the index, and of ties in every order: start time, then job id. */
function compareEntries(a: ListEntry, b: ListEntry): number {
  return a.startTime - b.startTime || compareIds(a.jobId, b.jobId);
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The first position in `sorted` whose entry does not come before `(startTime, jobId)`. */
function lowerBound(sorted: readonly ListEntry[], startTime: number, jobId: string): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    const entry = sorted[middle] as ListEntry;
    if (entry.startTime < startTime || (entry.startTime === startTime && entry.jobId < jobId))
      low = middle + 1;
    else high = middle;
  }
  return low;
}

/** The first position whose start time is above `time` (`after`), or at or above it. */
function timeBound(sorted: readonly ListEntry[], time: number, after: boolean): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    const startTime = (sorted[middle] as ListEntry).startTime;
    if (startTime < time || (after && startTime === time)) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * The page `query` asks for out of `sorted` (ordered by start time, then job id, as {@link JobListIndex.sorted}
 * keeps them). The bounds are found by binary search; the filters run over the window only; `view.status` is asked
 * only under a `job-status` filter and `view.duration` only for the `duration_*` orders, which sort the filtered
 * window (slow, but rare). Ties keep the order by job id in all four orders, as {@link listPage} does.
 */
export function selectPage<E extends ListEntry>(
  sorted: readonly E[],
  query: ListQuery,
  view: ListView<E>,
  options: ListBoundsOptions = {},
): ListSelection<E> {
  const exclusive = options.boundsExclusive ?? false;
  const low = query.start === undefined ? 0 : timeBound(sorted, query.start, exclusive);
  // An end before the start makes an empty window.
  const high = Math.max(
    low,
    query.end === undefined ? sorted.length : timeBound(sorted, query.end, !exclusive),
  );
  const accepts = compileFilter(query, view);
  const offset = (query.currentPage - 1) * query.pageSize;
  const limit = offset + query.pageSize;

  if (query.order === 'duration_desc' || query.order === 'duration_asc') {
    const matching: { entry: E; duration: number }[] = [];
    for (let position = low; position < high; position++) {
      const entry = sorted[position] as E;
      if (accepts === undefined || accepts(entry)) matching.push({ entry, duration: view.duration(entry) });
    }
    const sign = query.order === 'duration_desc' ? -1 : 1;
    matching.sort((a, b) => sign * (a.duration - b.duration) || compareIds(a.entry.jobId, b.entry.jobId));
    return { jobCount: matching.length, entries: matching.slice(offset, limit).map(({ entry }) => entry) };
  }

  if (accepts === undefined && query.order === 'start_time_asc') {
    // Without filters every job in the window matches: the page is a slice of it.
    const from = Math.min(low + offset, high);
    return { jobCount: high - low, entries: sorted.slice(from, Math.min(low + limit, high)) };
  }
  // Without filters, the count is known and the walk stops after the page.
  let jobCount = 0;
  const entries: E[] = [];
  /** Takes the next job in the order; false once nothing more is needed. */
  const consider = (entry: E): boolean => {
    if (accepts !== undefined && !accepts(entry)) return true;
    if (jobCount >= offset && jobCount < limit) entries.push(entry);
    jobCount += 1;
    return accepts !== undefined || jobCount < limit;
  };
  if (query.order === 'start_time_asc') {
    for (let position = low; position < high; position++) consider(sorted[position] as E);
  } else {
    // Newest first, but jobs that started at the same moment still in id order: walk the groups of equal start
    // times from the last one back, each from its first job on.
    let last = high - 1;
    walk: while (last >= low) {
      const startTime = (sorted[last] as E).startTime;
      let first = last;
      while (first > low && (sorted[first - 1] as E).startTime === startTime) first -= 1;
      for (let position = first; position <= last; position++)
        if (!consider(sorted[position] as E)) break walk;
      last = first - 1;
    }
  }
  if (accepts === undefined) jobCount = high - low;
  return { jobCount, entries };
}

/** A set of jobs kept in list order, see {@link createJobListIndex}. */
export interface JobListIndex<E extends ListEntry> {
  /** Adds an entry, or replaces the one with the same job id. */
  set(entry: E): void;
  /** Drops the entry of a job; nothing happens for an unknown id. */
  delete(jobId: string): void;
  get(jobId: string): E | undefined;
  readonly size: number;
  /** Every entry by start time, then job id; sorted here when changes since the last call left it unsorted. */
  sorted(): readonly E[];
  /** {@link selectPage} over the index. */
  page(query: ListQuery, view: ListView<E>, options?: ListBoundsOptions): ListSelection<E>;
}

/**
 * Past this many changes since the index was last read, further changes just mark it unsorted: one sort at the
 * next read is then cheaper than splicing each change into place.
 */
const MAX_SPLICED_CHANGES = 256;

/**
 * The jobs of the list, ordered by (start time, job id). The order is built lazily: changes made while it is
 * unsorted only mark it so, and the next read sorts once. Once sorted, a single change is spliced into place (a
 * binary search and an array move), so a job submitted between two page requests does not cost a full sort. A
 * job's start time must not change while it is in the index: replace the entry instead.
 */
export function createJobListIndex<E extends ListEntry>(): JobListIndex<E> {
  const byId = new Map<string, E>();
  /** `undefined` while unsorted. */
  let sorted: E[] | undefined = [];
  let changesSinceRead = 0;

  function changed(): void {
    changesSinceRead += 1;
    if (changesSinceRead > MAX_SPLICED_CHANGES) sorted = undefined;
  }

  function ensureSorted(): E[] {
    changesSinceRead = 0;
    if (sorted === undefined) sorted = [...byId.values()].sort(compareEntries);
    return sorted;
  }

  function removeFromOrder(order: E[], entry: E): void {
    const position = lowerBound(order, entry.startTime, entry.jobId);
    if (order[position] === entry) order.splice(position, 1);
    else throw new Error(`The job list index lost track of ${entry.jobId}`);
  }

  return {
    set(entry) {
      const previous = byId.get(entry.jobId);
      byId.set(entry.jobId, entry);
      changed();
      if (sorted === undefined) return;
      if (previous) removeFromOrder(sorted, previous);
      sorted.splice(lowerBound(sorted, entry.startTime, entry.jobId), 0, entry);
    },
    delete(jobId) {
      const previous = byId.get(jobId);
      if (!previous) return;
      byId.delete(jobId);
      changed();
      if (sorted === undefined) return;
      removeFromOrder(sorted, previous);
    },
    get(jobId) {
      return byId.get(jobId);
    },
    get size() {
      return byId.size;
    },
    sorted: ensureSorted,
    page(query, view, options) {
      return selectPage(ensureSorted(), query, view, options);
    },
  };
}

/** What the filters read of a built row: the fields they compare, '' for a text field the row lacks. */
export function listEntryOfRow(row: ListedJob): ListEntry {
  return listEntryOfFields(row.job_id, row.start_time, row);
}

/** What the filters read of a job whose rows show `fields` (a row, or what a row would be built from). */
export function listEntryOfFields(
  jobId: string,
  startTime: number,
  fields: Readonly<Record<string, unknown>>,
): ListEntry {
  const text = (field: string) => (typeof fields[field] === 'string' ? (fields[field] as string) : '');
  return {
    jobId,
    startTime,
    jobType: text('job_type'),
    queueName: text('queue_name'),
    owner: text('owner'),
    statementLower: text('statement').toLowerCase(),
    tags: Array.isArray(fields.tags) ? (fields.tags as JobTag[]) : [],
    databaseName: text('database_name'),
    tableName: text('table_name'),
  };
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
 * The page the query asks for, and `job_count`: how many jobs match in all (not the page's size), over rows
 * already built, by filtering and sorting them all. The simulator answers through a {@link JobListIndex} instead;
 * this is the plain statement of the same semantics, which the index is tested against. Paging is by offset over
 * the matching rows as they are now, so a job submitted between two page requests moves every row after it by one
 * in the default, newest-first order: rows are then seen twice or skipped, as on DLI.
 */
export function listPage(
  rows: readonly ListedJob[],
  query: ListQuery,
  options: ListBoundsOptions = {},
): { jobCount: number; jobs: ListedJob[] } {
  const exclusive = options.boundsExclusive ?? false;
  const filter = compileFilter<ListEntry & { status: string }>(query, { status: (entry) => entry.status });
  const matching = rows.filter((row) => {
    if (
      query.start !== undefined &&
      (exclusive ? row.start_time <= query.start : row.start_time < query.start)
    )
      return false;
    if (query.end !== undefined && (exclusive ? row.start_time >= query.end : row.start_time > query.end))
      return false;
    return filter === undefined || filter({ ...listEntryOfRow(row), status: row.status });
  });
  // Ties keep a fixed order (by id), so that two requests for the same page see the same rows.
  matching.sort((a, b) => COMPARE[query.order](a, b) || compareIds(a.job_id, b.job_id));
  const offset = (query.currentPage - 1) * query.pageSize;
  return { jobCount: matching.length, jobs: matching.slice(offset, offset + query.pageSize) };
}
