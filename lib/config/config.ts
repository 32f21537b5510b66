import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as z from 'zod';
import type { DliAuth } from '../dli/auth.ts';
import { TERMINAL_STATUSES, type TerminalStatus } from '../job.ts';
import {
  CHAT_PLATFORM_TYPES,
  type ChatPlatformType,
  createChatDestination,
  createWebhookDestination,
  DEFAULT_DIGEST_THRESHOLD,
  type Destination,
  type DestinationType,
  type RouteFilter,
} from '../notify/destination.ts';
import { DEFAULT_CONSOLE_URL_TEMPLATE, TITLE_PLACEHOLDERS } from '../notify/render/job-facts.ts';
import type { StoreConfig } from '../store/open-store.ts';
import { isRecord } from '../util/is-record.ts';
import type { LogLevel } from '../util/log.ts';

export interface DliConfig {
  region: string;
  projectId: string;
  /** Origin only (`https://host[:port]`), no trailing slash: API paths are appended to it. */
  endpoint: string;
  auth: DliAuth;
  timeoutMs: number;
  concurrency: number;
  maxRequestsPerSecond: number;
}

export interface Config {
  store: StoreConfig;
  dli: DliConfig;
  destinations: Destination[];
  /** Console link with `{region}`, `{project_id}`, `{job_id}`, `{queue_name}` placeholders. */
  consoleUrlTemplate: string;
  logLevel: LogLevel;
}

export interface LoadOptions {
  /** Relative paths (store file, config file) are resolved against it. */
  cwd: string;
  /** Reads a UTF-8 text file; throws an error with `code: 'ENOENT'` when it does not exist. */
  readFile?: (path: string) => string;
  /**
   * The configuration file's text, used instead of reading the file: the Lambda fetches it from Parameter
   * Store, and it gets exactly the file's validation.
   */
  configText?: string;
  /** What problems in `configText` are filed under (where it came from, such as a parameter name). */
  configLabel?: string;
}

/**
 * Everything wrong with the configuration at once, so a user fixes it in one go rather than one restart per
 * typo. Problems name the variable or file key; they never contain a secret or the value of a
 * secret-bearing setting.
 */
export class ConfigError extends Error {
  readonly problems: string[];

