import { createHash } from 'node:crypto';
import { getParameter } from '@aws-lambda-powertools/parameters/ssm';
import * as z from 'zod';
import { type Env, envValue } from '../util/env.ts';
import type { RuntimeSecrets } from './watcher.ts';

/** Names the SecureString parameter holding the DLI credentials (set by `serverless.yml`). */
export const CREDENTIALS_PARAMETER_VARIABLE = 'DLI_WATCH_DLI_CREDENTIALS_PARAMETER';
/** Names the SecureString parameter holding the destinations, as the config file's JSON. */
export const DESTINATIONS_PARAMETER_VARIABLE = 'DLI_WATCH_DESTINATIONS_PARAMETER';
/** How long a fetched parameter is reused, in seconds; a rotation takes effect within it. */
export const SECRETS_MAX_AGE_VARIABLE = 'DLI_WATCH_SECRETS_MAX_AGE_SECONDS';
export const DEFAULT_SECRETS_MAX_AGE_SECONDS = 300;

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
