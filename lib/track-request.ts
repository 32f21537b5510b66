import * as z from 'zod';

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

/** One job to track, as the tracking API's JSON carries it. */
export const trackItemSchema = z.strictObject({
  job_id: z
    .string({ error: (issue) => (issue.input === undefined ? 'required' : 'must be a string') })
    .regex(JOB_ID_PATTERN, `must be ${JOB_ID_RULE}`),
  labels: labelsSchema.optional(),
});

export type TrackItem = z.infer<typeof trackItemSchema>;
