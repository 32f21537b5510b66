import * as z from 'zod';
import type { SummarySchedule } from '../daily-summary.ts';
import { DEFAULT_EVENT_TYPES, EVENT_TYPES, type EventType } from '../job.ts';
import {
  createChatDestination,
  createWebhookDestination,
  DEFAULT_DIGEST_THRESHOLD,
  type RouteFilter,
} from '../notify/destination.ts';
import type { Platform } from '../notify/platforms/platform.ts';
import {
  CHAT_PLATFORM_TYPES,
  DESTINATION_TYPES,
  type Destination,
  type DestinationType,
  isDestinationType,
  platforms,
} from '../notify/platforms/registry.ts';
import { type QuietHours, WEEKDAYS } from '../notify/quiet-hours.ts';
import { LANGUAGES, type Language } from '../notify/render/catalogue.ts';
import { isRecord } from '../util/is-record.ts';
import { isTimeZone, parseTimeOfDay } from '../util/zoned-time.ts';
import type { Problems } from './problems.ts';
import { consoleUrlSchema, titleSchema } from './templates.ts';
import { destinationUrlSchema } from './url-rules.ts';

export const DESTINATION_NAME_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

const EVENT_LIST = EVENT_TYPES.join(', ');

const eventTypeSchema = z.enum(EVENT_TYPES, { error: `must be one of ${EVENT_LIST}` });

/** A message language: `en` or `zh-CN`. */
export const languageSchema = z.enum(LANGUAGES, { error: `must be one of ${LANGUAGES.join(', ')}` });

