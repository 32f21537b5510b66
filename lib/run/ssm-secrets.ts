import { createHash } from 'node:crypto';
import { getParameter } from '@aws-lambda-powertools/parameters/ssm';
import * as z from 'zod';
import { type Config, loadConfig, loadStoreConfig } from '../config/config.ts';
import type { JobStore } from '../store/job-store.ts';
import { openStore, type StoreConfig } from '../store/open-store.ts';
import { type Env, envValue } from '../util/env.ts';
import type { Log } from '../util/log.ts';
import { createWatcher, type Watcher } from './watcher.ts';

/** Names the SecureString parameter holding the DLI credentials (set by `serverless.yml`). */
export const CREDENTIALS_PARAMETER_VARIABLE = 'DLI_WATCH_DLI_CREDENTIALS_PARAMETER';
/** Names the SecureString parameter holding the destinations, as the config file's JSON. */
export const DESTINATIONS_PARAMETER_VARIABLE = 'DLI_WATCH_DESTINATIONS_PARAMETER';
/** How long a fetched parameter is reused, in seconds; a rotation takes effect within it. */
export const SECRETS_MAX_AGE_VARIABLE = 'DLI_WATCH_SECRETS_MAX_AGE_SECONDS';
export const DEFAULT_SECRETS_MAX_AGE_SECONDS = 300;

/** The secrets fetched at run time, shaped for {@link loadConfig}. */
export interface RuntimeSecrets {
  /**
   * `HUAWEICLOUD_SDK_AK`, `HUAWEICLOUD_SDK_SK`, `HUAWEICLOUD_SDK_SECURITY_TOKEN` and `DLI_AUTH_TOKEN`, laid over
   * the process environment. The method not in use is set empty (which counts as unset), so a stray variable
   * cannot mix with the parameter's credentials.
   */
  env: Record<string, string>;
  /** The destinations parameter's text: the config file's JSON. */
  configText: string;
  /** The destinations parameter's name, for problems found in `configText`. */
  configLabel: string;
  /** sha256 of everything above: tells a rotation apart without keeping a second copy of the secrets. */
  fingerprint: string;
}

/**
 * A secrets parameter that is missing, unreadable or malformed, or a setting about them that is invalid. The
 * message names the parameter or variable, never a parameter's value.
 */
export class SecretsError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SecretsError';
  }
}

// Strict: a mistyped key would otherwise silently leave the credentials incomplete.
const credentialsSchema = z.union([
  z.strictObject({
    ak: z.string().min(1),
    sk: z.string().min(1),
    security_token: z.string().min(1).optional(),
  }),
  z.strictObject({ auth_token: z.string().min(1) }),
]);

const CREDENTIALS_SHAPE = 'JSON {"ak","sk","security_token"?} or {"auth_token"}';

function readMaxAgeSeconds(env: Env): number {
  const text = envValue(env, SECRETS_MAX_AGE_VARIABLE);
  if (text === undefined) return DEFAULT_SECRETS_MAX_AGE_SECONDS;
  const value = /^\d{1,6}$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= 0 && value <= 86_400)) {
    throw new SecretsError(`${SECRETS_MAX_AGE_VARIABLE}: must be an integer from 0 to 86400 (seconds)`);
  }
  return value;
}

async function fetchParameter(name: string, maxAge: number, forceFetch: boolean): Promise<string> {
  let value: string | undefined;
  try {
    value = await getParameter(name, { decrypt: true, maxAge, forceFetch });
  } catch (error) {
    // Powertools wraps the SDK error; its name says what went wrong without quoting anything stored.
    const sdkError = error instanceof Error && error.cause instanceof Error ? error.cause : error;
    const reason =
      sdkError instanceof Error && sdkError.name === 'ParameterNotFound'
        ? 'does not exist'
        : `cannot be read (${sdkError instanceof Error ? sdkError.name : 'unknown error'})`;
    throw new SecretsError(`SSM parameter ${name} ${reason}`, { cause: error });
  }
  if (value === undefined || value === '') throw new SecretsError(`SSM parameter ${name} is empty`);
  return value;
}

