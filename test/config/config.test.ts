import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config/config.ts';
import { DEFAULT_MAX_RPS, dliEndpointForRegion } from '../../lib/config/dli-settings.ts';
import { loadStoreConfig } from '../../lib/config/env-settings.ts';
import { ConfigError } from '../../lib/config/problems.ts';
import { isLoopbackHost } from '../../lib/config/url-rules.ts';
import type { TerminalStatus } from '../../lib/job.ts';
import { createChatDestination, createWebhookDestination } from '../../lib/notify/destination.ts';
import { routeEvent } from '../../lib/notify/routing.ts';

type Env = Record<string, string | undefined>;

const PROJECT_ID = '0123456789abcdef0123456789abcdef';
const BASE_ENV: Env = {
  DLI_REGION: 'cn-north-4',
  DLI_PROJECT_ID: PROJECT_ID,
  HUAWEICLOUD_SDK_AK: 'AKEXAMPLE',
  HUAWEICLOUD_SDK_SK: 'SKEXAMPLE',
};
/** Every key a file destination may have, as "unknown key" problems list them. */
const DESTINATION_KEYS =
  'name, type, url, events, only_after_failures, quiet_hours, timezone, summary, except, language, mute_cancelled, secret, queues, owners, job_types, tags, labels, mentions, digest_threshold, console_url, title';
/** A valid Standard Webhooks secret: 24 bytes. */
const WEBHOOK_SECRET = `whsec_${Buffer.alloc(24, 7).toString('base64')}`;

