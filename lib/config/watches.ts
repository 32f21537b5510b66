import * as z from 'zod';
import { labelsSchema, runKeySchema, toKeySource, warnAfterSchema } from '../track-request.ts';
import { DURATION_RULE, parseDurationMs } from '../util/duration.ts';
import { type Env, envValue } from '../util/env.ts';
import { isRecord } from '../util/is-record.ts';
import { createWatch, WATCH_LABEL, type Watch, type WatchSince } from '../watch.ts';
import {
  keyValuePatternSchema,
  type NameClaim,
  nonEmptyStringSchema,
  routeListSchema,
} from './destinations.ts';
import type { Problems } from './problems.ts';

/** What a watch's name may be: it becomes the `watch` label of every job the watch finds, and a store key. */
export const WATCH_NAME_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

/** The watch `DLI_WATCH_QUEUES` stands for. */
export const QUEUES_SHORTCUT_WATCH = 'queues';

/** DLI's own limit on `sql_pattern`. */
const SQL_PATTERN_MAX = 1024;

const SINCE_RULE = `must be an ISO 8601 time with a time zone (2026-11-30T08:00:00Z) or ${DURATION_RULE}`;

/** `since` as written: an instant with an explicit zone, or a duration before the watch's first cycle. */
export function parseSince(text: string): WatchSince | null {
  const ms = parseDurationMs(text);
  if (ms !== null) return { kind: 'before-first-cycle', ms };
  // A zone is required: an instant read in whatever zone the Lambda runs in would backfill the wrong hours.
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/.test(text)) return null;
  const at = Date.parse(text);
  return Number.isFinite(at) && at > 0 ? { kind: 'at', at } : null;
}

export const fileWatchShape = {
  name: z
    .string({ error: (issue) => (issue.input === undefined ? 'required' : 'must be a string') })
    .regex(WATCH_NAME_PATTERN, 'must be 1 to 64 letters, digits, "_", "." or "-"'),
  queues: routeListSchema('queue names', nonEmptyStringSchema),
  owners: routeListSchema('owners', nonEmptyStringSchema),
  job_types: routeListSchema('job types', nonEmptyStringSchema),
  tags: routeListSchema('key=value tags', keyValuePatternSchema),
  sql_pattern: nonEmptyStringSchema
    .max(SQL_PATTERN_MAX, `must be at most ${SQL_PATTERN_MAX} characters (DLI's limit)`)
    .optional(),
  labels: labelsSchema.optional(),
  since: z
    .string({ error: SINCE_RULE })
    .refine((text) => parseSince(text) !== null, SINCE_RULE)
    .optional(),
  warn_after: warnAfterSchema.optional(),
  key: runKeySchema.optional(),
};

export const fileWatchSchema = z
  .strictObject(fileWatchShape, {
    error: 'must be an object with a name and the filters of the jobs to watch',
  })
  .superRefine(
    (watch, context) => {
      if (isRecord(watch.labels) && Object.hasOwn(watch.labels, WATCH_LABEL)) {
        context.addIssue({
          code: 'custom',
          path: ['labels', WATCH_LABEL],
          message: `is set by the watch itself (to its name); use another key`,
        });
      }
    },
    // Run even when other keys are wrong, so one pass reports everything.
    { when: ({ value }) => isRecord(value) },
  );

export type FileWatch = z.infer<typeof fileWatchSchema>;

export function toWatch(watch: FileWatch): Watch {
  return {
    name: watch.name,
    queues: watch.queues ?? null,
    owners: watch.owners ?? null,
    jobTypes: watch.job_types ?? null,
    tags: watch.tags ?? null,
    sqlPattern: watch.sql_pattern ?? null,
    labels: { ...(watch.labels ?? {}) },
    since: watch.since === undefined ? null : parseSince(watch.since),
    warnAfterMs: watch.warn_after === undefined ? null : parseDurationMs(watch.warn_after),
    keyFrom: watch.key === undefined ? null : toKeySource(watch.key),
  };
}

/** The names the file's watches claim, for the duplicate check. */
export function watchNameClaims(watches: readonly unknown[], where: string): NameClaim[] {
  return watches.flatMap((watch, index) => {
    const name = (watch as { name?: unknown } | null)?.name;
    return typeof name === 'string' && WATCH_NAME_PATTERN.test(name)
      ? [{ name, where, what: `watches[${index}].name` }]
      : [];
  });
}

/**
 * `DLI_WATCH_QUEUES=etl_*,bi_reports`: one watch on those queues, named {@link QUEUES_SHORTCUT_WATCH}, for a set-up
 * without a file. `undefined` when the variable is unset or empty.
 */
export function readQueuesShortcut(env: Env, problems: Problems): Watch | undefined {
  const text = envValue(env, 'DLI_WATCH_QUEUES');
  if (text === undefined) return undefined;
  const queues = text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (queues.length === 0) {
    problems.add('DLI_WATCH_QUEUES', 'must list at least one queue name (* matches any run of characters)');
    return undefined;
  }
  return createWatch(QUEUES_SHORTCUT_WATCH, { queues });
}