  constructor(problems: string[], options?: ErrorOptions) {
    super(problems.join('\n'), options);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/**
 * The API gateway in front of DLI allows 200 requests/s per API for the whole account by default
 * (dli-api.md §3), and other tools of the same team share that budget. 100/s leaves half of it to them and
 * still polls about 6000 jobs in a one-minute cycle.
 */
export const DEFAULT_MAX_RPS = 100;
export const DEFAULT_CONCURRENCY = 8;
export const DEFAULT_DLI_TIMEOUT_MS = 10_000;
export const DEFAULT_STORE = 'sqlite:.dli-watch/state.db';
/** Read from the working directory when it exists; a missing default file is not an error. */
export const DEFAULT_CONFIG_FILE = 'dli-watch.config.json';
/** DLI has no deep link to one SQL job (dli-api.md §6); the region's job list is the closest. */
export { DEFAULT_CONSOLE_URL_TEMPLATE } from '../notify/render/job-facts.ts';
export const CONSOLE_URL_PLACEHOLDERS = ['region', 'project_id', 'job_id', 'queue_name'] as const;

const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
const REGION_PATTERN = /^[a-z]{2}-[a-z]+-\d+$/;
const PROJECT_ID_PATTERN = /^[A-Za-z0-9]{1,64}$/;
/** DynamoDB's own rule for table names. */
const DYNAMODB_TABLE_PATTERN = /^[A-Za-z0-9_.-]{3,255}$/;
const DESTINATION_NAME_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
const ENV_REFERENCE_PATTERN = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;
const HTTPS_OR_LOOPBACK = 'must be https (or http on a loopback host)';

/** Environment variables, as `process.env` holds them. */
export type Env = Record<string, string | undefined>;

/**
 * The DLI API origin of a region (dli-api.md §1): `https://dli.{region}.myhuaweicloud.com`, except the
 * European region, which lives under `.eu`.
 */
export function dliEndpointForRegion(region: string): string {
  if (region === 'eu-west-101') return 'https://dli.eu-west-101.myhuaweicloud.eu';
  return `https://dli.${region}.myhuaweicloud.com`;
}

/**
 * Whether plain http is acceptable for this host: only this machine (a local simulator or test server), where
 * nothing travels over a network. Accepts a WHATWG `URL.hostname`, so IPv6 may come bracketed.
 */
export function isLoopbackHost(hostname: string): boolean {
  return ['127.0.0.1', 'localhost', '::1', '[::1]'].includes(hostname.toLowerCase());
}

/** Configuration for commands that only touch the store (track, untrack, list): no credentials needed. */
export function loadStoreConfig(env: Env, options: LoadOptions): { store: StoreConfig; logLevel: LogLevel } {
  const problems = new Problems();
  const { store, logLevel } = readStoreSettings(env, options.cwd, problems);
  if (store === undefined || logLevel === undefined) throw problems.toError();
  return { store, logLevel };
}

/**
 * The whole configuration (tick, run), from environment variables and the optional JSON file. Collects every
 * problem across both before throwing one {@link ConfigError}.
 */
export function loadConfig(env: Env, options: LoadOptions): Config {
  const problems = new Problems();
  const { store, logLevel } = readStoreSettings(env, options.cwd, problems);
  const dli = readDliConfig(env, problems);
  const file = readConfigFile(env, options, problems);
  const shortcuts = readWebhookShortcuts(env, problems);
  checkDestinationNames([...(file?.names ?? []), ...shortcuts.map(shortcutName)], problems);

  const envConsoleUrl = readVariable(env, 'DLI_WATCH_CONSOLE_URL', consoleUrlSchema.optional(), problems);
  const consoleUrlTemplate = envConsoleUrl ?? file?.parsed?.console_url ?? DEFAULT_CONSOLE_URL_TEMPLATE;

  if (problems.any() || store === undefined || logLevel === undefined || dli === undefined) {
    throw problems.toError();
  }
  const fileDestinations = file?.parsed?.destinations ?? [];
  return {
    store,
    dli,
    destinations: [...fileDestinations.map(toDestination), ...shortcuts.map((entry) => entry.destination)],
    consoleUrlTemplate,
    logLevel,
  };
}

function readStoreSettings(env: Env, cwd: string, problems: Problems) {
  return {
    store: readVariable(env, 'DLI_WATCH_STORE', storeSchema(cwd), problems, DEFAULT_STORE),
    logLevel: readVariable(env, 'DLI_WATCH_LOG_LEVEL', logLevelSchema, problems, 'info'),
  };
}

/** Accumulates problems; redacts known secret values as a last line of defence. */
class Problems {
  private readonly list: string[] = [];
  private readonly secrets = new Set<string>();
  private cause: unknown;

  add(where: string, message: string): void {
    this.list.push(`${where}: ${message}`);
  }

  /** Remembers a value that must never be shown, should some message ever carry it. */
  secret(value: string | undefined): void {
    // Very short values would blank out ordinary words; real secrets are long.
    if (value !== undefined && value.length >= 6) this.secrets.add(value);
  }

  setCause(cause: unknown): void {
    this.cause ??= cause;
  }

  any(): boolean {
    return this.list.length > 0;
  }

  count(): number {
    return this.list.length;
  }

  toError(): ConfigError {
    const redacted = this.list.map((problem) => {
      let text = problem;
      for (const secret of this.secrets) text = text.replaceAll(secret, '[redacted]');
      return text;
    });
    return new ConfigError(redacted, this.cause === undefined ? undefined : { cause: this.cause });
  }
}

/** An environment variable's value; an empty string counts as unset. */
export function envValue(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

/**
 * Parses one variable with its schema (given `fallback` text when unset, as if the user had written it).
 * Returns undefined when it is invalid, after recording why under the variable's name.
 */
function readVariable<T>(
  env: Env,
  name: string,
  schema: z.ZodType<T>,
  problems: Problems,
  fallback?: string,
): T | undefined {
  const result = schema.safeParse(envValue(env, name) ?? fallback);
  if (result.success) return result.data;
  for (const message of new Set(result.error.issues.map((issue) => issue.message)))
    problems.add(name, message);
  return undefined;
}

/** A schema turning text into a value with one check function, so each bad value gets exactly one message. */
function textSetting<T>(convert: (text: string) => T | undefined, message: string) {
  return z.string({ error: message }).transform((text, context): T => {
    const value = convert(text);
    if (value === undefined) {
      context.addIssue({ code: 'custom', message });
      return z.NEVER;
    }
    return value;
  });
}

function integerSetting(min: number, max: number) {
  return textSetting((text) => {
    const value = /^\d{1,9}$/.test(text) ? Number(text) : Number.NaN;
    return value >= min && value <= max ? value : undefined;
  }, `must be an integer from ${min} to ${max}`);
}

function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

function isHttpsOrLoopbackHttp(url: URL): boolean {
  return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname));
}

/** Where dli-watch may send a message or link: an absolute https URL, or http on this machine. */
function checkDestinationUrl(text: string, context: z.RefinementCtx): void {
  const url = parseUrl(text);
  if (!url) context.addIssue({ code: 'custom', message: 'must be an absolute URL' });
  else if (!isHttpsOrLoopbackHttp(url)) context.addIssue({ code: 'custom', message: HTTPS_OR_LOOPBACK });
}

const logLevelSchema = textSetting(
  (text) => {
    const level = text.toLowerCase();
    return (LOG_LEVELS as readonly string[]).includes(level)
      ? (level as (typeof LOG_LEVELS)[number])
      : undefined;
  },
  `must be one of ${LOG_LEVELS.join(', ')}`,
);

function storeSchema(cwd: string) {
  return z.string().transform((text, context): StoreConfig => {
    const separator = text.indexOf(':');
    const scheme = separator < 0 ? '' : text.slice(0, separator);
    const location = text.slice(separator + 1);
    if (scheme === 'sqlite' && location !== '') return { kind: 'sqlite', path: resolve(cwd, location) };
    if (scheme === 'dynamodb' && DYNAMODB_TABLE_PATTERN.test(location)) {
      return { kind: 'dynamodb', table: location };
    }
    const message =
      scheme === 'sqlite'
        ? 'sqlite: needs a file path (sqlite:<path>)'
        : scheme === 'dynamodb'
          ? 'dynamodb: needs a table name of 3 to 255 letters, digits, _ . or - (dynamodb:<table>)'
          : 'must be sqlite:<path> or dynamodb:<table>';
    context.addIssue({ code: 'custom', message });
    return z.NEVER;
  });
}

const regionSchema = z
  .string({ error: 'is required (the DLI region, like cn-north-4)' })
  .regex(REGION_PATTERN, 'must be a region name like cn-north-4');

const projectIdSchema = z.string().regex(PROJECT_ID_PATTERN, 'must be 1 to 64 letters and digits');

/** A `DLI_ENDPOINT` override as the origin API paths are appended to, or why it cannot be one. */
function parseEndpoint(text: string): { origin: string } | { problem: string } {
  const url = parseUrl(text);
  if (!url) return { problem: 'must be an absolute URL like https://dli.cn-north-4.myhuaweicloud.com' };
  if (!isHttpsOrLoopbackHttp(url)) return { problem: HTTPS_OR_LOOPBACK };
  if (
    url.pathname !== '/' ||
    url.search !== '' ||
    url.hash !== '' ||
    url.username !== '' ||
    url.password !== ''
  ) {
    return { problem: 'must be just scheme, host and port, with no path, query, fragment or credentials' };
  }
  return { origin: url.origin };
}

const endpointSchema = z.string().transform((text, context) => {
  const endpoint = parseEndpoint(text);
  if ('origin' in endpoint) return endpoint.origin;
  context.addIssue({ code: 'custom', message: endpoint.problem });
  return z.NEVER;
});

const timeoutMsSchema = integerSetting(100, 120_000);
const concurrencySchema = integerSetting(1, 256);
const maxRpsSchema = textSetting((text) => {
  const value = /^(\d{1,9}(\.\d+)?|\.\d+)$/.test(text) ? Number(text) : Number.NaN;
  return value > 0 && value <= 10_000 ? value : undefined;
}, 'must be a number greater than 0 and at most 10000');

// A header value must be visible ASCII; a stray space or CR from a pasted key would fail every signature, and
// five failures in a row can lock the key (dli-api.md §3), so refuse it up front.
const credentialSchema = z
  .string()
  .regex(/^[\x21-\x7e]+$/, 'must not contain spaces, control characters or non-ASCII characters');

/** Which placeholders a template uses, written as in it: `{job_id}`. */
function placeholdersIn(template: string): Set<string> {
  return new Set(template.match(/\{[^{}]*\}/g) ?? []);
}

function unknownPlaceholderMessage(placeholder: string, known: readonly string[]): string {
  return `unknown placeholder ${placeholder}; the placeholders are ${known.map((name) => `{${name}}`).join(', ')}`;
}

const consoleUrlSchema = z.string({ error: 'must be a string' }).superRefine((text, context) => {
  for (const placeholder of placeholdersIn(text)) {
    if (!(CONSOLE_URL_PLACEHOLDERS as readonly string[]).includes(placeholder.slice(1, -1))) {
      context.addIssue({
        code: 'custom',
        message: unknownPlaceholderMessage(placeholder, CONSOLE_URL_PLACEHOLDERS),
      });
    }
  }
  // Placeholders may stand anywhere, even in the host; check the URL they would produce.
  checkDestinationUrl(text.replace(/\{[^{}]*\}/g, 'x'), context);
});

function readDliConfig(env: Env, problems: Problems): DliConfig | undefined {
  const region = readVariable(env, 'DLI_REGION', regionSchema, problems);

  const projectIdVariable =
    envValue(env, 'DLI_PROJECT_ID') !== undefined
      ? 'DLI_PROJECT_ID'
      : envValue(env, 'HUAWEICLOUD_SDK_PROJECT_ID') !== undefined
        ? 'HUAWEICLOUD_SDK_PROJECT_ID'
        : undefined;
  if (projectIdVariable === undefined) {
    problems.add(
      'DLI_PROJECT_ID',
      'is required (or HUAWEICLOUD_SDK_PROJECT_ID): the project id, 1 to 64 letters and digits',
    );
  }
  const projectId =
    projectIdVariable === undefined
      ? undefined
      : readVariable(env, projectIdVariable, projectIdSchema, problems);

  const endpointOverride = readVariable(env, 'DLI_ENDPOINT', endpointSchema.optional(), problems);
  const auth = readAuth(env, problems);
  const timeoutMs = readVariable(
    env,
    'DLI_WATCH_DLI_TIMEOUT_MS',
    timeoutMsSchema,
    problems,
    String(DEFAULT_DLI_TIMEOUT_MS),
  );
  const concurrency = readVariable(
    env,
    'DLI_WATCH_CONCURRENCY',
    concurrencySchema,
    problems,
    String(DEFAULT_CONCURRENCY),
  );
  const maxRequestsPerSecond = readVariable(
    env,
    'DLI_WATCH_MAX_RPS',
    maxRpsSchema,
    problems,
    String(DEFAULT_MAX_RPS),
  );

  if (
    region === undefined ||
    projectId === undefined ||
    auth === undefined ||
    timeoutMs === undefined ||
    concurrency === undefined ||
    maxRequestsPerSecond === undefined
  ) {
    return undefined;
  }
  return {
    region,
    projectId,
    endpoint: endpointOverride ?? dliEndpointForRegion(region),
    auth,
    timeoutMs,
    concurrency,
    maxRequestsPerSecond,
  };
}

const AK = 'HUAWEICLOUD_SDK_AK';
const SK = 'HUAWEICLOUD_SDK_SK';
const SECURITY_TOKEN = 'HUAWEICLOUD_SDK_SECURITY_TOKEN';
const AUTH_TOKEN = 'DLI_AUTH_TOKEN';

/** Exactly one method: AK/SK (optionally with a security token, for temporary credentials) or an IAM token. */
function readAuth(env: Env, problems: Problems): DliAuth | undefined {
  for (const name of [AK, SK, SECURITY_TOKEN, AUTH_TOKEN]) problems.secret(envValue(env, name));
  const problemsBefore = problems.count();

  const hasAccessKey = envValue(env, AK) !== undefined;
  const hasSecretKey = envValue(env, SK) !== undefined;
  const hasSecurityToken = envValue(env, SECURITY_TOKEN) !== undefined;
  const hasToken = envValue(env, AUTH_TOKEN) !== undefined;

  const accessKey = readVariable(env, AK, credentialSchema.optional(), problems);
  const secretKey = readVariable(env, SK, credentialSchema.optional(), problems);
  const securityToken = readVariable(env, SECURITY_TOKEN, credentialSchema.optional(), problems);
  const token = readVariable(env, AUTH_TOKEN, credentialSchema.optional(), problems);

  if (hasToken && (hasAccessKey || hasSecretKey)) {
    problems.add(AUTH_TOKEN, `cannot be combined with ${AK}/${SK}; use one authentication method`);
  }
  if (hasAccessKey && !hasSecretKey) problems.add(SK, `is required when ${AK} is set`);
  if (hasSecretKey && !hasAccessKey) problems.add(AK, `is required when ${SK} is set`);
  if (hasSecurityToken && !hasAccessKey && !hasSecretKey) {
    problems.add(SECURITY_TOKEN, `is only used with ${AK} and ${SK} (temporary credentials); set those too`);
  }
  if (!hasAccessKey && !hasSecretKey && !hasToken && !hasSecurityToken) {
    problems.add(
      `${AK}/${SK} or ${AUTH_TOKEN}`,
      `no DLI credentials; set ${AK} and ${SK} (plus ${SECURITY_TOKEN} for temporary credentials), or ${AUTH_TOKEN}`,
    );
  }

  if (problems.count() > problemsBefore) return undefined;
  if (accessKey !== undefined && secretKey !== undefined) {
    return { kind: 'aksk', accessKey, secretKey, securityToken: securityToken ?? null };
  }
  return token === undefined ? undefined : { kind: 'token', token };
}

const destinationUrlSchema = z.string({ error: 'must be a string' }).superRefine(checkDestinationUrl);

/** Standard Webhooks signing secret: `whsec_` + base64 of 24 to 64 random bytes. */
function isWebhookSecret(text: string): boolean {
  const encoded = text.startsWith('whsec_') ? text.slice('whsec_'.length) : '';
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || encoded.length % 4 !== 0) return false;
  const bytes = Buffer.from(encoded, 'base64').length;
  return bytes >= 24 && bytes <= 64;
}

