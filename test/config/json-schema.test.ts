import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config/config.ts';
import { CONFIG_SCHEMA_PATH, configJsonSchema } from '../../lib/config/json-schema.ts';
import { DESTINATION_TYPES } from '../../lib/notify/platforms/registry.ts';

const ROOT = join(import.meta.dirname, '../..');

describe('the configuration file JSON Schema', () => {
  it('is published up to date (npm run schema writes it)', () => {
    const published = JSON.parse(readFileSync(join(ROOT, CONFIG_SCHEMA_PATH), 'utf8'));
    expect(published).toEqual(configJsonSchema());
  });

  it('lists every destination type and refuses unknown keys, as the loader does', () => {
    const schema = configJsonSchema() as {
      additionalProperties: boolean;
      properties: {
        destinations: { items: { properties: { type: { enum: string[] } }; required: string[] } };
      };
    };
    expect(schema.additionalProperties).toBe(false);
    const destination = schema.properties.destinations.items;
    expect(destination.properties.type.enum).toEqual(DESTINATION_TYPES);
    expect(destination.required).toEqual(expect.arrayContaining(['name', 'type', 'url']));
  });

  it('a configuration file may name the schema with $schema', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'dli-watch-schema-'));
    try {
      writeFileSync(
        join(cwd, 'dli-watch.config.json'),
        JSON.stringify({
          $schema: './node_modules/dli-watch/schema/config.schema.json',
          destinations: [{ name: 'audit', type: 'webhook', url: 'https://example.com/hook' }],
        }),
      );
      const env = {
        DLI_REGION: 'cn-north-4',
        DLI_PROJECT_ID: 'abc123',
        HUAWEICLOUD_SDK_AK: 'AKEXAMPLE',
        HUAWEICLOUD_SDK_SK: 'SKEXAMPLE',
      };
      expect(loadConfig(env, { cwd }).destinations.map((destination) => destination.name)).toEqual(['audit']);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});
