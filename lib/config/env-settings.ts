import { resolve } from 'node:path';
import * as z from 'zod';
import type { StoreConfig } from '../store/open-store.ts';
import { type Env, envValue } from '../util/env.ts';
import type { LogLevel } from '../util/log.ts';
import { Problems, readVariable, textSetting } from './problems.ts';

export const DEFAULT_STORE = 'sqlite:.dli-watch/state.db';

const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

/** DynamoDB's own rule for table names. */
const DYNAMODB_TABLE_PATTERN = /^[A-Za-z0-9_.-]{3,255}$/;

/**
 * Configuration for what only touches the store (track, untrack, list, the tracking API): no credentials needed,
 * and none of the destination rules loaded.
 */
export function loadStoreConfig(
  env: Env,
  options: { cwd: string },
): { store: StoreConfig; logLevel: LogLevel } {
  const problems = new Problems();
  const { store, logLevel } = readStoreSettings(env, options.cwd, problems);
  if (store === undefined || logLevel === undefined) throw problems.toError();
  return { store, logLevel };
}

export function readStoreSettings(env: Env, cwd: string, problems: Problems) {
  return {
    store: readVariable(env, 'DLI_WATCH_STORE', storeSchema(cwd), problems, DEFAULT_STORE),
    logLevel: readVariable(env, logLevelVariable(env), logLevelSchema, problems, 'info'),
  };
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

/**
 * Where the log level comes from: `DLI_WATCH_LOG_LEVEL`, else `POWERTOOLS_LOG_LEVEL` (the Lambda's variable, so one
 * setting serves both), else the default.
 */
function logLevelVariable(env: Env): string {
  if (
    envValue(env, 'DLI_WATCH_LOG_LEVEL') === undefined &&
    envValue(env, 'POWERTOOLS_LOG_LEVEL') !== undefined
  ) {
    return 'POWERTOOLS_LOG_LEVEL';
  }
  return 'DLI_WATCH_LOG_LEVEL';
}
