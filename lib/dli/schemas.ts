import * as z from 'zod';

/** Statuses after which a DLI SQL job never changes again. */
export const TERMINAL_STATUSES = ['FINISHED', 'FAILED', 'CANCELLED'] as const;
export type TerminalStatus = (typeof TERMINAL_STATUSES)[number];

/** Statuses DLI documents as "still going". Anything else that is not terminal is unknown (and still in progress). */
export const KNOWN_ACTIVE_STATUSES = ['LAUNCHING', 'RUNNING', 'SCALING'] as const;

export function isTerminalStatus(status: string | null | undefined): status is TerminalStatus {
  return (TERMINAL_STATUSES as readonly string[]).includes(status ?? '');
}

export function isKnownStatus(status: string): boolean {
  return isTerminalStatus(status) || (KNOWN_ACTIVE_STATUSES as readonly string[]).includes(status);
}

/**
 * A job id as dli-watch accepts it: DLI's ids are UUIDs, but we only insist on what is safe to put in a
 * URL path and a store key.
 */
export const JOB_ID_PATTERN = /^[A-Za-z0-9-]{1,64}$/;

export const jobTagSchema = z.looseObject({ key: z.string(), value: z.string() });

/**
 * `GET /v1.0/{project_id}/jobs/{job_id}/status` (dli-api.md §1). Loose on purpose: the status set is open and
 * DLI adds fields over time, so unknown fields pass through untouched and only what we rely on is required.
 */
export const jobStatusResponseSchema = z.looseObject({
  is_success: z.boolean().optional(),
  message: z.string().optional(),
  job_id: z.string().min(1),
  job_type: z.string().optional(),
  job_mode: z.string().optional(),
  queue_name: z.string().optional(),
  owner: z.string().optional(),
  start_time: z.number().optional(),
  duration: z.number().optional(),
  status: z.string().min(1),
  input_row_count: z.number().optional(),
  bad_row_count: z.number().optional(),
  input_size: z.number().optional(),
  result_count: z.number().optional(),
  database_name: z.string().optional(),
  table_name: z.string().optional(),
  detail: z.string().optional(),
  statement: z.string().optional(),
  tags: z.array(jobTagSchema).optional(),
  user_conf: z.string().optional(),
  result_format: z.string().optional(),
  result_path: z.string().optional(),
  execution_details_path: z.string().optional(),
});

export type JobStatusResponse = z.infer<typeof jobStatusResponseSchema>;

/** DLI and API-gateway error body (dli-api.md §3). */
export const dliErrorBodySchema = z.looseObject({
  error_code: z.string().optional(),
  error_msg: z.string().optional(),
  request_id: z.string().optional(),
});