const STATUS_LIST = TERMINAL_STATUSES.join(', ');

/** Every `type` a destination can have: the chat platforms, then the generic signed webhook. */
export const DESTINATION_TYPES = [...CHAT_PLATFORM_TYPES, 'webhook'] as const;

/** `a, b and c`, for messages. */
function joinWithAnd(items: readonly string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

function isChatPlatformType(type: unknown): type is ChatPlatformType {
  return (CHAT_PLATFORM_TYPES as readonly unknown[]).includes(type);
}

/** Platforms that can mention a group of people by id (Slack user groups, Discord roles). */
const GROUP_MENTION_TYPES: readonly ChatPlatformType[] = ['slack', 'discord'];

/**
 * How each signing platform writes its secret. The others take none: Slack, Discord, Google Chat and WeCom put
 * the credential in the URL, Teams in its `sig=` query parameter.
 */
const SIGNING_SECRET_RULES: Partial<
  Record<DestinationType, { accepts: (text: string) => boolean; rule: string }>
> = {
  webhook: {
    accepts: isWebhookSecret,
    rule: 'must be "whsec_" followed by the base64 of 24 to 64 random bytes',
  },
  feishu: {
    accepts: (text) => text !== '',
    rule: "must not be empty (it is the signing secret from the bot's security settings)",
  },
  dingtalk: {
    accepts: (text) => text.startsWith('SEC') && text.length > 'SEC'.length,
    rule: 'must start with "SEC" (the signing secret from the robot\'s security settings)',
  },
};
const SIGNING_TYPES = joinWithAnd(Object.keys(SIGNING_SECRET_RULES));

const DIGEST_THRESHOLD_RULE = 'must be an integer from 1 to 1000';
const WILDCARD_HINT = '* matches any run of characters';

const nonEmptyStringSchema = z.string({ error: 'must be a string' }).min(1, 'must not be empty');

/**
 * One routing list: absent means "any job"; present, it must name at least one pattern, since an empty list
 * would silently match nothing. Messages never quote the entries: `${VAR}` may have filled them from anywhere.
 */
function routeListSchema(what: string, entry: z.ZodType<string>) {
  return z
    .array(entry, { error: `must be a list of ${what} (${WILDCARD_HINT})` })
    .min(1, `must list at least one of ${what} (leave it out to match any)`)
    .optional();
}

const keyValuePatternSchema = nonEmptyStringSchema.refine(
  (text) => text.indexOf('=') > 0,
  `must be key=value (${WILDCARD_HINT}; key=* for any value)`,
);

const mentionIdsSchema = z.array(nonEmptyStringSchema, { error: 'must be a list of ids' });

const mentionsSchema = z.strictObject(
  {
    users: mentionIdsSchema.optional(),
    groups: mentionIdsSchema.optional(),
    all: z.boolean({ error: 'must be true or false' }).optional(),
  },
  { error: 'must be an object with users, groups and all' },
);

const titleSchema = z.string({ error: 'must be a string' }).superRefine((text, context) => {
  if (text.trim() === '') {
    context.addIssue({ code: 'custom', message: 'must not be empty (leave it out for the default title)' });
  }
  for (const placeholder of placeholdersIn(text)) {
    if (!(TITLE_PLACEHOLDERS as readonly string[]).includes(placeholder.slice(1, -1))) {
      context.addIssue({
        code: 'custom',
        message: unknownPlaceholderMessage(placeholder, TITLE_PLACEHOLDERS),
      });
    }
  }
});

const fileDestinationShape = {
  name: z
    .string({ error: 'must be a string' })
    .regex(DESTINATION_NAME_PATTERN, 'must be 1 to 64 letters, digits, "_", "." or "-"'),
  type: z.enum(DESTINATION_TYPES, { error: `must be one of ${DESTINATION_TYPES.join(', ')}` }),
  url: destinationUrlSchema,
  events: z
    .array(z.enum(TERMINAL_STATUSES, { error: `must be one of ${STATUS_LIST}` }), {
      error: `must be a list of statuses (${STATUS_LIST})`,
    })
    .min(1, `must list at least one of ${STATUS_LIST} (leave it out to get all three)`)
    .optional(),
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

  const type = destination.type;
  if (!(DESTINATION_TYPES as readonly unknown[]).includes(type)) return;
  const knownType = type as DestinationType;

  if (typeof destination.secret === 'string') {
    const signing = SIGNING_SECRET_RULES[knownType];
    if (signing === undefined) {
      issue(['secret'], `is only for ${SIGNING_TYPES} destinations; ${knownType} takes no signing secret`);
    } else if (!signing.accepts(destination.secret)) {
      issue(['secret'], signing.rule);
    }
  }

  if (!isChatPlatformType(knownType)) {
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
  if (isRecord(mentions) && mentions.groups !== undefined && !GROUP_MENTION_TYPES.includes(knownType)) {
    issue(
      ['mentions', 'groups'],
      `is only for ${joinWithAnd(GROUP_MENTION_TYPES)} destinations; ${knownType} has no groups to mention`,
    );
  }
}

const fileDestinationSchema = z
  .strictObject(fileDestinationShape, { error: 'must be an object' })
  .superRefine((destination, context) => checkDestinationCombinations(destination, context), {
    // Run even when other keys are wrong, so one pass reports everything.
    when: ({ value }) => isRecord(value),
  });

const configFileSchema = z.strictObject(
  {
    destinations: z.array(fileDestinationSchema, { error: 'must be a list' }).optional(),
    console_url: consoleUrlSchema.optional(),
  },
  { error: 'must be a JSON object' },
);

type FileDestination = z.infer<typeof fileDestinationSchema>;
type ConfigFile = z.infer<typeof configFileSchema>;

/** Key names shown in "unknown key" problems, by the depth of the object they sit in. */
const KNOWN_KEYS_AT_ROOT = Object.keys(configFileSchema.shape);
const KNOWN_KEYS_IN_DESTINATION = Object.keys(fileDestinationShape);
const KNOWN_KEYS_IN_MENTIONS = Object.keys(mentionsSchema.shape);

/** The keys allowed in the object at `path`, for "unknown key" problems. */
function knownKeysAt(path: readonly PropertyKey[]): string[] {
  if (path.length === 0) return KNOWN_KEYS_AT_ROOT;
  return path.at(-1) === 'mentions' ? KNOWN_KEYS_IN_MENTIONS : KNOWN_KEYS_IN_DESTINATION;
}

/** A destination name and where it was declared, for the uniqueness check. */
interface NameClaim {
  name: string;
  /** The variable or file label problems are filed under. */
  where: string;
  /** The part of it: `destinations[2].name` or `URL 2 (host example.com)`. */
  what: string;
}

interface LoadedConfigFile {
  /** Undefined when the file has problems. */
  parsed: ConfigFile | undefined;
  names: NameClaim[];
}

function toDestination(destination: FileDestination): Destination {
  const muted: readonly TerminalStatus[] = destination.mute_cancelled === true ? ['CANCELLED'] : [];
  const events = [...new Set(destination.events ?? TERMINAL_STATUSES)].filter(
    (status) => !muted.includes(status),
  );
  const common = {
    name: destination.name,
    url: destination.url,
    events,
    route: toRoute(destination),
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

function uniqueOrEmpty(entries: string[] | undefined): string[] {
  return [...new Set(entries ?? [])];
}

/** Shows a key in a problem only when it looks like a key: a mistyped JSON file can hold a secret as a key. */
function displayKey(key: PropertyKey): string | undefined {
  const text = String(key);
  return /^[A-Za-z0-9_$-]{1,64}$/.test(text) ? text : undefined;
}

/** `['destinations', 1, 'url']` → `destinations[1].url`. */
function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((segment, index) => {
      if (typeof segment === 'number') return `[${segment}]`;
      const key = displayKey(segment) ?? '<key not shown>';
      return index === 0 ? key : `.${key}`;
    })
    .join('');
}

function readConfigFile(env: Env, options: LoadOptions, problems: Problems): LoadedConfigFile | undefined {
  const explicitPath = envValue(env, 'DLI_WATCH_CONFIG');
  const fileLabel = explicitPath ?? DEFAULT_CONFIG_FILE;
  const label = options.configText === undefined ? fileLabel : (options.configLabel ?? fileLabel);
  const path = resolve(options.cwd, fileLabel);
  const readFile = options.readFile ?? ((file: string) => readFileSync(file, 'utf8'));

  let text: string;
  try {
    text = options.configText ?? readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    if (code === 'ENOENT' && explicitPath === undefined) return undefined;
    problems.setCause(error);
    problems.add(
      explicitPath === undefined ? label : 'DLI_WATCH_CONFIG',
      code === 'ENOENT' ? `file not found: ${path}` : `cannot read ${path} (${code ?? 'unknown error'})`,
    );
    return { parsed: undefined, names: [] };
  }

  // Editors on Windows like to start files with a byte order mark, which JSON.parse refuses.
  const json = text.startsWith('\uFEFF') ? text.slice(1) : text;
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (error) {
    // Not kept as the cause: V8's message quotes the file's text, which may hold secrets.
    problems.add(label, `invalid JSON: ${describeJsonSyntaxError(json, error)}`);
    return { parsed: undefined, names: [] };
  }

  const unresolvedPaths: string[] = [];
  const data = substituteEnvReferences(raw, [], env, (path, variable) => {
    const where = formatPath(path);
    unresolvedPaths.push(where);
    problems.add(label, `${where ? `${where}: ` : ''}environment variable ${variable} is not set`);
  });

  const destinations = isRecord(data) && Array.isArray(data.destinations) ? data.destinations : [];
  const names: NameClaim[] = [];
  destinations.forEach((destination: unknown, index) => {
    if (!isRecord(destination)) return;
    if (typeof destination.url === 'string') problems.secret(destination.url);
    if (typeof destination.secret === 'string') problems.secret(destination.secret);
    if (typeof destination.name === 'string' && DESTINATION_NAME_PATTERN.test(destination.name)) {
      names.push({ name: destination.name, where: label, what: `destinations[${index}].name` });
    }
  });

  const result = configFileSchema.safeParse(data);
  if (result.success) return { parsed: result.data, names };
  for (const issue of result.error.issues) {
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeysAt(issue.path);
      for (const key of issue.keys) {
        const shown = displayKey(key);
        problems.add(
          label,
          shown === undefined
            ? `${formatPath(issue.path) || 'the top level'}: has an unknown key (not shown); the keys are ${known.join(', ')}`
            : `${formatPath([...issue.path, key])}: unknown key; the keys are ${known.join(', ')}`,
        );
      }
      continue;
    }
    const where = formatPath(issue.path);
    // A key whose variable is missing is already reported; its leftover `${NAME}` text would only add noise.
    if (unresolvedPaths.some((unresolved) => where === unresolved || where.startsWith(`${unresolved}.`)))
      continue;
    problems.add(label, where ? `${where}: ${issue.message}` : issue.message);
  }
  return { parsed: undefined, names };
}

/** Replaces `${NAME}` in every string value (keys are left alone) with environment variable NAME. */
function substituteEnvReferences(
  value: unknown,
  path: PropertyKey[],
  env: Env,
  onMissing: (path: PropertyKey[], variable: string) => void,
): unknown {
  if (typeof value === 'string') {
    return value.replace(ENV_REFERENCE_PATTERN, (reference, variable: string) => {
      const replacement = envValue(env, variable);
      if (replacement !== undefined) return replacement;
      onMissing(path, variable);
      return reference;
    });
  }
  if (Array.isArray(value)) {
    return value.map((item, index) => substituteEnvReferences(item, [...path, index], env, onMissing));
  }
  if (isRecord(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [
        key,
        substituteEnvReferences(item, [...path, key], env, onMissing),
      ]),
    );
  }
  return value;
}

/**
 * Where and why JSON.parse failed, without quoting the text: V8's "Unexpected token" message embeds a snippet
 * of the file (which may be a secret) and no position, so the position is then found by a scan of our own.
 */
function describeJsonSyntaxError(text: string, error: unknown): string {
  const message = error instanceof Error ? error.message : '';
  const positioned = /^(.*?) in JSON at position (\d+)/s.exec(message);
  if (positioned?.[1] !== undefined && positioned[2] !== undefined) {
    return `${positioned[1]} at ${lineAndColumn(text, Number(positioned[2]))}`;
  }
  if (message.startsWith('Unexpected end of JSON input')) {
    return `unexpected end of input at ${lineAndColumn(text, text.length)}`;
  }
  return `unexpected token at ${lineAndColumn(text, findJsonSyntaxError(text) ?? 0)}`;
}

function lineAndColumn(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - (before.lastIndexOf('\n') + 1) + 1;
  return `line ${line}, column ${column}`;
}

class JsonSyntaxErrorAt {
  readonly offset: number;

  constructor(offset: number) {
    this.offset = offset;
  }
}

/** The offset of the first JSON syntax error in `text`, or null when it is valid JSON (RFC 8259). */
function findJsonSyntaxError(text: string): number | null {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: JSON strings may not hold raw control characters (RFC 8259 §7).
  const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
  const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
  let at = 0;
  const skipWhitespace = () => {
    while (' \t\n\r'.includes(text.charAt(at)) && at < text.length) at++;
  };
  const expect = (char: string) => {
    if (text.charAt(at) !== char) throw new JsonSyntaxErrorAt(at);
    at++;
  };
  const match = (pattern: RegExp) => {
    pattern.lastIndex = at;
    if (!pattern.test(text)) throw new JsonSyntaxErrorAt(at);
    at = pattern.lastIndex;
  };
  const sequence = (close: string, member: () => void) => {
    at++;
    skipWhitespace();
    if (text.charAt(at) === close) {
      at++;
      return;
    }
    for (;;) {
      member();
      skipWhitespace();
      if (text.charAt(at) !== ',') break;
      at++;
    }
    expect(close);
  };
  const value = (): void => {
    skipWhitespace();
    const char = text.charAt(at);
    if (char === '{') {
      sequence('}', () => {
        skipWhitespace();
        match(STRING);
        skipWhitespace();
        expect(':');
        value();
      });
    } else if (char === '[') {
      sequence(']', value);
    } else if (char === '"') {
      match(STRING);
    } else if (char === '-' || (char >= '0' && char <= '9')) {
      match(NUMBER);
    } else {
      const literal = ['true', 'false', 'null'].find((word) => word.startsWith(char) && char !== '');
      if (literal === undefined) throw new JsonSyntaxErrorAt(at);
      for (const expected of literal) expect(expected);
    }
  };
  try {
    value();
    skipWhitespace();
    if (at < text.length) throw new JsonSyntaxErrorAt(at);
    return null;
  } catch (error) {
    if (error instanceof JsonSyntaxErrorAt) return error.offset;
    throw error;
  }
}

/** Hosts that serve one chat platform's incoming webhooks and nothing else that dli-watch could post to. */
const CHAT_PLATFORM_HOSTS: Readonly<Record<string, ChatPlatformType>> = {
  'hooks.slack.com': 'slack',
  'open.feishu.cn': 'feishu',
  'open.larksuite.com': 'feishu',
  'oapi.dingtalk.com': 'dingtalk',
  'qyapi.weixin.qq.com': 'wecom',
  'chat.googleapis.com': 'googlechat',
};
/** Teams Workflows webhooks live on regional subdomains of these (`prod-12.westus.logic.azure.com`). */
const TEAMS_HOST_SUFFIXES = ['.logic.azure.com', '.api.powerplatform.com'];
const DISCORD_HOSTS = ['discord.com', 'discordapp.com'];

/**
 * The destination type a webhook URL belongs to, judged by its host (chat-platforms.md): the platform whose
 * webhooks it serves, or `webhook` for any other endpoint. Discord hosts count only for their webhook path, since
 * the same hosts serve the rest of Discord's API.
 */
export function destinationTypeForUrl(url: URL): DestinationType {
  // A fully qualified name may end in a dot and still reach the same host.
  const host = url.hostname.toLowerCase().replace(/\.$/, '');
  const chatType = Object.hasOwn(CHAT_PLATFORM_HOSTS, host) ? CHAT_PLATFORM_HOSTS[host] : undefined;
  if (chatType !== undefined) return chatType;
  if (TEAMS_HOST_SUFFIXES.some((suffix) => host.endsWith(suffix))) return 'teams';
  if (DISCORD_HOSTS.includes(host) && url.pathname.startsWith('/api/webhooks/')) return 'discord';
  return 'webhook';
}

/** One `DLI_WATCH_WEBHOOKS` entry turned into a destination. */
interface WebhookShortcut {
  destination: Destination;
  /** 1-based among the non-empty entries, for messages (the URL itself is a secret). */
  position: number;
  host: string;
}

function shortcutName(shortcut: WebhookShortcut): NameClaim {
  return {
    name: shortcut.destination.name,
    where: 'DLI_WATCH_WEBHOOKS',
    what: `URL ${shortcut.position} (host ${shortcut.host})`,
  };
}

/**
 * `DLI_WATCH_WEBHOOKS=url1,url2`: destinations without a file. Names derive from a hash of the URL so they
 * survive restarts and reorderings (stored deliveries refer to them) without revealing the URL.
 */
function readWebhookShortcuts(env: Env, problems: Problems): WebhookShortcut[] {
  const entries = (envValue(env, 'DLI_WATCH_WEBHOOKS') ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  for (const entry of entries) problems.secret(entry);

  const shortcuts: WebhookShortcut[] = [];
  entries.forEach((entry, index) => {
    const position = index + 1;
    const url = parseUrl(entry);
    if (!url) {
      problems.add('DLI_WATCH_WEBHOOKS', `URL ${position}: must be an absolute URL`);
      return;
    }
    if (!isHttpsOrLoopbackHttp(url)) {
      problems.add('DLI_WATCH_WEBHOOKS', `URL ${position} (host ${url.host}): ${HTTPS_OR_LOOPBACK}`);
      return;
    }
    const type = destinationTypeForUrl(url);
    const name = `${type}-${createHash('sha256').update(entry).digest('hex').slice(0, 8)}`;
    const destination: Destination =
      type === 'webhook'
        ? createWebhookDestination({ name, url: entry })
        : createChatDestination({ name, type, url: entry });
    shortcuts.push({ destination, position, host: url.host });
  });
  return shortcuts;
}

/** Deliveries are stored by destination name, so two destinations sharing one would steal each other's. */
function checkDestinationNames(claims: NameClaim[], problems: Problems): void {
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
