import * as z from 'zod';
import type { KeySource, TrackRequest } from './job.ts';
import { DURATION_RULE, parseDurationMs } from './util/duration.ts';

/**
 * What a request to track a job may hold, wherever it comes in (the CLI's `track`, the tracking API): the one
 * definition of a valid job id and label, which each interface words in its own way.
 */

/**
 * A job id as dli-watch accepts it: DLI's ids are UUIDs, but we only insist on what is safe to put in a
 * URL path and a store key.
 */
export const JOB_ID_PATTERN = /^[A-Za-z0-9-]{1,64}$/;

/**
 * What a label key may be, wherever labels come in (the CLI's `--label`, the tracking API): safe as a JSON key,
 * a chat message field and a routing filter key.
 */
export const LABEL_KEY_PATTERN = /^[A-Za-z0-9_.\-/]{1,64}$/;

/** A job id's rule in words, for messages. */
export const JOB_ID_RULE = '1-64 letters, digits and "-"';
/** A label key's rule in words, for messages. */
export const LABEL_KEY_RULE = '1-64 of letters, digits, _ . - /';

export function isJobId(text: string): boolean {
  return JOB_ID_PATTERN.test(text);
}

export function isLabelKey(text: string): boolean {
  return LABEL_KEY_PATTERN.test(text);
}

/** Labels as JSON carries them (the tracking API, a watch in the configuration file). */
export const labelsSchema = z.record(
  z.string().regex(LABEL_KEY_PATTERN, `label keys are ${LABEL_KEY_RULE}`),
  z.string({ error: 'label values must be strings' }),
  { error: 'must be an object of string values' },
);

/** A run key's source in words, for messages. */
export const RUN_KEY_RULE = "tag:<tag key>, label:<label key> or sql (the SQL statement's fingerprint)";

/**
 * `--key tag:pipeline`, `--key label:team`, `--key sql`: where the key that ties a job's runs together comes from,
 * as the CLI writes it. `null` for anything else.
 */
export function parseKeySource(text: string): KeySource | null {
  if (text === 'sql') return { from: 'sql' };
  const separator = text.indexOf(':');
  const from = text.slice(0, separator);
  const name = text.slice(separator + 1);
  if (from === 'tag' && name !== '') return { from: 'tag', name };
  if (from === 'label' && isLabelKey(name)) return { from: 'label', name };
  return null;
}

/** `tag:pipeline`, `label:team`, `sql`: a key's source as `track --key` writes it, what {@link parseKeySource} reads. */
export function describeKeySource(source: KeySource | null): string | null {
  if (source === null) return null;
  return source.from === 'sql' ? 'sql' : `${source.from}:${source.name}`;
}

/**
 * A run key's source as JSON carries it (a watch, the tracking API): `{"tag": "pipeline"}`, `{"label": "team"}` or
 * `{"sql_fingerprint": true}`, exactly one of them. Read with {@link toKeySource}.
 */
export const runKeySchema = z
  .strictObject(
    {
      tag: z.string({ error: 'must be the key of a DLI job tag' }).min(1, 'must not be empty').optional(),
      label: z
        .string({ error: 'must be a label key' })
        .regex(LABEL_KEY_PATTERN, `label keys are ${LABEL_KEY_RULE}`)
        .optional(),
      sql_fingerprint: z.literal(true, { error: 'must be true' }).optional(),
    },
    { error: 'must be {"tag": "<tag key>"}, {"label": "<label key>"} or {"sql_fingerprint": true}' },
  )
  .refine(
    (key) => [key.tag, key.label, key.sql_fingerprint].filter((part) => part !== undefined).length === 1,
    'must name exactly one of tag, label and sql_fingerprint',
  );

export function toKeySource(key: z.infer<typeof runKeySchema>): KeySource {
  if (key.tag !== undefined) return { from: 'tag', name: key.tag };
  if (key.label !== undefined) return { from: 'label', name: key.label };
  return { from: 'sql' };
}

/** A long-running threshold as JSON carries it: `"2h"`, `"90m"`. Read with `parseDurationMs`. */
export const warnAfterSchema = z
  .string({ error: `must be ${DURATION_RULE}` })
  .refine((text) => parseDurationMs(text) !== null, `must be ${DURATION_RULE}`);

/** One job to track, as the tracking API's JSON carries it. */
export const trackItemSchema = z.strictObject({
  job_id: z
    .string({ error: (issue) => (issue.input === undefined ? 'required' : 'must be a string') })
    .regex(JOB_ID_PATTERN, `must be ${JOB_ID_RULE}`),
  labels: labelsSchema.optional(),
  warn_after: warnAfterSchema.optional(),
  key: runKeySchema.optional(),
});

export type TrackItem = z.infer<typeof trackItemSchema>;

/** What a tracking API item asks for, as the store takes it. */
export function toTrackRequest(item: TrackItem): TrackRequest {
  return {
    jobId: item.job_id,
    ...(item.labels && { labels: item.labels }),
    ...(item.warn_after !== undefined && { warnAfterMs: parseDurationMs(item.warn_after) as number }),
    ...(item.key && { keyFrom: toKeySource(item.key) }),
  };
}
