import type { DliClient, JobListQuery } from './client.ts';
import { DliRequestError } from './errors.ts';
import { type JobStatusResponse, jobFromListRow } from './schemas.ts';

/** The most rows DLI returns per page (docs/dli-api.md §2a). */
export const LIST_PAGE_SIZE = 100;

/** The last page number DLI's docs allow; a scan never asks for a page past it. */
export const LAST_LIST_PAGE = 100;

/** A start-time window of the job list, and the list's own filters that narrow it exactly. */
export interface JobWindow {
  /** Epoch ms: jobs that started at or after it (the bound is widened by 1 ms: DLI does not say if it is inclusive). */
  start: number;
  /** Epoch ms, fixed for the whole scan, so that jobs submitted meanwhile fall outside and no row moves. */
  end: number;
  filter?: Pick<JobListQuery, 'queue' | 'owner' | 'jobType'>;
}

/** One page of a scan. */
export interface ScannedPage {
  /** Each row as the status call would have answered (`jobFromListRow`): one shape for whoever reads it. */
  rows: JobStatusResponse[];
  /**
   * Every job of the window that started at or before this instant has been in this page or an earlier one: the
   * last row's start time less 1 ms (rows that share the last start time may go on in the next page), or the
   * window's end once the scan is complete.
   */
  coveredUpTo: number;
  /** The last page: the whole window has been read. */
  complete: boolean;
}

/**
 * Reads a window of the job list in ascending start-time order, 100 rows a page, and yields each page as it
 * comes. Paging is by start time rather than by page number: each request starts at the last row's start time,
 * so no request goes past page 1 however large the window, a job deleted meanwhile cannot shift a row out of
 * sight, and the scan can stop after any page knowing exactly how far it got. Only when a whole page shares one
 * start time does it turn the page (never past page {@link LAST_LIST_PAGE}). Rows at a page boundary come twice:
 * de-duplicate by `job_id`. Throws the client's {@link DliError}s.
 */
export async function* scanJobWindow(
  dli: DliClient,
  window: JobWindow,
  options: { signal?: AbortSignal } = {},
): AsyncGenerator<ScannedPage, void, undefined> {
  let start = Math.max(1, window.start - 1);
  let currentPage = 1;
  for (;;) {
    const answer = await dli.listJobs(
      {
        ...window.filter,
        start,
        end: window.end,
        order: 'start_time_asc',
        pageSize: LIST_PAGE_SIZE,
        currentPage,
      },
      options.signal ? { signal: options.signal } : {},
    );
    const rows = answer.jobs.map(jobFromListRow);
    if (rows.length < LIST_PAGE_SIZE) {
      yield { rows, coveredUpTo: window.end, complete: true };
      return;
    }
    const lastStart = rows.at(-1)?.start_time;
    if (lastStart === undefined) {
      throw new DliRequestError('DLI listed a job without start_time: the window cannot be paged by it', {});
    }
    yield { rows, coveredUpTo: Math.max(start, lastStart - 1), complete: false };
    if (lastStart - 1 > start) {
      start = lastStart - 1;
      currentPage = 1;
    } else if (currentPage < LAST_LIST_PAGE) {
      currentPage += 1;
    } else {
      throw new DliRequestError(
        `more than ${LIST_PAGE_SIZE * LAST_LIST_PAGE} jobs started within 2 ms: the job list cannot be paged further`,
        {},
      );
    }
  }
}