const tempDirs: string[] = [];
afterEach(() => {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dli-watch-config-'));
  tempDirs.push(dir);
  return dir;
}

/** A working directory holding `dli-watch.config.json` (an object is written as JSON, a string as is). */
function dirWithConfig(content: unknown, fileName = 'dli-watch.config.json'): string {
  const dir = tempDir();
  writeFileSync(
    join(dir, fileName),
    typeof content === 'string' ? content : JSON.stringify(content, null, 2),
  );
  return dir;
}

function configError(load: () => unknown): ConfigError {
  try {
    load();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError, but the configuration loaded');
}

function problemsOf(env: Env, cwd = tempDir()): string[] {
  return configError(() => loadConfig(env, { cwd })).problems;
}

/** `${NAME}` as written in the config file to read environment variable NAME. */
function ref(name: string): string {
  return `\${${name}}`;
}

function shortcutName(type: string, url: string): string {
  return `${type}-${createHash('sha256').update(url).digest('hex').slice(0, 8)}`;
}

describe('defaults', () => {
  it('needs only region, project and credentials', () => {
    const cwd = tempDir();
    const config = loadConfig(BASE_ENV, { cwd });
    expect(config).toEqual({
      store: { kind: 'sqlite', path: join(cwd, '.dli-watch', 'state.db') },
      dli: {
        region: 'cn-north-4',
        projectId: PROJECT_ID,
        endpoint: 'https://dli.cn-north-4.myhuaweicloud.com',
        auth: { kind: 'aksk', accessKey: 'AKEXAMPLE', secretKey: 'SKEXAMPLE', securityToken: null },
        timeoutMs: 10_000,
        concurrency: 8,
        maxRequestsPerSecond: 100,
        statusPlan: 'auto',
      },
      destinations: [],
      watches: [],
      consoleUrlTemplate: 'https://console.huaweicloud.com/dli/?region={region}#/main/jobs/sql',
      sendTimeoutMs: 10_000,
      warnAfterMs: null,
      logLevel: 'info',
    });
    expect(DEFAULT_MAX_RPS).toBe(100);
  });

  it('takes tuning settings from the environment', () => {
    const config = loadConfig(
      {
        ...BASE_ENV,
        DLI_WATCH_CONCURRENCY: '256',
        DLI_WATCH_MAX_RPS: '0.5',
        DLI_WATCH_DLI_TIMEOUT_MS: '120000',
        DLI_WATCH_LOG_LEVEL: 'DEBUG',
        DLI_WATCH_SEND_TIMEOUT_MS: '2500',
      },
      { cwd: tempDir() },
    );
    expect(config.dli).toMatchObject({ concurrency: 256, maxRequestsPerSecond: 0.5, timeoutMs: 120_000 });
    expect(config.logLevel).toBe('debug');
    expect(config.sendTimeoutMs).toBe(2500);
  });

  it('refuses a send timeout outside 100 ms to 60 s', () => {
    for (const value of ['99', '60001', 'soon']) {
      expect(problemsOf({ ...BASE_ENV, DLI_WATCH_SEND_TIMEOUT_MS: value })).toEqual([
        'DLI_WATCH_SEND_TIMEOUT_MS: must be an integer from 100 to 60000',
      ]);
    }
  });

  it('falls back to HUAWEICLOUD_SDK_PROJECT_ID', () => {
    const env = { ...BASE_ENV, DLI_PROJECT_ID: undefined, HUAWEICLOUD_SDK_PROJECT_ID: 'abc123' };
    expect(loadConfig(env, { cwd: tempDir() }).dli.projectId).toBe('abc123');
    const both = { ...env, DLI_PROJECT_ID: 'fromdli' };
    expect(loadConfig(both, { cwd: tempDir() }).dli.projectId).toBe('fromdli');
  });

  it('reports both names when no project id is set', () => {
    const problems = problemsOf({ ...BASE_ENV, DLI_PROJECT_ID: undefined });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^DLI_PROJECT_ID: .*HUAWEICLOUD_SDK_PROJECT_ID/);
  });
});

describe('store configuration', () => {
  it('needs no credentials and resolves the default path against cwd', () => {
    const cwd = tempDir();
    expect(loadStoreConfig({}, { cwd })).toEqual({
      store: { kind: 'sqlite', path: join(cwd, '.dli-watch', 'state.db') },
      logLevel: 'info',
    });
  });

  it('resolves relative sqlite paths and keeps absolute ones', () => {
    const cwd = tempDir();
    expect(loadStoreConfig({ DLI_WATCH_STORE: 'sqlite:data/jobs.db' }, { cwd }).store).toEqual({
      kind: 'sqlite',
      path: join(cwd, 'data', 'jobs.db'),
    });
    const absolute = join(tempDir(), 'state.db');
    expect(loadStoreConfig({ DLI_WATCH_STORE: `sqlite:${absolute}` }, { cwd }).store).toEqual({
      kind: 'sqlite',
      path: absolute,
    });
  });

  it('takes a DynamoDB table name as it is, in the whole config too', () => {
    const cwd = tempDir();
    for (const table of ['jobs', 'dli-watch-prod_Jobs.v2', 'a'.repeat(255)]) {
      expect(loadStoreConfig({ DLI_WATCH_STORE: `dynamodb:${table}` }, { cwd }).store).toEqual({
        kind: 'dynamodb',
        table,
      });
    }
    expect(loadConfig({ ...BASE_ENV, DLI_WATCH_STORE: 'dynamodb:dli-watch-prod' }, { cwd }).store).toEqual({
      kind: 'dynamodb',
      table: 'dli-watch-prod',
    });
  });

  it('refuses a DynamoDB table name DynamoDB would refuse', () => {
    for (const table of [
      '',
      'ab',
      'a'.repeat(256),
      'jobs table',
      'jobs/prod',
      'arn:aws:dynamodb:x',
      'tâble',
    ]) {
      expect(problemsOf({ ...BASE_ENV, DLI_WATCH_STORE: `dynamodb:${table}` }), table).toEqual([
        'DLI_WATCH_STORE: dynamodb: needs a table name of 3 to 255 letters, digits, _ . or - (dynamodb:<table>)',
      ]);
    }
  });

  it('refuses other schemes, naming the accepted forms', () => {
    const other = configError(() =>
      loadStoreConfig(
        { DLI_WATCH_STORE: 'postgres://u:p@db/x', DLI_WATCH_LOG_LEVEL: 'loud' },
        { cwd: tempDir() },
      ),
    );
    expect(other.problems).toEqual([
      'DLI_WATCH_STORE: must be sqlite:<path> or dynamodb:<table>',
      'DLI_WATCH_LOG_LEVEL: must be one of debug, info, warn, error',
    ]);
    expect(other.message).toBe(other.problems.join('\n'));
    expect(problemsOf({ ...BASE_ENV, DLI_WATCH_STORE: 'sqlite:' })).toEqual([
      'DLI_WATCH_STORE: sqlite: needs a file path (sqlite:<path>)',
    ]);
    expect(problemsOf({ ...BASE_ENV, DLI_WATCH_STORE: 'jobs' })).toEqual([
      'DLI_WATCH_STORE: must be sqlite:<path> or dynamodb:<table>',
    ]);
  });
});

describe('DLI endpoint', () => {
  it('derives the endpoint from the region, with the European exception', () => {
    expect(dliEndpointForRegion('ap-southeast-1')).toBe('https://dli.ap-southeast-1.myhuaweicloud.com');
    expect(dliEndpointForRegion('eu-west-101')).toBe('https://dli.eu-west-101.myhuaweicloud.eu');
    const config = loadConfig({ ...BASE_ENV, DLI_REGION: 'eu-west-101' }, { cwd: tempDir() });
    expect(config.dli.endpoint).toBe('https://dli.eu-west-101.myhuaweicloud.eu');
  });

  it('validates the region shape', () => {
    expect(problemsOf({ ...BASE_ENV, DLI_REGION: 'cn_north_4' })).toEqual([
      'DLI_REGION: must be a region name like cn-north-4',
    ]);
    expect(problemsOf({ ...BASE_ENV, DLI_REGION: undefined })).toEqual([
      'DLI_REGION: is required (the DLI region, like cn-north-4)',
    ]);
  });

  it('takes an override, stored without trailing slash', () => {
    const endpointOf = (DLI_ENDPOINT: string) =>
      loadConfig({ ...BASE_ENV, DLI_ENDPOINT }, { cwd: tempDir() }).dli.endpoint;
    expect(endpointOf('https://dli.example.com/')).toBe('https://dli.example.com');
    expect(endpointOf('https://dli.example.com:8443')).toBe('https://dli.example.com:8443');
    expect(endpointOf('http://127.0.0.1:9000/')).toBe('http://127.0.0.1:9000');
    expect(endpointOf('http://localhost:9000')).toBe('http://localhost:9000');
    expect(endpointOf('http://[::1]:9000')).toBe('http://[::1]:9000');
  });

  it('refuses an override with a path, or plain http off this machine', () => {
    expect(problemsOf({ ...BASE_ENV, DLI_ENDPOINT: 'https://dli.example.com/v1.0' })).toEqual([
      'DLI_ENDPOINT: must be just scheme, host and port, with no path, query, fragment or credentials',
    ]);
    expect(problemsOf({ ...BASE_ENV, DLI_ENDPOINT: 'http://dli.example.com' })).toEqual([
      'DLI_ENDPOINT: must be https (or http on a loopback host)',
    ]);
    expect(problemsOf({ ...BASE_ENV, DLI_ENDPOINT: 'dli.example.com' })).toEqual([
      'DLI_ENDPOINT: must be an absolute URL like https://dli.cn-north-4.myhuaweicloud.com',
    ]);
  });
});

describe('authentication', () => {
  const NO_AUTH: Env = { ...BASE_ENV, HUAWEICLOUD_SDK_AK: undefined, HUAWEICLOUD_SDK_SK: undefined };
  const authOf = (env: Env) => loadConfig({ ...NO_AUTH, ...env }, { cwd: tempDir() }).dli.auth;

  it('accepts AK/SK, with or without a security token', () => {
    expect(authOf({ HUAWEICLOUD_SDK_AK: 'AK1', HUAWEICLOUD_SDK_SK: 'SK1' })).toEqual({
      kind: 'aksk',
      accessKey: 'AK1',
      secretKey: 'SK1',
      securityToken: null,
    });
    expect(
      authOf({
        HUAWEICLOUD_SDK_AK: 'AK1',
        HUAWEICLOUD_SDK_SK: 'SK1',
        HUAWEICLOUD_SDK_SECURITY_TOKEN: 'STS1',
      }),
    ).toEqual({ kind: 'aksk', accessKey: 'AK1', secretKey: 'SK1', securityToken: 'STS1' });
  });

  it('accepts an IAM token', () => {
    expect(authOf({ DLI_AUTH_TOKEN: 'MIIToken' })).toEqual({ kind: 'token', token: 'MIIToken' });
  });

  it('names the missing half of an AK/SK pair', () => {
    expect(problemsOf({ ...NO_AUTH, HUAWEICLOUD_SDK_AK: 'AK1' })).toEqual([
      'HUAWEICLOUD_SDK_SK: is required when HUAWEICLOUD_SDK_AK is set',
    ]);
    expect(problemsOf({ ...NO_AUTH, HUAWEICLOUD_SDK_SK: 'SK1' })).toEqual([
      'HUAWEICLOUD_SDK_AK: is required when HUAWEICLOUD_SDK_SK is set',
    ]);
  });

  it('refuses two methods at once', () => {
    expect(problemsOf({ ...BASE_ENV, DLI_AUTH_TOKEN: 'MIIToken' })).toEqual([
      'DLI_AUTH_TOKEN: cannot be combined with HUAWEICLOUD_SDK_AK/HUAWEICLOUD_SDK_SK; use one authentication method',
    ]);
  });

  it('lists both methods when there are no credentials', () => {
    const problems = problemsOf(NO_AUTH);
    expect(problems).toHaveLength(1);
    for (const name of ['HUAWEICLOUD_SDK_AK', 'HUAWEICLOUD_SDK_SK', 'DLI_AUTH_TOKEN']) {
      expect(problems[0]).toContain(name);
    }
  });

  it('refuses a security token without AK/SK, even next to an IAM token', () => {
    const expected = [
      'HUAWEICLOUD_SDK_SECURITY_TOKEN: is only used with HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK (temporary credentials); set those too',
    ];
    expect(problemsOf({ ...NO_AUTH, HUAWEICLOUD_SDK_SECURITY_TOKEN: 'STS1' })).toEqual(expected);
    expect(
      problemsOf({ ...NO_AUTH, HUAWEICLOUD_SDK_SECURITY_TOKEN: 'STS1', DLI_AUTH_TOKEN: 'MIIToken' }),
    ).toEqual(expected);
  });

  it('refuses credentials with whitespace, which would fail every signature', () => {
    expect(problemsOf({ ...BASE_ENV, HUAWEICLOUD_SDK_SK: 'SKEXAMPLE\r' })).toEqual([
      'HUAWEICLOUD_SDK_SK: must not contain spaces, control characters or non-ASCII characters',
    ]);
  });
});

describe('empty strings count as unset', () => {
  it('applies defaults and fallbacks for empty variables', () => {
    const cwd = tempDir();
    const config = loadConfig(
      {
        ...BASE_ENV,
        DLI_PROJECT_ID: '',
        HUAWEICLOUD_SDK_PROJECT_ID: 'fallback1',
        DLI_ENDPOINT: '',
        DLI_AUTH_TOKEN: '',
        HUAWEICLOUD_SDK_SECURITY_TOKEN: '',
        DLI_WATCH_CONCURRENCY: '',
        DLI_WATCH_MAX_RPS: '',
        DLI_WATCH_DLI_TIMEOUT_MS: '',
        DLI_WATCH_LOG_LEVEL: '',
        DLI_WATCH_STORE: '',
        DLI_WATCH_CONSOLE_URL: '',
        DLI_WATCH_CONFIG: '',
        DLI_WATCH_WEBHOOKS: '',
      },
      { cwd },
    );
    expect(config).toEqual(loadConfig({ ...BASE_ENV, DLI_PROJECT_ID: 'fallback1' }, { cwd }));
  });

  it('treats an empty required variable as missing', () => {
    expect(problemsOf({ ...BASE_ENV, DLI_REGION: '' })).toEqual([
      'DLI_REGION: is required (the DLI region, like cn-north-4)',
    ]);
    expect(problemsOf({ ...BASE_ENV, HUAWEICLOUD_SDK_SK: '' })).toEqual([
      'HUAWEICLOUD_SDK_SK: is required when HUAWEICLOUD_SDK_AK is set',
    ]);
  });
});

describe('many problems at once', () => {
  it('reports every problem from the environment and the file in one error', () => {
    const cwd = dirWithConfig({
      destination: [],
      destinations: [
        { name: 'bad name!', type: 'msteams', url: 'http://example.com/hook', events: [] },
        { name: 'audit', type: 'webhook', url: 'https://example.com/dli', secret: 'nope', colour: 'red' },
      ],
      console_url: 'https://console.example.com/{jobid}',
    });
    const env: Env = {
      DLI_REGION: 'North China 4',
      DLI_PROJECT_ID: 'project-with-dashes',
      DLI_ENDPOINT: 'http://dli.example.com',
      HUAWEICLOUD_SDK_AK: 'AKEXAMPLE',
      DLI_WATCH_CONCURRENCY: '0',
      DLI_WATCH_MAX_RPS: '20000',
      DLI_WATCH_DLI_TIMEOUT_MS: '50',
      DLI_WATCH_LOG_LEVEL: 'verbose',
      DLI_WATCH_STORE: 'redis:localhost',
      DLI_WATCH_CONSOLE_URL: 'ftp://console.example.com',
      DLI_WATCH_WEBHOOKS: 'http://example.com/x',
    };
    const error = configError(() => loadConfig(env, { cwd }));
    const expectedPrefixes = [
      'DLI_WATCH_STORE: ',
      'DLI_WATCH_LOG_LEVEL: ',
      'DLI_REGION: ',
      'DLI_PROJECT_ID: ',
      'DLI_ENDPOINT: ',
      'HUAWEICLOUD_SDK_SK: ',
      'DLI_WATCH_DLI_TIMEOUT_MS: ',
      'DLI_WATCH_CONCURRENCY: must be an integer from 1 to 256',
      'DLI_WATCH_MAX_RPS: ',
      'dli-watch.config.json: destination: unknown key',
      'dli-watch.config.json: destinations[0].name: ',
      'dli-watch.config.json: destinations[0].type: ',
      'dli-watch.config.json: destinations[0].url: must be https (or http on a loopback host)',
      'dli-watch.config.json: destinations[0].events: ',
      'dli-watch.config.json: destinations[1].secret: ',
      'dli-watch.config.json: destinations[1].colour: unknown key',
      'dli-watch.config.json: console_url: unknown placeholder {jobid}',
      'DLI_WATCH_WEBHOOKS: URL 1 (host example.com): must be https',
      'DLI_WATCH_CONSOLE_URL: must be https (or http on a loopback host)',
    ];
    expect(error.problems).toHaveLength(expectedPrefixes.length);
    for (const prefix of expectedPrefixes) {
      expect(
        error.problems.filter((problem) => problem.startsWith(prefix)),
        prefix,
      ).toHaveLength(1);
    }
    expect(error.message.split('\n')).toEqual(error.problems);
  });
});

describe('config file', () => {
  it('reads destinations, with events defaulting to all three and a null secret', () => {
    const cwd = dirWithConfig({
      destinations: [
        {
          name: 'data-alerts',
          type: 'slack',
          url: 'https://hooks.slack.com/services/T/B/X',
          events: ['FAILED'],
        },
        { name: 'audit', type: 'webhook', url: 'https://example.com/dli', secret: WEBHOOK_SECRET },
        { name: 'plain', type: 'webhook', url: 'https://example.com/plain', events: ['FAILED', 'FAILED'] },
      ],
      console_url: 'https://console.example.com/{region}/{project_id}/{job_id}?q={queue_name}',
    });
    const config = loadConfig(BASE_ENV, { cwd });
    expect(config.destinations).toMatchObject([
      {
        name: 'data-alerts',
        type: 'slack',
        url: 'https://hooks.slack.com/services/T/B/X',
        events: ['FAILED'],
      },
      {
        name: 'audit',
        type: 'webhook',
        url: 'https://example.com/dli',
        events: ['FINISHED', 'FAILED', 'CANCELLED', 'LONG_RUNNING'],
        secret: WEBHOOK_SECRET,
      },
      { name: 'plain', type: 'webhook', url: 'https://example.com/plain', events: ['FAILED'], secret: null },
    ]);
    expect(config.consoleUrlTemplate).toBe(
      'https://console.example.com/{region}/{project_id}/{job_id}?q={queue_name}',
    );
    const fromEnv = loadConfig(
      { ...BASE_ENV, DLI_WATCH_CONSOLE_URL: 'https://env.example.com/{job_id}' },
      { cwd },
    );
    expect(fromEnv.consoleUrlTemplate).toBe('https://env.example.com/{job_id}');
  });

  it('reads the file named by DLI_WATCH_CONFIG, relative to cwd', () => {
    const cwd = dirWithConfig(
      { destinations: [{ name: 'x', type: 'webhook', url: 'https://e.com' }] },
      'other.json',
    );
    const config = loadConfig({ ...BASE_ENV, DLI_WATCH_CONFIG: 'other.json' }, { cwd });
    expect(config.destinations.map((destination) => destination.name)).toEqual(['x']);
  });

  it('complains about a missing named file but not a missing default one', () => {
    const cwd = tempDir();
    expect(loadConfig(BASE_ENV, { cwd }).destinations).toEqual([]);
    expect(problemsOf({ ...BASE_ENV, DLI_WATCH_CONFIG: 'missing.json' }, cwd)).toEqual([
      `DLI_WATCH_CONFIG: file not found: ${join(cwd, 'missing.json')}`,
    ]);
  });

  it('reports invalid JSON with the file and the position', () => {
    const cwd = dirWithConfig('{\n  "destinations": [\n    {"name": "a",}\n  ]\n}');
    expect(problemsOf(BASE_ENV, cwd)).toEqual([
      'dli-watch.config.json: invalid JSON: Expected double-quoted property name at line 3, column 18',
    ]);
    // Like V8, the position is where the text stops being JSON: the "o" of "nope" ("n" could start null).
    const unexpectedToken = dirWithConfig('{\n  "console_url": nope\n}');
    expect(problemsOf(BASE_ENV, unexpectedToken)).toEqual([
      'dli-watch.config.json: invalid JSON: unexpected token at line 2, column 19',
    ]);
    const truncated = dirWithConfig('{"destinations": [');
    expect(problemsOf(BASE_ENV, truncated)).toEqual([
      'dli-watch.config.json: invalid JSON: unexpected end of input at line 1, column 19',
    ]);
  });

  it('accepts a file starting with a byte order mark', () => {
    const cwd = dirWithConfig('\uFEFF{"destinations": []}');
    expect(loadConfig(BASE_ENV, { cwd }).destinations).toEqual([]);
  });

  it('reports a file that is not an object', () => {
    expect(problemsOf(BASE_ENV, dirWithConfig('[]'))).toEqual([
      'dli-watch.config.json: must be a JSON object',
    ]);
  });

  it('substitutes environment variable references in string values, whole or in part', () => {
    const secretBase64 = Buffer.alloc(32, 1).toString('base64');
    const cwd = dirWithConfig({
      destinations: [
        { name: 'alerts', type: 'slack', url: ref('SLACK_URL') },
        {
          name: 'audit',
          type: 'webhook',
          url: `https://${ref('HOOK_HOST')}/dli`,
          secret: `whsec_${ref('HOOK_SECRET')}`,
        },
      ],
    });
    const config = loadConfig(
      {
        ...BASE_ENV,
        SLACK_URL: 'https://hooks.slack.com/services/T1/B1/abc',
        HOOK_HOST: 'hooks.example.com',
        HOOK_SECRET: secretBase64,
      },
      { cwd },
    );
    expect(config.destinations).toMatchObject([
      {
        name: 'alerts',
        type: 'slack',
        url: 'https://hooks.slack.com/services/T1/B1/abc',
        events: ['FINISHED', 'FAILED', 'CANCELLED', 'LONG_RUNNING'],
      },
      {
        name: 'audit',
        type: 'webhook',
        url: 'https://hooks.example.com/dli',
        events: ['FINISHED', 'FAILED', 'CANCELLED', 'LONG_RUNNING'],
        secret: `whsec_${secretBase64}`,
      },
    ]);
  });

  it('names the key and the variable when a referenced variable is unset or empty', () => {
    const cwd = dirWithConfig({
      destinations: [{ name: 'alerts', type: 'slack', url: ref('SLACK_URL'), events: [ref('EVENT')] }],
    });
    expect(problemsOf({ ...BASE_ENV, EVENT: '' }, cwd)).toEqual([
      'dli-watch.config.json: destinations[0].url: environment variable SLACK_URL is not set',
      'dli-watch.config.json: destinations[0].events[0]: environment variable EVENT is not set',
    ]);
  });

  it('refuses unknown keys, naming their path', () => {
    const cwd = dirWithConfig({
      destinatons: [],
      destinations: [{ name: 'a', type: 'webhook', url: 'https://e.com', event: ['FAILED'] }],
    });
    expect(problemsOf(BASE_ENV, cwd)).toEqual([
      `dli-watch.config.json: destinations[0].event: unknown key; the keys are ${DESTINATION_KEYS}`,
      'dli-watch.config.json: destinatons: unknown key; the keys are $schema, destinations, watches, console_url',
    ]);
  });

  it('validates events and webhook secrets', () => {
    const tooShort = `whsec_${Buffer.alloc(23, 1).toString('base64')}`;
    const tooLong = `whsec_${Buffer.alloc(65, 1).toString('base64')}`;
    const cwd = dirWithConfig({
      destinations: [
        { name: 'a', type: 'webhook', url: 'https://e.com', events: ['FAILED', 'failed'], secret: tooShort },
        { name: 'b', type: 'webhook', url: 'https://e.com', secret: tooLong },
        { name: 'c', type: 'webhook', url: 'https://e.com', secret: 'c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0' },
        { name: 'd', type: 'slack', url: 'https://hooks.slack.com/services/x', secret: WEBHOOK_SECRET },
      ],
    });
    const secretRule = 'must be "whsec_" followed by the base64 of 24 to 64 random bytes';
    expect(problemsOf(BASE_ENV, cwd)).toEqual([
      'dli-watch.config.json: destinations[0].events[1]: must be one of FINISHED, FAILED, CANCELLED, LONG_RUNNING, RECOVERED',
      `dli-watch.config.json: destinations[0].secret: ${secretRule}`,
      `dli-watch.config.json: destinations[1].secret: ${secretRule}`,
      `dli-watch.config.json: destinations[2].secret: ${secretRule}`,
      'dli-watch.config.json: destinations[3].secret: is only for webhook, feishu and dingtalk destinations; slack takes no signing secret',
    ]);
  });
});

describe('DLI_WATCH_WEBHOOKS shortcut', () => {
  const SLACK_URL = 'https://hooks.slack.com/services/T0/B0/secretpart';
  const HOOK_URL = 'https://example.com/dli-hook';

  it('infers the type from the host and names destinations by a hash of the URL', () => {
    const config = loadConfig(
      { ...BASE_ENV, DLI_WATCH_WEBHOOKS: ` ${SLACK_URL} ,, ${HOOK_URL},` },
      { cwd: tempDir() },
    );
    expect(config.destinations).toMatchObject([
      {
        name: shortcutName('slack', SLACK_URL),
        type: 'slack',
        url: SLACK_URL,
        events: ['FINISHED', 'FAILED', 'CANCELLED', 'LONG_RUNNING'],
      },
      {
        name: shortcutName('webhook', HOOK_URL),
        type: 'webhook',
        url: HOOK_URL,
        events: ['FINISHED', 'FAILED', 'CANCELLED', 'LONG_RUNNING'],
        secret: null,
      },
    ]);
    for (const destination of config.destinations) {
      expect(destination.name).toMatch(/^(slack|webhook)-[0-9a-f]{8}$/);
      expect(destination.name).not.toContain('slack.com');
    }
  });

  it('keeps names stable when the list is reordered', () => {
    const namesFor = (list: string) =>
      loadConfig({ ...BASE_ENV, DLI_WATCH_WEBHOOKS: list }, { cwd: tempDir() })
        .destinations.map((destination) => destination.name)
        .sort();
    expect(namesFor(`${SLACK_URL},${HOOK_URL}`)).toEqual(namesFor(`${HOOK_URL},${SLACK_URL}`));
  });

  it('adds to the file destinations', () => {
    const cwd = dirWithConfig({ destinations: [{ name: 'audit', type: 'webhook', url: 'https://e.com' }] });
    const config = loadConfig({ ...BASE_ENV, DLI_WATCH_WEBHOOKS: HOOK_URL }, { cwd });
    expect(config.destinations.map((destination) => destination.name)).toEqual([
      'audit',
      shortcutName('webhook', HOOK_URL),
    ]);
  });
});

describe('destination names', () => {
  it('refuses duplicates within the file', () => {
    const cwd = dirWithConfig({
      destinations: [
        { name: 'audit', type: 'webhook', url: 'https://a.example.com' },
        { name: 'other', type: 'webhook', url: 'https://b.example.com' },
        { name: 'audit', type: 'slack', url: 'https://hooks.slack.com/services/x' },
      ],
    });
    expect(problemsOf(BASE_ENV, cwd)).toEqual([
      'dli-watch.config.json: destinations[2].name: the name audit is already used by destinations[0].name',
    ]);
  });

  it('refuses a shortcut whose name clashes with the file, or the same URL twice', () => {
    const url = 'https://example.com/hook';
    const name = shortcutName('webhook', url);
    const cwd = dirWithConfig({
      destinations: [{ name, type: 'webhook', url: 'https://other.example.com' }],
    });
    expect(problemsOf({ ...BASE_ENV, DLI_WATCH_WEBHOOKS: url }, cwd)).toEqual([
      `DLI_WATCH_WEBHOOKS: URL 1 (host example.com): the name ${name} is already used by dli-watch.config.json destinations[0].name`,
    ]);
    expect(problemsOf({ ...BASE_ENV, DLI_WATCH_WEBHOOKS: `${url}, ${url}` })).toEqual([
      `DLI_WATCH_WEBHOOKS: URL 2 (host example.com): the name ${name} is already used by URL 1 (host example.com)`,
    ]);
  });
});

describe('plain http only on loopback hosts', () => {
  it('recognises loopback hosts', () => {
    for (const host of ['127.0.0.1', 'localhost', 'LOCALHOST', '::1', '[::1]'])
      expect(isLoopbackHost(host)).toBe(true);
    for (const host of ['10.0.0.1', 'example.com', 'localhost.example.com', '127.0.0.1.nip.io', '']) {
      expect(isLoopbackHost(host)).toBe(false);
    }
  });

  it('allows http to 127.0.0.1, localhost and [::1] for destinations, shortcuts and the console link', () => {
    const loopbackUrls = [
      'http://127.0.0.1:8080/hook',
      'http://localhost:8080/hook',
      'http://[::1]:8080/hook',
    ];
    const cwd = dirWithConfig({
      destinations: loopbackUrls.map((url, index) => ({ name: `local-${index}`, type: 'webhook', url })),
    });
    const config = loadConfig(
      {
        ...BASE_ENV,
        DLI_WATCH_WEBHOOKS: 'http://localhost:9/x',
        DLI_WATCH_CONSOLE_URL: 'http://127.0.0.1:1/{job_id}',
      },
      { cwd },
    );
    expect(config.destinations.map((destination) => destination.url)).toEqual([
      ...loopbackUrls,
      'http://localhost:9/x',
    ]);
    expect(config.consoleUrlTemplate).toBe('http://127.0.0.1:1/{job_id}');
  });

  it('refuses http anywhere else', () => {
    const cwd = dirWithConfig({
      destinations: [
        { name: 'lan', type: 'webhook', url: 'http://10.0.0.1/hook' },
        { name: 'lookalike', type: 'webhook', url: 'http://localhost.example.com/hook' },
      ],
    });
    expect(problemsOf({ ...BASE_ENV, DLI_WATCH_WEBHOOKS: 'http://hooks.slack.com/services/x' }, cwd)).toEqual(
      [
        'dli-watch.config.json: destinations[0].url: must be https (or http on a loopback host)',
        'dli-watch.config.json: destinations[1].url: must be https (or http on a loopback host)',
        'DLI_WATCH_WEBHOOKS: URL 1 (host hooks.slack.com): must be https (or http on a loopback host)',
      ],
    );
  });
});

describe('secrets in error messages', () => {
  it('never shows credentials, webhook URLs or signing secrets, even when they are the invalid part', () => {
    const secrets = {
      sk: 'SKSECRET5f1c9e\t',
      token: 'TOKENSECRETa7b3d2',
      securityToken: 'STS SECRET 77aa',
      shortcutPath: 'SHORTCUTPATHSECRET1',
      unparsableShortcut: 'UNPARSABLESECRET2',
      fileUrlPath: 'FILEURLPATHSECRET3',
      slackPath: 'SLACKPATHSECRET4',
      badSigningSecret: 'whsec_SIGNINGSECRET5',
      envSigningSecret: 'whsec_ENVSIGNINGSECRET6',
      secretAsKey: 'KEYSECRET7',
      unusedUrlVariable: 'ENVURLSECRET8',
      feishuUrlToken: 'FEISHUURLTOKEN9',
      feishuSigningSecret: 'FEISHUSIGNINGSECRET10',
      dingtalkToken: 'DINGTALKTOKEN11',
      badDingtalkSecret: 'DINGTALKSECRETNOPREFIX12',
      dingtalkSecretOnWecom: 'SECDINGTALKONWECOM13',
      feishuSecretOnSlack: 'FEISHUONSLACK14',
    };
    const cwd = dirWithConfig({
      destinations: [
        { name: 'a', type: 'webhook', url: `http://example.com/hook/${secrets.fileUrlPath}` },
        {
          name: 'b',
          type: 'slack',
          url: `https://hooks.slack.com/services/${secrets.slackPath}`,
          secret: secrets.badSigningSecret,
        },
        { name: 'c', type: 'webhook', url: 'https://example.com/c', secret: ref('HOOK_SECRET') },
        {
          name: 'd',
          type: 'teams',
          url: `ftp://${secrets.unusedUrlVariable}`,
          [`https://hooks.slack.com/services/${secrets.secretAsKey}`]: true,
        },
        {
          name: 'e',
          type: 'feishu',
          url: `http://open.feishu.cn/open-apis/bot/v2/hook/${secrets.feishuUrlToken}`,
          secret: secrets.feishuSigningSecret,
        },
        {
          name: 'f',
          type: 'dingtalk',
          url: `https://oapi.dingtalk.com/robot/send?access_token=${secrets.dingtalkToken}`,
          secret: secrets.badDingtalkSecret,
          digest_threshold: 0,
        },
        {
          name: 'g',
          type: 'wecom',
          url: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k',
          secret: secrets.dingtalkSecretOnWecom,
        },
        {
          name: 'h',
          type: 'slack',
          url: 'https://hooks.slack.com/services/T/B/x',
          secret: secrets.feishuSecretOnSlack,
        },
      ],
    });
    const env: Env = {
      ...BASE_ENV,
      HUAWEICLOUD_SDK_SK: secrets.sk,
      HUAWEICLOUD_SDK_SECURITY_TOKEN: secrets.securityToken,
      DLI_AUTH_TOKEN: secrets.token,
      HOOK_SECRET: secrets.envSigningSecret,
      DLI_WATCH_WEBHOOKS: `http://hooks.example.com/services/${secrets.shortcutPath}, ${secrets.unparsableShortcut}`,
    };
    const error = configError(() => loadConfig(env, { cwd }));

    expect(error.problems.length).toBeGreaterThanOrEqual(15);
    for (const secret of Object.values(secrets)) {
      expect(error.message).not.toContain(secret.trim());
      expect(error.message).not.toContain(secret.replace('whsec_', ''));
    }
    // Nothing was even close: the messages never carried the values, so the redaction net had nothing to do.
    expect(error.message).not.toContain('[redacted]');
    expect(error.problems).toContain(
      'DLI_WATCH_WEBHOOKS: URL 1 (host hooks.example.com): must be https (or http on a loopback host)',
    );
    expect(error.problems).toContain(
      `dli-watch.config.json: destinations[3]: has an unknown key (not shown); the keys are ${DESTINATION_KEYS}`,
    );
    expect(error.problems).toEqual(
      expect.arrayContaining([
        'dli-watch.config.json: destinations[4].url: must be https (or http on a loopback host)',
        'dli-watch.config.json: destinations[5].secret: must start with "SEC" (the signing secret from the robot\'s security settings)',
        'dli-watch.config.json: destinations[6].secret: is only for webhook, feishu and dingtalk destinations; wecom takes no signing secret',
        'dli-watch.config.json: destinations[7].secret: is only for webhook, feishu and dingtalk destinations; slack takes no signing secret',
      ]),
    );
  });

  it('does not quote the file when its JSON is invalid', () => {
    const cwd = dirWithConfig('{"destinations": [{"url": https://hooks.slack.com/services/QUOTEDSECRET9}]}');
    const error = configError(() => loadConfig(BASE_ENV, { cwd }));
    expect(error.problems).toEqual([
      'dli-watch.config.json: invalid JSON: unexpected token at line 1, column 27',
    ]);
    expect(error.cause).toBeUndefined();
  });
});

/** Real-shaped webhook URLs of each platform (docs/platforms.md); the tokens are made up. */
const PLATFORM_URLS = {
  slack: 'https://hooks.slack.com/services/T000/B000/slacktoken',
  teams:
    'https://prod-12.westus.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sig=teamssig',
  discord: 'https://discord.com/api/webhooks/1234/discordtoken',
  feishu: 'https://open.feishu.cn/open-apis/bot/v2/hook/feishutoken',
  dingtalk: 'https://oapi.dingtalk.com/robot/send?access_token=dingtalktoken',
  wecom: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=wecomkey',
  googlechat: 'https://chat.googleapis.com/v1/spaces/AAAA/messages?key=gkey&token=gtoken',
  webhook: 'https://hooks.example.com/dli',
} as const;
const FEISHU_SECRET = 'feishuSigningSecret0123';
const DINGTALK_SECRET = `SEC${'0123456789abcdef'.repeat(4)}`;

/** The destinations a config file with these entries loads to. */
function loadDestinations(destinations: unknown[]) {
  return loadConfig(BASE_ENV, { cwd: dirWithConfig({ destinations }) }).destinations;
}

/** The problems a config file with these entries has. */
function destinationProblems(destinations: unknown[]): string[] {
  return problemsOf(BASE_ENV, dirWithConfig({ destinations }));
}

describe('destination types', () => {
  it('reads each chat platform and the generic webhook with every optional setting at its default', () => {
    const destinations = loadDestinations([
      { name: 'slack', type: 'slack', url: PLATFORM_URLS.slack },
      { name: 'teams', type: 'teams', url: PLATFORM_URLS.teams },
      { name: 'discord', type: 'discord', url: PLATFORM_URLS.discord },
      { name: 'feishu', type: 'feishu', url: PLATFORM_URLS.feishu, secret: FEISHU_SECRET },
      { name: 'dingtalk', type: 'dingtalk', url: PLATFORM_URLS.dingtalk, secret: DINGTALK_SECRET },
      { name: 'wecom', type: 'wecom', url: PLATFORM_URLS.wecom },
      { name: 'googlechat', type: 'googlechat', url: PLATFORM_URLS.googlechat },
      { name: 'webhook', type: 'webhook', url: PLATFORM_URLS.webhook, secret: WEBHOOK_SECRET },
    ]);
    expect(destinations).toEqual([
      createChatDestination({ name: 'slack', type: 'slack', url: PLATFORM_URLS.slack }),
      createChatDestination({ name: 'teams', type: 'teams', url: PLATFORM_URLS.teams }),
      createChatDestination({ name: 'discord', type: 'discord', url: PLATFORM_URLS.discord }),
      createChatDestination({
        name: 'feishu',
        type: 'feishu',
        url: PLATFORM_URLS.feishu,
        secret: FEISHU_SECRET,
      }),
      createChatDestination({
        name: 'dingtalk',
        type: 'dingtalk',
        url: PLATFORM_URLS.dingtalk,
        secret: DINGTALK_SECRET,
      }),
      createChatDestination({ name: 'wecom', type: 'wecom', url: PLATFORM_URLS.wecom }),
      createChatDestination({ name: 'googlechat', type: 'googlechat', url: PLATFORM_URLS.googlechat }),
      createWebhookDestination({ name: 'webhook', url: PLATFORM_URLS.webhook, secret: WEBHOOK_SECRET }),
    ]);
    expect(destinations[0]).toMatchObject({
      events: ['FINISHED', 'FAILED', 'CANCELLED', 'LONG_RUNNING'],
      route: { queues: null, owners: null, jobTypes: null, tags: null, labels: null },
      mentions: { users: [], groups: [], all: false },
      digestThreshold: 5,
      consoleUrlTemplate: null,
      titleTemplate: null,
      secret: null,
    });
  });

  it('accepts any host for any type, so proxies and local test servers work', () => {
    const types = ['slack', 'teams', 'discord', 'feishu', 'dingtalk', 'wecom', 'googlechat', 'webhook'];
    const destinations = loadDestinations(
      types.map((type, index) => ({
        name: `local-${type}`,
        type,
        url: index % 2 === 0 ? `http://127.0.0.1:8080/${type}` : `https://proxy.example.com/${type}`,
      })),
    );
    expect(destinations.map(({ type, url }) => `${type} ${url}`)).toEqual(
      types.map((type, index) =>
        index % 2 === 0
          ? `${type} http://127.0.0.1:8080/${type}`
          : `${type} https://proxy.example.com/${type}`,
      ),
    );
  });

  it('names every type when the type is unknown', () => {
    expect(destinationProblems([{ name: 'a', type: 'msteams', url: 'https://e.com' }])).toEqual([
      'dli-watch.config.json: destinations[0].type: must be one of slack, teams, discord, feishu, dingtalk, wecom, googlechat, webhook',
    ]);
  });
});

describe('signing secrets by type', () => {
  it('accepts a Feishu secret of any form and a DingTalk secret starting with SEC', () => {
    const [feishu, dingtalk] = loadDestinations([
      { name: 'f', type: 'feishu', url: PLATFORM_URLS.feishu, secret: 'x' },
      { name: 'd', type: 'dingtalk', url: PLATFORM_URLS.dingtalk, secret: DINGTALK_SECRET },
    ]);
    expect(feishu?.secret).toBe('x');
    expect(dingtalk?.secret).toBe(DINGTALK_SECRET);
  });

  it('checks each signing secret by its type and refuses secrets on types that do not sign', () => {
    expect(
      destinationProblems([
        { name: 'f', type: 'feishu', url: PLATFORM_URLS.feishu, secret: '' },
        { name: 'd1', type: 'dingtalk', url: PLATFORM_URLS.dingtalk, secret: 'abc123def456' },
        { name: 'd2', type: 'dingtalk', url: PLATFORM_URLS.dingtalk, secret: 'SEC' },
        { name: 'w', type: 'webhook', url: PLATFORM_URLS.webhook, secret: DINGTALK_SECRET },
        { name: 's', type: 'slack', url: PLATFORM_URLS.slack, secret: FEISHU_SECRET },
        { name: 't', type: 'teams', url: PLATFORM_URLS.teams, secret: FEISHU_SECRET },
        { name: 'di', type: 'discord', url: PLATFORM_URLS.discord, secret: FEISHU_SECRET },
        { name: 'wc', type: 'wecom', url: PLATFORM_URLS.wecom, secret: FEISHU_SECRET },
        { name: 'g', type: 'googlechat', url: PLATFORM_URLS.googlechat, secret: FEISHU_SECRET },
        { name: 'n', type: 'feishu', url: PLATFORM_URLS.feishu, secret: 42 },
      ]),
    ).toEqual([
      "dli-watch.config.json: destinations[0].secret: must not be empty (it is the signing secret from the bot's security settings)",
      'dli-watch.config.json: destinations[1].secret: must start with "SEC" (the signing secret from the robot\'s security settings)',
      'dli-watch.config.json: destinations[2].secret: must start with "SEC" (the signing secret from the robot\'s security settings)',
      'dli-watch.config.json: destinations[3].secret: must be "whsec_" followed by the base64 of 24 to 64 random bytes',
      ...['slack', 'teams', 'discord', 'wecom', 'googlechat'].map(
        (type, index) =>
          `dli-watch.config.json: destinations[${index + 4}].secret: is only for webhook, feishu and dingtalk destinations; ${type} takes no signing secret`,
      ),
      'dli-watch.config.json: destinations[9].secret: must be a string',
    ]);
  });
});

describe('routing keys', () => {
  it('turns queues, owners, job_types, tags and labels into the route, absent lists matching any job', () => {
    const [routed, open] = loadDestinations([
      {
        name: 'routed',
        type: 'slack',
        url: PLATFORM_URLS.slack,
        queues: ['etl-*', 'adhoc', 'adhoc'],
        owners: ['alice'],
        job_types: ['INSERT', 'QUERY'],
        tags: ['team=data-*', 'env=prod'],
        labels: ['pipeline=*', 'filter=a=b'],
      },
      { name: 'open', type: 'webhook', url: PLATFORM_URLS.webhook, owners: ['*'] },
    ]);
    expect(routed?.route).toEqual({
      queues: ['etl-*', 'adhoc'],
      owners: ['alice'],
      jobTypes: ['INSERT', 'QUERY'],
      tags: ['team=data-*', 'env=prod'],
      labels: ['pipeline=*', 'filter=a=b'],
    });
    expect(open?.route).toEqual({ queues: null, owners: ['*'], jobTypes: null, tags: null, labels: null });
  });

  it('routes loaded destinations as configured', () => {
    const destinations = loadDestinations([
      { name: 'etl', type: 'slack', url: PLATFORM_URLS.slack, queues: ['etl-*'] },
      { name: 'data-team', type: 'feishu', url: PLATFORM_URLS.feishu, tags: ['team=data'] },
      { name: 'nightly', type: 'wecom', url: PLATFORM_URLS.wecom, labels: ['run=nightly'] },
      { name: 'failures', type: 'webhook', url: PLATFORM_URLS.webhook, events: ['FAILED'] },
    ]);
    const event = (status: TerminalStatus, queue: string, labels: Record<string, string> = {}) => ({
      type: status,
      job: { job_id: 'j1', status, queue_name: queue, tags: [{ key: 'team', value: 'data' }] },
      labels,
    });
    expect(routeEvent(destinations, event('FAILED', 'etl-prod'))).toEqual(['etl', 'data-team', 'failures']);
    expect(routeEvent(destinations, event('FINISHED', 'adhoc', { run: 'nightly' }))).toEqual([
      'data-team',
      'nightly',
    ]);
  });

  it('refuses empty lists, empty entries and key=value entries without a key or "="', () => {
    expect(
      destinationProblems([
        {
          name: 'a',
          type: 'slack',
          url: PLATFORM_URLS.slack,
          queues: [],
          owners: 'alice',
          job_types: ['', 7],
          tags: ['team', '=prod', 'team=*'],
          labels: ['pipeline'],
        },
      ]),
    ).toEqual([
      'dli-watch.config.json: destinations[0].queues: must list at least one of queue names (leave it out to match any)',
      'dli-watch.config.json: destinations[0].owners: must be a list of owners (* matches any run of characters)',
      'dli-watch.config.json: destinations[0].job_types[0]: must not be empty',
      'dli-watch.config.json: destinations[0].job_types[1]: must be a string',
      'dli-watch.config.json: destinations[0].tags[0]: must be key=value (* matches any run of characters; key=* for any value)',
      'dli-watch.config.json: destinations[0].tags[1]: must be key=value (* matches any run of characters; key=* for any value)',
      'dli-watch.config.json: destinations[0].labels[0]: must be key=value (* matches any run of characters; key=* for any value)',
    ]);
  });
});

describe('mute_cancelled', () => {
  it('removes CANCELLED from the events, given or default', () => {
    const destinations = loadDestinations([
      { name: 'a', type: 'slack', url: PLATFORM_URLS.slack, mute_cancelled: true },
      { name: 'b', type: 'webhook', url: PLATFORM_URLS.webhook, mute_cancelled: true, events: ['FAILED'] },
      { name: 'c', type: 'teams', url: PLATFORM_URLS.teams, mute_cancelled: false },
    ]);
    expect(destinations.map((destination) => destination.events)).toEqual([
      ['FINISHED', 'FAILED', 'LONG_RUNNING'],
      ['FAILED'],
      ['FINISHED', 'FAILED', 'CANCELLED', 'LONG_RUNNING'],
    ]);
  });

  it('refuses the contradiction of muting CANCELLED while listing it, and a non-boolean', () => {
    expect(
      destinationProblems([
        {
          name: 'a',
          type: 'slack',
          url: PLATFORM_URLS.slack,
          mute_cancelled: true,
          events: ['FAILED', 'CANCELLED'],
        },
        { name: 'b', type: 'slack', url: PLATFORM_URLS.slack, mute_cancelled: 'yes' },
      ]),
    ).toEqual([
      'dli-watch.config.json: destinations[0].mute_cancelled: contradicts events, which lists CANCELLED; keep one of the two',
      'dli-watch.config.json: destinations[1].mute_cancelled: must be true or false',
    ]);
  });
});

describe('alert options', () => {
  it('reads events with warnings and recoveries, only_after_failures, and quiet hours in their zone', () => {
    const [oncall, chat] = loadDestinations([
      {
        name: 'oncall',
        type: 'slack',
        url: PLATFORM_URLS.slack,
        events: ['FAILED', 'RECOVERED'],
        only_after_failures: 2,
        quiet_hours: [
          { days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '22:00', to: '07:30' },
          { days: ['sat', 'sun', 'sat'], from: '00:00', to: '24:00' },
        ],
        timezone: 'Europe/Berlin',
        except: ['FAILED'],
      },
      { name: 'chat', type: 'feishu', url: PLATFORM_URLS.feishu },
    ]);
    expect(oncall).toMatchObject({
      events: ['FAILED', 'RECOVERED'],
      onlyAfterFailures: 2,
      quietHours: {
        timeZone: 'Europe/Berlin',
        windows: [
          { days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: 22 * 60, to: 7 * 60 + 30 },
          { days: ['sat', 'sun'], from: 0, to: 1440 },
        ],
        except: ['FAILED'],
      },
    });
    expect(chat).toMatchObject({ onlyAfterFailures: 1, quietHours: null });
  });

  it('refuses bad alert options, naming each', () => {
    expect(
      destinationProblems([
        {
          name: 'a',
          type: 'slack',
          url: PLATFORM_URLS.slack,
          events: ['FAILED', 'SLOW'],
          only_after_failures: 0,
          quiet_hours: [
            { days: ['monday'], from: '22:00', to: '25:00' },
            { days: ['sun'], from: '09:00', to: '9:00' },
          ],
          timezone: 'Mars/Olympus_Mons',
          except: ['FAILED'],
        },
        {
          name: 'b',
          type: 'slack',
          url: PLATFORM_URLS.slack,
          quiet_hours: [{ days: ['sun'], from: '22:00', to: '06:00' }],
        },
        { name: 'c', type: 'slack', url: PLATFORM_URLS.slack, timezone: 'UTC', except: ['FAILED'] },
        { name: 'd', type: 'slack', url: PLATFORM_URLS.slack, events: ['FINISHED'], only_after_failures: 3 },
      ]),
    ).toEqual([
      'dli-watch.config.json: destinations[0].events[1]: must be one of FINISHED, FAILED, CANCELLED, LONG_RUNNING, RECOVERED',
      'dli-watch.config.json: destinations[0].only_after_failures: must be an integer from 1 to 1000 (1: every failure)',
      'dli-watch.config.json: destinations[0].quiet_hours[0].days[0]: must be one of sun, mon, tue, wed, thu, fri, sat',
      'dli-watch.config.json: destinations[0].quiet_hours[0].to: must be a time of day as HH:MM, 00:00 to 24:00',
      'dli-watch.config.json: destinations[0].quiet_hours[1]: from and to must differ (a window may cross midnight: from 22:00 to 07:30)',
      'dli-watch.config.json: destinations[0].timezone: must be an IANA time zone name, such as Europe/Berlin or Asia/Shanghai',
      'dli-watch.config.json: destinations[1].timezone: is required with quiet_hours: the IANA zone their times are in, such as Europe/Berlin',
      'dli-watch.config.json: destinations[2].timezone: is the zone of quiet_hours or summary, neither of which is set',
      'dli-watch.config.json: destinations[2].except: is what passes during quiet_hours, which is not set',
      'dli-watch.config.json: destinations[3].only_after_failures: is about FAILED messages, which events does not list',
    ]);
  });

  it('reads a daily summary at its hour, in its own zone or the destination’s', () => {
    const [own, shared, none] = loadDestinations([
      {
        name: 'own',
        type: 'feishu',
        url: PLATFORM_URLS.feishu,
        summary: { at: '09:00', timezone: 'Asia/Shanghai' },
      },
      {
        name: 'shared',
        type: 'slack',
        url: PLATFORM_URLS.slack,
        summary: { at: '7:45' },
        quiet_hours: [{ days: ['sun'], from: '22:00', to: '06:00' }],
        timezone: 'Europe/Berlin',
      },
      { name: 'none', type: 'slack', url: PLATFORM_URLS.slack },
    ]);
    expect(own?.summary).toEqual({ atMinute: 9 * 60, timeZone: 'Asia/Shanghai' });
    expect(shared?.summary).toEqual({ atMinute: 7 * 60 + 45, timeZone: 'Europe/Berlin' });
    expect(none?.summary).toBeNull();
  });

  it('refuses a summary without an hour or a zone, and unknown keys inside a summary or a window, naming what is wrong', () => {
    expect(
      destinationProblems([
        {
          name: 'a',
          type: 'slack',
          url: PLATFORM_URLS.slack,
          summary: { at: '24:00', timezone: 'Asia/Shanghai' },
        },
        { name: 'b', type: 'slack', url: PLATFORM_URLS.slack, summary: { at: '09:00' } },
        {
          name: 'c',
          type: 'slack',
          url: PLATFORM_URLS.slack,
          summary: { at: '9am', timezone: 'Mars/Base', when: 1 },
        },
        { name: 'd', type: 'slack', url: PLATFORM_URLS.slack, summary: '09:00' },
        {
          name: 'e',
          type: 'slack',
          url: PLATFORM_URLS.slack,
          quiet_hours: [{ days: ['sun'], from: '22:00', to: '06:00', until: '07:00' }],
          timezone: 'UTC',
        },
      ]),
    ).toEqual([
      'dli-watch.config.json: destinations[0].summary.at: must be a time of day as HH:MM, 00:00 to 23:59',
      "dli-watch.config.json: destinations[1].summary.timezone: is required: the IANA zone whose days are summed up, such as Asia/Shanghai (or the destination's timezone)",
      'dli-watch.config.json: destinations[2].summary.at: must be a time of day as HH:MM, 00:00 to 23:59',
      'dli-watch.config.json: destinations[2].summary.timezone: must be an IANA time zone name, such as Europe/Berlin or Asia/Shanghai',
      'dli-watch.config.json: destinations[2].summary.when: unknown key; the keys are at, timezone',
      'dli-watch.config.json: destinations[3].summary: must be an object with at and timezone, such as {"at": "09:00", "timezone": "Asia/Shanghai"}',
      'dli-watch.config.json: destinations[4].quiet_hours[0].until: unknown key; the keys are days, from, to',
    ]);
  });

  it('gives each destination its own language, else DLI_WATCH_LANGUAGE, else English', () => {
    const cwd = dirWithConfig({
      destinations: [
        { name: 'feishu', type: 'feishu', url: PLATFORM_URLS.feishu, language: 'zh-CN' },
        { name: 'slack', type: 'slack', url: PLATFORM_URLS.slack, language: 'en' },
        { name: 'wecom', type: 'wecom', url: PLATFORM_URLS.wecom },
      ],
    });
    const languages = (env: Env) =>
      loadConfig(env, { cwd }).destinations.map((destination) => [destination.name, destination.language]);
    expect(languages(BASE_ENV)).toEqual([
      ['feishu', 'zh-CN'],
      ['slack', 'en'],
      ['wecom', 'en'],
    ]);
    expect(
      languages({ ...BASE_ENV, DLI_WATCH_LANGUAGE: 'zh-CN', DLI_WATCH_WEBHOOKS: PLATFORM_URLS.dingtalk }),
    ).toEqual([
      ['feishu', 'zh-CN'],
      ['slack', 'en'],
      ['wecom', 'zh-CN'],
      [expect.stringMatching(/^dingtalk-/), 'zh-CN'],
    ]);
    expect(problemsOf({ ...BASE_ENV, DLI_WATCH_LANGUAGE: 'zh' }, cwd)).toEqual([
      'DLI_WATCH_LANGUAGE: must be one of en, zh-CN',
    ]);
    expect(
      destinationProblems([{ name: 'a', type: 'slack', url: PLATFORM_URLS.slack, language: 'fr' }]),
    ).toEqual(['dli-watch.config.json: destinations[0].language: must be one of en, zh-CN']);
  });

  it('reads DLI_WATCH_WARN_AFTER as the default long-running threshold, and refuses a bad one', () => {
    expect(loadConfig({ ...BASE_ENV, DLI_WATCH_WARN_AFTER: '90m' }, { cwd: tempDir() }).warnAfterMs).toBe(
      90 * 60_000,
    );
    expect(problemsOf({ ...BASE_ENV, DLI_WATCH_WARN_AFTER: '2 hours' })).toEqual([
      expect.stringMatching(/^DLI_WATCH_WARN_AFTER: must be a whole number of at least 1 and a unit/),
    ]);
  });
});

describe('mentions', () => {
  it('reads users, groups and all, each optional and without repeats', () => {
    const destinations = loadDestinations([
      {
        name: 'slack',
        type: 'slack',
        url: PLATFORM_URLS.slack,
        mentions: { users: ['U012AB3CD', 'U012AB3CD'], groups: ['S0614TZR7'], all: true },
      },
      { name: 'discord', type: 'discord', url: PLATFORM_URLS.discord, mentions: { groups: ['1234567890'] } },
      {
        name: 'feishu',
        type: 'feishu',
        url: PLATFORM_URLS.feishu,
        mentions: { users: ['ou_abc'], all: true },
      },
      {
        name: 'dingtalk',
        type: 'dingtalk',
        url: PLATFORM_URLS.dingtalk,
        mentions: { users: ['13800000000'] },
      },
      { name: 'teams', type: 'teams', url: PLATFORM_URLS.teams, mentions: {} },
    ]);
    expect(destinations.map((destination) => 'mentions' in destination && destination.mentions)).toEqual([
      { users: ['U012AB3CD'], groups: ['S0614TZR7'], all: true },
      { users: [], groups: ['1234567890'], all: false },
      { users: ['ou_abc'], groups: [], all: true },
      { users: ['13800000000'], groups: [], all: false },
      { users: [], groups: [], all: false },
    ]);
  });

  it('refuses mentions on a webhook, groups outside Slack and Discord, and malformed entries', () => {
    expect(
      destinationProblems([
        { name: 'w', type: 'webhook', url: PLATFORM_URLS.webhook, mentions: { users: ['u1'] } },
        { name: 'f', type: 'feishu', url: PLATFORM_URLS.feishu, mentions: { groups: ['g1'] } },
        { name: 't', type: 'teams', url: PLATFORM_URLS.teams, mentions: { groups: [] } },
        {
          name: 's',
          type: 'slack',
          url: PLATFORM_URLS.slack,
          mentions: { users: 'U1', groups: [''], all: 'yes', everyone: true },
        },
        { name: 'd', type: 'discord', url: PLATFORM_URLS.discord, mentions: ['u1'] },
      ]),
    ).toEqual([
      'dli-watch.config.json: destinations[0].mentions: is only for chat destinations (a webhook receiver gets the event data, not a message)',
      'dli-watch.config.json: destinations[1].mentions.groups: is only for slack and discord destinations; feishu has no groups to mention',
      'dli-watch.config.json: destinations[2].mentions.groups: is only for slack and discord destinations; teams has no groups to mention',
      'dli-watch.config.json: destinations[3].mentions.users: must be a list of ids',
      'dli-watch.config.json: destinations[3].mentions.groups[0]: must not be empty',
      'dli-watch.config.json: destinations[3].mentions.all: must be true or false',
      'dli-watch.config.json: destinations[3].mentions.everyone: unknown key; the keys are users, groups, all',
      'dli-watch.config.json: destinations[4].mentions: must be an object with users, groups and all',
    ]);
  });
});

describe('digest_threshold', () => {
  it('defaults to 5 and accepts integers from 1 to 1000 on chat destinations', () => {
    const destinations = loadDestinations([
      { name: 'a', type: 'slack', url: PLATFORM_URLS.slack },
      { name: 'b', type: 'dingtalk', url: PLATFORM_URLS.dingtalk, digest_threshold: 1 },
      { name: 'c', type: 'googlechat', url: PLATFORM_URLS.googlechat, digest_threshold: 1000 },
    ]);
    expect(
      destinations.map((destination) => 'digestThreshold' in destination && destination.digestThreshold),
    ).toEqual([5, 1, 1000]);
  });

  it('refuses values out of range, fractions, text, and any value on a webhook', () => {
    const rule = 'must be an integer from 1 to 1000';
    expect(
      destinationProblems([
        { name: 'a', type: 'slack', url: PLATFORM_URLS.slack, digest_threshold: 0 },
        { name: 'b', type: 'slack', url: PLATFORM_URLS.slack, digest_threshold: 1001 },
        { name: 'c', type: 'slack', url: PLATFORM_URLS.slack, digest_threshold: 2.5 },
        { name: 'd', type: 'slack', url: PLATFORM_URLS.slack, digest_threshold: '5' },
        { name: 'e', type: 'webhook', url: PLATFORM_URLS.webhook, digest_threshold: 5 },
      ]),
    ).toEqual([
      `dli-watch.config.json: destinations[0].digest_threshold: ${rule}`,
      `dli-watch.config.json: destinations[1].digest_threshold: ${rule}`,
      `dli-watch.config.json: destinations[2].digest_threshold: ${rule}`,
      `dli-watch.config.json: destinations[3].digest_threshold: ${rule}`,
      'dli-watch.config.json: destinations[4].digest_threshold: is only for chat destinations (a webhook gets one delivery per event)',
    ]);
  });
});

describe('per-destination console_url and title', () => {
  it('reads them as the destination templates', () => {
    const [chat, webhook] = loadDestinations([
      {
        name: 'a',
        type: 'feishu',
        url: PLATFORM_URLS.feishu,
        console_url: 'https://console.example.com/{region}/{job_id}',
        title: '{status}: {short_job_id} on {queue_name} ({owner}, {job_type}, {job_id})',
      },
      { name: 'b', type: 'webhook', url: PLATFORM_URLS.webhook, title: 'DLI {status}' },
    ]);
    expect(chat).toMatchObject({
      consoleUrlTemplate: 'https://console.example.com/{region}/{job_id}',
      titleTemplate: '{status}: {short_job_id} on {queue_name} ({owner}, {job_type}, {job_id})',
    });
    expect(webhook).toMatchObject({ consoleUrlTemplate: null, titleTemplate: 'DLI {status}' });
  });

  it('validates the console link like the global one and names unknown title placeholders', () => {
    expect(
      destinationProblems([
        {
          name: 'a',
          type: 'slack',
          url: PLATFORM_URLS.slack,
          console_url: 'http://console.example.com/{jobid}',
          title: '{status} in {region} {region}',
        },
        { name: 'b', type: 'slack', url: PLATFORM_URLS.slack, console_url: 'console', title: ' ' },
        { name: 'c', type: 'slack', url: PLATFORM_URLS.slack, title: 7 },
      ]),
    ).toEqual([
      'dli-watch.config.json: destinations[0].console_url: unknown placeholder {jobid}; the placeholders are {region}, {project_id}, {job_id}, {queue_name}',
      'dli-watch.config.json: destinations[0].console_url: must be https (or http on a loopback host)',
      'dli-watch.config.json: destinations[0].title: unknown placeholder {region}; the placeholders are {status}, {job_id}, {short_job_id}, {queue_name}, {owner}, {job_type}',
      'dli-watch.config.json: destinations[1].console_url: must be an absolute URL',
      'dli-watch.config.json: destinations[1].title: must not be empty (leave it out for the default title)',
      'dli-watch.config.json: destinations[2].title: must be a string',
    ]);
  });
});

describe('every destination problem at once', () => {
  it('lists each problem of every destination in one error', () => {
    const problems = destinationProblems([
      {
        name: 'a',
        type: 'teams',
        url: PLATFORM_URLS.teams,
        events: ['CANCELLED'],
        mute_cancelled: true,
        secret: FEISHU_SECRET,
        queues: [],
        tags: ['team'],
        mentions: { groups: ['g'], everybody: true },
        digest_threshold: 0,
        console_url: 'https://c.example.com/{job}',
        title: '{status} on {queue}',
      },
      {
        name: 'b',
        type: 'webhook',
        url: 'http://example.com/hook',
        owners: [''],
        labels: ['=x'],
        mentions: { users: ['u'] },
        digest_threshold: 5,
      },
      { name: 'c', type: 'dingtalk', url: PLATFORM_URLS.dingtalk, secret: 'not-a-dingtalk-secret' },
    ]);
    const file = 'dli-watch.config.json';
    expect(problems).toEqual([
      `${file}: destinations[0].queues: must list at least one of queue names (leave it out to match any)`,
      `${file}: destinations[0].tags[0]: must be key=value (* matches any run of characters; key=* for any value)`,
      `${file}: destinations[0].mentions.everybody: unknown key; the keys are users, groups, all`,
      `${file}: destinations[0].digest_threshold: must be an integer from 1 to 1000`,
      `${file}: destinations[0].console_url: unknown placeholder {job}; the placeholders are {region}, {project_id}, {job_id}, {queue_name}`,
      `${file}: destinations[0].title: unknown placeholder {queue}; the placeholders are {status}, {job_id}, {short_job_id}, {queue_name}, {owner}, {job_type}`,
      `${file}: destinations[0].mute_cancelled: contradicts events, which lists CANCELLED; keep one of the two`,
      `${file}: destinations[0].secret: is only for webhook, feishu and dingtalk destinations; teams takes no signing secret`,
      `${file}: destinations[0].mentions.groups: is only for slack and discord destinations; teams has no groups to mention`,
      `${file}: destinations[1].url: must be https (or http on a loopback host)`,
      `${file}: destinations[1].owners[0]: must not be empty`,
      `${file}: destinations[1].labels[0]: must be key=value (* matches any run of characters; key=* for any value)`,
      `${file}: destinations[1].mentions: is only for chat destinations (a webhook receiver gets the event data, not a message)`,
      `${file}: destinations[1].digest_threshold: is only for chat destinations (a webhook gets one delivery per event)`,
      `${file}: destinations[2].secret: must start with "SEC" (the signing secret from the robot's security settings)`,
    ]);
  });
});

describe('DLI_WATCH_WEBHOOKS platform inference', () => {
  const shortcutDestinations = (urls: readonly string[]) =>
    loadConfig({ ...BASE_ENV, DLI_WATCH_WEBHOOKS: urls.join(',') }, { cwd: tempDir() }).destinations;

  it('infers every chat platform from its webhook host', () => {
    const cases: [string, string][] = [
      [PLATFORM_URLS.slack, 'slack'],
      [PLATFORM_URLS.teams, 'teams'],
      ['https://prod-01.westeurope.logic.azure.com/workflows/x/triggers/manual/paths/invoke?sig=s', 'teams'],
      [
        'https://default1234abcd.56.environment.api.powerplatform.com:443/powerautomate/automations/direct/workflows/x/triggers/manual/paths/invoke?sig=s',
        'teams',
      ],
      [PLATFORM_URLS.discord, 'discord'],
      ['https://discordapp.com/api/webhooks/5678/legacytoken', 'discord'],
      [PLATFORM_URLS.feishu, 'feishu'],
      ['https://open.larksuite.com/open-apis/bot/v2/hook/larktoken', 'feishu'],
      [PLATFORM_URLS.dingtalk, 'dingtalk'],
      [PLATFORM_URLS.wecom, 'wecom'],
      [PLATFORM_URLS.googlechat, 'googlechat'],
      [PLATFORM_URLS.webhook, 'webhook'],
    ];
    const destinations = shortcutDestinations(cases.map(([url]) => url));
    expect(destinations.map(({ name, type, url }) => ({ name, type, url }))).toEqual(
      cases.map(([url, type]) => ({ name: shortcutName(type, url), type, url })),
    );
    for (const destination of destinations) {
      expect(destination.name).toMatch(/^[a-z]+-[0-9a-f]{8}$/);
      expect(destination.events).toEqual(['FINISHED', 'FAILED', 'CANCELLED', 'LONG_RUNNING']);
    }
    const dingtalk = destinations.find((destination) => destination.type === 'dingtalk');
    expect(dingtalk).toEqual(
      createChatDestination({
        name: shortcutName('dingtalk', PLATFORM_URLS.dingtalk),
        type: 'dingtalk',
        url: PLATFORM_URLS.dingtalk,
      }),
    );
  });

  it('matches hosts exactly, ignoring case and a trailing dot, and Discord only on its webhook path', () => {
    const cases: [string, string][] = [
      ['https://HOOKS.Slack.COM/services/T/B/x', 'slack'],
      ['https://hooks.slack.com./services/T/B/x', 'slack'],
      ['https://hooks.slack.com.evil.example/services/T/B/x', 'webhook'],
      ['https://slack.com/services/T/B/x', 'webhook'],
      ['https://logic.azure.com/workflows/x', 'webhook'],
      ['https://evil-logic.azure.com/workflows/x', 'webhook'],
      ['https://x.logic.azure.com.evil.example/workflows/x', 'webhook'],
      ['https://discord.com/api/v10/channels/1/messages', 'webhook'],
      ['https://evil.example/api/webhooks/1/x', 'webhook'],
      ['https://feishu.cn/open-apis/bot/v2/hook/x', 'webhook'],
      ['http://127.0.0.1:9000/api/webhooks/1/x', 'webhook'],
    ];
    expect(shortcutDestinations(cases.map(([url]) => url)).map((destination) => destination.type)).toEqual(
      cases.map(([, type]) => type),
    );
  });
});