function credentialsEnv(name: string, text: string): Record<string, string> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    // No cause: V8's JSON.parse message quotes the text, which is the secret.
    throw new SecretsError(`SSM parameter ${name} must be ${CREDENTIALS_SHAPE}, but is not valid JSON`);
  }
  const result = credentialsSchema.safeParse(raw);
  if (!result.success) throw new SecretsError(`SSM parameter ${name} must be ${CREDENTIALS_SHAPE}`);
  const credentials = result.data;
  if ('auth_token' in credentials) {
    return {
      HUAWEICLOUD_SDK_AK: '',
      HUAWEICLOUD_SDK_SK: '',
      HUAWEICLOUD_SDK_SECURITY_TOKEN: '',
      DLI_AUTH_TOKEN: credentials.auth_token,
    };
  }
  return {
    HUAWEICLOUD_SDK_AK: credentials.ak,
    HUAWEICLOUD_SDK_SK: credentials.sk,
    HUAWEICLOUD_SDK_SECURITY_TOKEN: credentials.security_token ?? '',
    DLI_AUTH_TOKEN: '',
  };
}

/**
 * Fetches the DLI credentials and the destinations from SSM Parameter Store (SecureString, decrypted) through
 * Powertools Parameters, which caches them for `DLI_WATCH_SECRETS_MAX_AGE_SECONDS` (default 300; 0 fetches
 * every time). Returns undefined when neither parameter variable is set: the CLI keeps reading the environment
 * and the config file. Throws a {@link SecretsError} naming the parameter when one is missing or malformed.
 */
export async function loadRuntimeSecrets(
  env: Env,
  options: { forceFetch?: boolean } = {},
): Promise<RuntimeSecrets | undefined> {
  const credentialsName = envValue(env, CREDENTIALS_PARAMETER_VARIABLE);
  const destinationsName = envValue(env, DESTINATIONS_PARAMETER_VARIABLE);
  if (credentialsName === undefined && destinationsName === undefined) return undefined;
  if (credentialsName === undefined || destinationsName === undefined) {
    const missing =
      credentialsName === undefined ? CREDENTIALS_PARAMETER_VARIABLE : DESTINATIONS_PARAMETER_VARIABLE;
    throw new SecretsError(
      `${missing}: is required when ${CREDENTIALS_PARAMETER_VARIABLE} or ${DESTINATIONS_PARAMETER_VARIABLE} is set`,
    );
  }
  const maxAge = readMaxAgeSeconds(env);
  const forceFetch = options.forceFetch ?? false;
  const [credentialsText, configText] = await Promise.all([
    fetchParameter(credentialsName, maxAge, forceFetch),
    fetchParameter(destinationsName, maxAge, forceFetch),
  ]);
  const overlay = credentialsEnv(credentialsName, credentialsText);
  const fingerprint = createHash('sha256')
    .update(JSON.stringify([overlay, configText]))
    .digest('hex');
  return { env: overlay, configText, configLabel: destinationsName, fingerprint };
}

/** The watcher for the current secrets, with the configuration it was built from. */
export interface CurrentWatcher {
  watcher: Watcher;
  config: Config;
}

export interface WatcherProvider {
  /**
   * The watcher for the secrets as they are now (cached up to their max age): the same one as last time unless
   * the secrets changed, in which case a new one is built on the same store.
   */
  current(): Promise<CurrentWatcher>;
}

/**
 * Keeps one watcher across invocations of a long-lived process (a Lambda container) and rebuilds it when the
 * runtime secrets rotate. The store is opened once and shared by every rebuild. Without secrets parameters the
 * configuration comes from `env` and the config file alone, and the watcher is built once.
 */
export function createWatcherProvider(options: {
  env: Env;
  cwd: string;
  log: Log;
  /** Defaults to {@link openStore}. */
  openStore?: (config: StoreConfig) => Promise<JobStore>;
}): WatcherProvider {
  const { env, cwd, log } = options;
  let store: Promise<JobStore> | undefined;
  let built: (CurrentWatcher & { fingerprint: string }) | undefined;

  return {
    async current() {
      const secrets = await loadRuntimeSecrets(env);
      const fingerprint = secrets?.fingerprint ?? '';
      if (built !== undefined && built.fingerprint === fingerprint) return built;

      const config = loadConfig(
        { ...env, ...secrets?.env },
        secrets === undefined
          ? { cwd }
          : { cwd, configText: secrets.configText, configLabel: secrets.configLabel },
      );
      if (store === undefined) {
        const opening = (options.openStore ?? openStore)(loadStoreConfig(env, { cwd }).store);
        // A store that failed to open is retried on the next invocation rather than kept broken.
        opening.catch(() => {
          if (store === opening) store = undefined;
        });
        store = opening;
      }
      const watcher = createWatcher(config, { store: await store, log });
      if (built !== undefined) log.info('secrets changed: watcher rebuilt');
      built = { watcher, config, fingerprint };
      return built;
    },
  };
}
