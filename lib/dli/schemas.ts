import * as z from 'zod';

export const jobTagSchema = z.looseObject({ key: z.string(), value: z.string() });

/**
 * `GET /v1.0/{project_id}/jobs/{job_id}/status` (docs/dli-api.md §1). Loose on purpose: the status set is open and
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

/**
 * `GET /v1.0/{project_id}/jobs` (docs/dli-api.md §2a): `job_count` is the total matching the query, not the page's
 * size. Each row is a job as the status call shows it, without `job_mode` and with `end_time` once it ended.
 */
export const jobListResponseSchema = z.looseObject({
  is_success: z.boolean().optional(),
  message: z.string().optional(),
  job_count: z.number().int().nonnegative(),
  jobs: z.array(jobStatusResponseSchema.extend({ end_time: z.number().optional() })),
});

export type JobListResponse = z.infer<typeof jobListResponseSchema>;
export type JobListRow = JobListResponse['jobs'][number];

/** Fields only the list call has (docs/dli-api.md §2a); the status call never sends them. */
const LIST_ONLY_FIELDS = ['end_time', 'engine_type', 'with_column_header', 'output_byte', 'cpu_cost'];

/**
 * A list row as the status call would have answered: the same fields, so that a job's event, its messages and its
 * webhook body are the same whichever call read it. The one field a row cannot give is `job_mode`, which the list
 * does not return.
 */
export function jobFromListRow(row: JobListRow): JobStatusResponse {
  const job: Record<string, unknown> = { ...row };
  for (const field of LIST_ONLY_FIELDS) delete job[field];
  return job as JobStatusResponse;
}

/** DLI and API-gateway error body (docs/dli-api.md §3). */
export const dliErrorBodySchema = z.looseObject({
  error_code: z.string().optional(),
  error_msg: z.string().optional(),
  request_id: z.string().optional(),
});
