import * as z from 'zod';
import { configFileSchema } from './config-file.ts';

/** Where the published schema lives in the package, for a configuration file's `$schema`. */
export const CONFIG_SCHEMA_PATH = 'schema/config.schema.json';

/**
 * The configuration file's JSON Schema, generated from the same zod schema that checks the file, so an editor
 * completes and checks exactly what dli-watch accepts. Rules zod checks in code (a secret's form per platform,
 * title placeholders, unique names) are not in it: `dli-watch check` reports those.
 */
export function configJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(configFileSchema, { io: 'input', unrepresentable: 'any' }),
    title: 'dli-watch configuration file',
    description:
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the file's own ${VAR} syntax, shown to its readers.
      'Destinations and message settings for dli-watch (dli-watch.config.json). Strings may use ${VAR} to read ' +
      'an environment variable. Run `dli-watch check` for the rules this schema cannot express.',
  };
}