/** `a, b and c`, for messages. */
function joinWithAnd(items: readonly string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

/** Platforms that can mention a group of people by id (Slack user groups, Discord roles). */
const GROUP_MENTION_TYPES = CHAT_PLATFORM_TYPES.filter((type) => platformOf(type).mentionsGroups === true);

/**
 * The types that take a signing secret, the generic webhook first (the usual signed destination). The others put
 * their credential in the URL: Slack, Discord, Google Chat and WeCom in its path, Teams in its `sig=` parameter.
 */
const SIGNING_TYPES = joinWithAnd(
  ['webhook' as const, ...CHAT_PLATFORM_TYPES].filter((type) => platformOf(type).signingSecret !== undefined),
);

/** A registry entry read for its traits alone, whatever destination shape it renders. */
function platformOf(type: DestinationType): Platform<never> {
  return platforms[type];
}

const DIGEST_THRESHOLD_RULE = 'must be an integer from 1 to 1000';
const ONLY_AFTER_FAILURES_RULE = 'must be an integer from 1 to 1000 (1: every failure)';
const TIME_OF_DAY_RULE = 'must be a time of day as HH:MM, 00:00 to 24:00';

const timeOfDaySchema = z
  .string({ error: TIME_OF_DAY_RULE })
  .refine((text) => parseTimeOfDay(text) !== null, TIME_OF_DAY_RULE);

const TIME_ZONE_RULE = 'must be an IANA time zone name, such as Europe/Berlin or Asia/Shanghai';
const timeZoneSchema = z.string({ error: TIME_ZONE_RULE }).refine(isTimeZone, TIME_ZONE_RULE);

const SUMMARY_AT_RULE = 'must be a time of day as HH:MM, 00:00 to 23:59';

/** When a daily summary is sent: `{"at": "09:00", "timezone": "Asia/Shanghai"}`. */
export const summarySchema = z.strictObject(
  {
    at: z
      .string({ error: SUMMARY_AT_RULE })
      .refine((text) => (parseTimeOfDay(text) ?? 1440) < 1440, SUMMARY_AT_RULE),
    timezone: timeZoneSchema.optional(),
  },
  { error: 'must be an object with at and timezone, such as {"at": "09:00", "timezone": "Asia/Shanghai"}' },
);

/** One quiet window: `{"days": ["mon", …], "from": "22:00", "to": "07:30"}`; `to` before `from` crosses midnight. */
export const quietWindowSchema = z
  .strictObject(
    {
      days: z
        .array(z.enum(WEEKDAYS, { error: `must be one of ${WEEKDAYS.join(', ')}` }), {
          error: `must be a list of days (${WEEKDAYS.join(', ')})`,
        })
        .min(1, 'must list at least one day'),
      from: timeOfDaySchema,
      to: timeOfDaySchema,
    },
    { error: 'must be an object with days, from and to' },
  )
  .refine(
    (window) => parseTimeOfDay(window.from) !== parseTimeOfDay(window.to),
    'from and to must differ (a window may cross midnight: from 22:00 to 07:30)',
  );

const WILDCARD_HINT = '* matches any run of characters';

export const nonEmptyStringSchema = z.string({ error: 'must be a string' }).min(1, 'must not be empty');

/**
 * One routing list: absent means "any job"; present, it must name at least one pattern, since an empty list
 * would silently match nothing. Messages never quote the entries: `${VAR}` may have filled them from anywhere.
 */
export function routeListSchema(what: string, entry: z.ZodType<string>) {
  return z
    .array(entry, { error: `must be a list of ${what} (${WILDCARD_HINT})` })
    .min(1, `must list at least one of ${what} (leave it out to match any)`)
    .optional();
}

export const keyValuePatternSchema = nonEmptyStringSchema.refine(
  (text) => text.indexOf('=') > 0,
  `must be key=value (${WILDCARD_HINT}; key=* for any value)`,
);

const mentionIdsSchema = z.array(nonEmptyStringSchema, { error: 'must be a list of ids' });

export const mentionsSchema = z.strictObject(
  {
    users: mentionIdsSchema.optional(),
    groups: mentionIdsSchema.optional(),
    all: z.boolean({ error: 'must be true or false' }).optional(),
  },
  { error: 'must be an object with users, groups and all' },
);

export const fileDestinationShape = {
  name: z
    .string({ error: 'must be a string' })
    .regex(DESTINATION_NAME_PATTERN, 'must be 1 to 64 letters, digits, "_", "." or "-"'),
  type: z.enum(DESTINATION_TYPES, { error: `must be one of ${DESTINATION_TYPES.join(', ')}` }),
  url: destinationUrlSchema,
  events: z
    .array(eventTypeSchema, { error: `must be a list of events (${EVENT_LIST})` })
    .min(1, `must list at least one of ${EVENT_LIST} (leave it out for ${DEFAULT_EVENT_TYPES.join(', ')})`)
    .optional(),
  only_after_failures: z
    .number({ error: ONLY_AFTER_FAILURES_RULE })
    .refine((value) => Number.isInteger(value) && value >= 1 && value <= 1000, ONLY_AFTER_FAILURES_RULE)
    .optional(),
  quiet_hours: z
    .array(quietWindowSchema, { error: 'must be a list of {"days", "from", "to"} windows' })
    .min(1, 'must list at least one window (leave it out for none)')
    .optional(),
  timezone: timeZoneSchema.optional(),
  summary: summarySchema.optional(),
  except: z.array(eventTypeSchema, { error: `must be a list of events (${EVENT_LIST})` }).optional(),
  language: languageSchema.optional(),
  mute_cancelled: z.boolean({ error: 'must be true or false' }).optional(),
  // Checked against the type below: each platform writes its secret its own way.
  secret: z.string({ error: 'must be a string' }).optional(),
  queues: routeListSchema('queue names', nonEmptyStringSchema),
  owners: routeListSchema('owners', nonEmptyStringSchema),
  job_types: routeListSchema('job types', nonEmptyStringSchema),
  tags: routeListSchema('key=value tags', keyValuePatternSchema),
  labels: routeListSchema('key=value labels', keyValuePatternSchema),
  mentions: mentionsSchema.optional(),
  digest_threshold: z
    .number({ error: DIGEST_THRESHOLD_RULE })
    .refine((value) => Number.isInteger(value) && value >= 1 && value <= 1000, DIGEST_THRESHOLD_RULE)
    .optional(),
  console_url: consoleUrlSchema.optional(),
  title: titleSchema.optional(),
};

/**
 * The rules that tie one key to another (mostly to the type). Reads the destination as unknown data because it
 * runs even when other keys are invalid, so that one pass reports everything.
 */
function checkDestinationCombinations(destination: Record<string, unknown>, context: z.RefinementCtx): void {
  const issue = (path: PropertyKey[], message: string) => context.addIssue({ code: 'custom', path, message });
  if (destination.mute_cancelled === true && Array.isArray(destination.events)) {
    if (destination.events.includes('CANCELLED')) {
      issue(['mute_cancelled'], 'contradicts events, which lists CANCELLED; keep one of the two');
    }
  }
  if (
    destination.only_after_failures !== undefined &&
    Array.isArray(destination.events) &&
    !destination.events.includes('FAILED')
  ) {
    issue(['only_after_failures'], 'is about FAILED messages, which events does not list');
  }
  const summary = isRecord(destination.summary) ? destination.summary : undefined;
  if (summary !== undefined && summary.timezone === undefined && destination.timezone === undefined) {
    issue(
      ['summary', 'timezone'],
      "is required: the IANA zone whose days are summed up, such as Asia/Shanghai (or the destination's timezone)",
    );
  }
  if (destination.quiet_hours === undefined) {
    if (destination.timezone !== undefined && destination.summary === undefined)
      issue(['timezone'], 'is the zone of quiet_hours or summary, neither of which is set');
    if (destination.except !== undefined)
      issue(['except'], 'is what passes during quiet_hours, which is not set');
  } else if (destination.timezone === undefined) {
    issue(
      ['timezone'],
      'is required with quiet_hours: the IANA zone their times are in, such as Europe/Berlin',
    );
  }

  const type = destination.type;
  if (!isDestinationType(type)) return;
  const platform = platformOf(type);

  if (typeof destination.secret === 'string') {
    const signing = platform.signingSecret;
    if (signing === undefined) {
      issue(['secret'], `is only for ${SIGNING_TYPES} destinations; ${type} takes no signing secret`);
    } else if (!signing.accepts(destination.secret)) {
      issue(['secret'], signing.rule);
    }
  }

  if (platform.kind !== 'chat') {
    if (destination.mentions !== undefined) {
      issue(
        ['mentions'],
        'is only for chat destinations (a webhook receiver gets the event data, not a message)',
      );
    }
    if (destination.digest_threshold !== undefined) {
      issue(['digest_threshold'], 'is only for chat destinations (a webhook gets one delivery per event)');
    }
    return;
  }
  const mentions = destination.mentions;
  if (isRecord(mentions) && mentions.groups !== undefined && platform.mentionsGroups !== true) {
    issue(
      ['mentions', 'groups'],
      `is only for ${joinWithAnd(GROUP_MENTION_TYPES)} destinations; ${type} has no groups to mention`,
    );
  }
}

export const fileDestinationSchema = z
  .strictObject(fileDestinationShape, { error: 'must be an object' })
  .superRefine((destination, context) => checkDestinationCombinations(destination, context), {
    // Run even when other keys are wrong, so one pass reports everything.
    when: ({ value }) => isRecord(value),
  });

type FileDestination = z.infer<typeof fileDestinationSchema>;

/** A destination name and where it was declared, for the uniqueness check. */
export interface NameClaim {
  name: string;
  /** The variable or file label problems are filed under. */
  where: string;
  /** The part of it: `destinations[2].name` or `URL 2 (host example.com)`. */
  what: string;
}

/** A file destination as dli-watch uses it; `language` is what it gets when it names none (`DLI_WATCH_LANGUAGE`). */
export function toDestination(destination: FileDestination, language: Language = 'en'): Destination {
  const muted: readonly EventType[] = destination.mute_cancelled === true ? ['CANCELLED'] : [];
  const events = [...new Set(destination.events ?? DEFAULT_EVENT_TYPES)].filter(
    (type) => !muted.includes(type),
  );
  const common = {
    name: destination.name,
    url: destination.url,
    events,
    route: toRoute(destination),
    onlyAfterFailures: destination.only_after_failures ?? 1,
    quietHours: toQuietHours(destination),
    summary: toSummarySchedule(destination),
    language: destination.language ?? language,
    consoleUrlTemplate: destination.console_url ?? null,
    titleTemplate: destination.title ?? null,
    secret: destination.secret ?? null,
  };
  if (destination.type === 'webhook') return createWebhookDestination(common);
  return createChatDestination({
    ...common,
    type: destination.type,
    mentions: {
      users: uniqueOrEmpty(destination.mentions?.users),
      groups: uniqueOrEmpty(destination.mentions?.groups),
      all: destination.mentions?.all ?? false,
    },
    digestThreshold: destination.digest_threshold ?? DEFAULT_DIGEST_THRESHOLD,
  });
}

function toRoute(destination: FileDestination): RouteFilter {
  const list = (entries: string[] | undefined) => (entries === undefined ? null : [...new Set(entries)]);
  return {
    queues: list(destination.queues),
    owners: list(destination.owners),
    jobTypes: list(destination.job_types),
    tags: list(destination.tags),
    labels: list(destination.labels),
  };
}

function toQuietHours(destination: FileDestination): QuietHours | null {
  if (destination.quiet_hours === undefined || destination.timezone === undefined) return null;
  return {
    timeZone: destination.timezone,
    windows: destination.quiet_hours.map((window) => ({
      days: [...new Set(window.days)],
      from: parseTimeOfDay(window.from) as number,
      to: parseTimeOfDay(window.to) as number,
    })),
    except: [...new Set(destination.except ?? [])],
  };
}

function toSummarySchedule(destination: FileDestination): SummarySchedule | null {
  const timeZone = destination.summary?.timezone ?? destination.timezone;
  if (destination.summary === undefined || timeZone === undefined) return null;
  return { atMinute: parseTimeOfDay(destination.summary.at) as number, timeZone };
}

function uniqueOrEmpty(entries: string[] | undefined): string[] {
  return [...new Set(entries ?? [])];
}

/**
 * Files a problem for each name claimed twice. Deliveries are stored by destination name, so two destinations
 * sharing one would steal each other's; a watch's name is its cursor's key and its jobs' label, likewise.
 */
export function checkUniqueNames(claims: NameClaim[], problems: Problems): void {
  const firstClaims = new Map<string, NameClaim>();
  for (const claim of claims) {
    const first = firstClaims.get(claim.name);
    if (first === undefined) {
      firstClaims.set(claim.name, claim);
      continue;
    }
    const previous = first.where === claim.where ? first.what : `${first.where} ${first.what}`;
    problems.add(claim.where, `${claim.what}: the name ${claim.name} is already used by ${previous}`);
  }
}
