/**
 * `npm run schema`: writes the configuration file's JSON Schema (lib/config/json-schema.ts) to
 * schema/config.schema.json, where the package publishes it. A test fails when the file is out of date.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CONFIG_SCHEMA_PATH, configJsonSchema } from '../lib/config/json-schema.ts';

const target = join(import.meta.dirname, '..', CONFIG_SCHEMA_PATH);
mkdirSync(dirname(target), { recursive: true });
writeFileSync(target, `${JSON.stringify(configJsonSchema(), null, 2)}\n`);
process.stdout.write(`wrote ${CONFIG_SCHEMA_PATH}\n`);
