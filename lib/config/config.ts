import { DEFAULT_SEND_TIMEOUT_MS } from '../notify/delivery/retry-schedule.ts';
import type { Destination } from '../notify/platforms/registry.ts';
import { DEFAULT_CONSOLE_URL_TEMPLATE } from '../notify/render/job-facts.ts';
import type { StoreConfig } from '../store/open-store.ts';
import { DURATION_RULE, parseDurationMs } from '../util/duration.ts';
import type { Env } from '../util/env.ts';
import type { LogLevel } from '../util/log.ts';
import type { Watch } from '../watch.ts';
import { type LoadOptions, readConfigFile } from './config-file.ts';
import { checkUniqueNames, languageSchema, toDestination } from './destinations.ts';
import { type DliConfig, readDliConfig } from './dli-settings.ts';
import { readStoreSettings } from './env-settings.ts';
import { ConfigError, integerSetting, Problems, readVariable, textSetting } from './problems.ts';
import { readWebhookShortcuts, shortcutName } from './shortcuts.ts';
import { consoleUrlSchema } from './templates.ts';
import { QUEUES_SHORTCUT_WATCH, readQueuesShortcut, toWatch } from './watches.ts';

export interface Config {
  store: StoreConfig;
  dli: DliConfig;
  destinations: Destination[];
  /** What finds jobs without registration: the file's `watches`, and `DLI_WATCH_QUEUES`. */
  watches: Watch[];
  /** Console link with `{region}`, `{project_id}`, `{job_id}`, `{queue_name}` placeholders. */
  consoleUrlTemplate: string;
  /** How long one chat or webhook request may take (`DLI_WATCH_SEND_TIMEOUT_MS`). */
  sendTimeoutMs: number;
  /** The long-running threshold (ms) of jobs with none of their own (`DLI_WATCH_WARN_AFTER`); `null`: none. */
  warnAfterMs: number | null;
  logLevel: LogLevel;
}

/** Everything but DLI: what sending needs (`test-destination`, `check` without credentials). */
export type DeliveryConfig = Omit<Config, 'dli'>;

/**
 * The whole configuration (tick, run), from environment variables and the optional JSON file. Collects every
 * problem across both before throwing one {@link ConfigError}.
 */
export function loadConfig(env: Env, options: LoadOptions): Config {
  const problems = new Problems();
  const dli = readDliConfig(env, problems);
  const delivery = readDeliveryConfig(env, options, problems);
  if (problems.any() || dli === undefined || delivery === undefined) throw problems.toError();
  return { ...delivery, dli };
}

/**
 * The configuration of everything but DLI: the store, the destinations and how to send to them. For commands that
 * never call DLI, so need no DLI settings (`test-destination`). Throws one {@link ConfigError} with every problem.
 */
export function loadDeliveryConfig(env: Env, options: LoadOptions): DeliveryConfig {
  const problems = new Problems();
  const delivery = readDeliveryConfig(env, options, problems);
  if (problems.any() || delivery === undefined) throw problems.toError();
  return delivery;
}

function readDeliveryConfig(env: Env, options: LoadOptions, problems: Problems): DeliveryConfig | undefined {
  const { store, logLevel } = readStoreSettings(env, options.cwd, problems);
  const file = readConfigFile(env, options, problems);
  const shortcuts = readWebhookShortcuts(env, problems);
  checkUniqueNames([...(file?.names ?? []), ...shortcuts.map(shortcutName)], problems);
  const queuesWatch = readQueuesShortcut(env, problems);
  checkUniqueNames(
    [
      ...(file?.watchNames ?? []),
      ...(queuesWatch ? [{ name: QUEUES_SHORTCUT_WATCH, where: 'DLI_WATCH_QUEUES', what: 'its watch' }] : []),
    ],
    problems,
  );

  const envConsoleUrl = readVariable(env, 'DLI_WATCH_CONSOLE_URL', consoleUrlSchema.optional(), problems);
  const consoleUrlTemplate = envConsoleUrl ?? file?.parsed?.console_url ?? DEFAULT_CONSOLE_URL_TEMPLATE;
  const sendTimeoutMs = readVariable(
    env,
    'DLI_WATCH_SEND_TIMEOUT_MS',
    sendTimeoutMsSchema,
    problems,
    String(DEFAULT_SEND_TIMEOUT_MS),
  );
  const warnAfterMs = readVariable(env, 'DLI_WATCH_WARN_AFTER', durationSetting.optional(), problems);
  const language = readVariable(env, 'DLI_WATCH_LANGUAGE', languageSchema.optional(), problems) ?? 'en';
  if (problems.any() || store === undefined || logLevel === undefined || sendTimeoutMs === undefined) {
    return undefined;
  }
  const fileDestinations = file?.parsed?.destinations ?? [];
  const fileWatches = file?.parsed?.watches ?? [];
  return {
    store,
    destinations: [
      ...fileDestinations.map((destination) => toDestination(destination, language)),
      ...shortcuts.map((entry) => ({ ...entry.destination, language })),
    ],
    watches: [...fileWatches.map(toWatch), ...(queuesWatch ? [queuesWatch] : [])],
    consoleUrlTemplate,
    sendTimeoutMs,
    warnAfterMs: warnAfterMs ?? null,
    logLevel,
  };
}

const durationSetting = textSetting((text) => parseDurationMs(text) ?? undefined, `must be ${DURATION_RULE}`);

/**
 * Far above the platforms' answer times (well under a second): a send that times out after the platform accepted
 * it is posted again by its retry, so the timeout must make that rare.
 */
const sendTimeoutMsSchema = integerSetting(100, 60_000);
