import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as z from 'zod';
import { type Env, envValue } from '../util/env.ts';
import { isRecord } from '../util/is-record.ts';
import {
  DESTINATION_NAME_PATTERN,
  fileDestinationSchema,
  fileDestinationShape,
  mentionsSchema,
  type NameClaim,
  quietWindowSchema,
  summarySchema,
} from './destinations.ts';
import { substituteEnvReferences } from './env-references.ts';
import { describeJsonSyntaxError } from './json-error-position.ts';
import type { Problems } from './problems.ts';
import { consoleUrlSchema } from './templates.ts';
import { fileWatchSchema, fileWatchShape, watchNameClaims } from './watches.ts';

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

/** Read from the working directory when it exists; a missing default file is not an error. */
export const DEFAULT_CONFIG_FILE = 'dli-watch.config.json';

export const configFileSchema = z.strictObject(
  {
    // Lets editors find the published JSON Schema (schema/config.schema.json); dli-watch itself ignores it.
    $schema: z.string({ error: 'must be a string' }).optional(),
    destinations: z.array(fileDestinationSchema, { error: 'must be a list' }).optional(),
    watches: z.array(fileWatchSchema, { error: 'must be a list' }).optional(),
    console_url: consoleUrlSchema.optional(),
  },
  { error: 'must be a JSON object' },
);

type ConfigFile = z.infer<typeof configFileSchema>;

/** Key names shown in "unknown key" problems, by the depth of the object they sit in. */
const KNOWN_KEYS_AT_ROOT = Object.keys(configFileSchema.shape);

const KNOWN_KEYS_IN_DESTINATION = Object.keys(fileDestinationShape);

const KNOWN_KEYS_IN_MENTIONS = Object.keys(mentionsSchema.shape);

const KNOWN_KEYS_IN_WATCH = Object.keys(fileWatchShape);

const KNOWN_KEYS_IN_SUMMARY = Object.keys(summarySchema.shape);

const KNOWN_KEYS_IN_QUIET_WINDOW = Object.keys(quietWindowSchema.shape);

/** The keys allowed in the object at `path`, for "unknown key" problems. */
function knownKeysAt(path: readonly PropertyKey[]): string[] {
  if (path.length === 0) return KNOWN_KEYS_AT_ROOT;
  if (path[0] === 'watches') return KNOWN_KEYS_IN_WATCH;
  if (path.at(-2) === 'quiet_hours') return KNOWN_KEYS_IN_QUIET_WINDOW;
  if (path.at(-1) === 'summary') return KNOWN_KEYS_IN_SUMMARY;
  return path.at(-1) === 'mentions' ? KNOWN_KEYS_IN_MENTIONS : KNOWN_KEYS_IN_DESTINATION;
}

interface LoadedConfigFile {
  /** Undefined when the file has problems. */
  parsed: ConfigFile | undefined;
  /** Destination names claimed in the file, for the duplicate check across the file and the variables. */
  names: NameClaim[];
  /** Watch names claimed in the file, likewise. */
  watchNames: NameClaim[];
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

export function readConfigFile(
  env: Env,
  options: LoadOptions,
  problems: Problems,
): LoadedConfigFile | undefined {
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
    return { parsed: undefined, names: [], watchNames: [] };
  }

  // Editors on Windows like to start files with a byte order mark, which JSON.parse refuses.
  const json = text.startsWith('\uFEFF') ? text.slice(1) : text;
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (error) {
    // Not kept as the cause: V8's message quotes the file's text, which may hold secrets.
    problems.add(label, `invalid JSON: ${describeJsonSyntaxError(json, error)}`);
    return { parsed: undefined, names: [], watchNames: [] };
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

  const watchNames = watchNameClaims(
    isRecord(data) && Array.isArray(data.watches) ? data.watches : [],
    label,
  );

  const result = configFileSchema.safeParse(data);
  if (result.success) return { parsed: result.data, names, watchNames };
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
  return { parsed: undefined, names, watchNames };
}
