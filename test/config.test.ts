import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ConfigError,
  DEFAULT_MAX_RPS,
  dliEndpointForRegion,
  isLoopbackHost,
  loadConfig,
  loadStoreConfig,
} from '../lib/config.ts';

type Env = Record<string, string | undefined>;

const PROJECT_ID = '0123456789abcdef0123456789abcdef';
const BASE_ENV: Env = {
  DLI_REGION: 'cn-north-4',
  DLI_PROJECT_ID: PROJECT_ID,
  HUAWEICLOUD_SDK_AK: 'AKEXAMPLE',
  HUAWEICLOUD_SDK_SK: 'SKEXAMPLE',
};
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
      },
      destinations: [],
      consoleUrlTemplate: 'https://console.huaweicloud.com/dli/?region={region}#/main/jobs/sql',
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
      },
      { cwd: tempDir() },
    );
    expect(config.dli).toMatchObject({ concurrency: 256, maxRequestsPerSecond: 0.5, timeoutMs: 120_000 });
    expect(config.logLevel).toBe('debug');
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
    expect(loadStoreConfig({ DLI_WATCH_STORE: 'sqlite:data/jobs.db' }, { cwd }).store.path).toBe(
      join(cwd, 'data', 'jobs.db'),
    );
    const absolute = join(tempDir(), 'state.db');
    expect(loadStoreConfig({ DLI_WATCH_STORE: `sqlite:${absolute}` }, { cwd }).store.path).toBe(absolute);
  });

  it('refuses other schemes, naming the accepted forms', () => {
    const dynamo = configError(() =>
      loadStoreConfig({ DLI_WATCH_STORE: 'dynamodb:jobs' }, { cwd: tempDir() }),
    );
    expect(dynamo.problems).toEqual([
      'DLI_WATCH_STORE: dynamodb:<table> is not supported yet; use sqlite:<path>',
    ]);
    const other = configError(() =>
      loadStoreConfig(
        { DLI_WATCH_STORE: 'postgres://u:p@db/x', DLI_WATCH_LOG_LEVEL: 'loud' },
        { cwd: tempDir() },
      ),
    );
    expect(other.problems).toEqual([
      'DLI_WATCH_STORE: must be sqlite:<path> (dynamodb:<table> is not supported yet)',
      'DLI_WATCH_LOG_LEVEL: must be one of debug, info, warn, error',
    ]);
    expect(other.message).toBe(other.problems.join('\n'));
    expect(problemsOf({ ...BASE_ENV, DLI_WATCH_STORE: 'sqlite:' })).toEqual([
      'DLI_WATCH_STORE: sqlite: needs a file path (sqlite:<path>)',
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
        { name: 'bad name!', type: 'teams', url: 'http://example.com/hook', events: [] },
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
        events: ['FINISHED', 'FAILED', 'CANCELLED'],
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
        events: ['FINISHED', 'FAILED', 'CANCELLED'],
      },
      {
        name: 'audit',
        type: 'webhook',
        url: 'https://hooks.example.com/dli',
        events: ['FINISHED', 'FAILED', 'CANCELLED'],
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
      'dli-watch.config.json: destinations[0].event: unknown key; the keys are name, type, url, events, secret',
      'dli-watch.config.json: destinatons: unknown key; the keys are destinations, console_url',
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
      'dli-watch.config.json: destinations[0].events[1]: must be one of FINISHED, FAILED, CANCELLED',
      `dli-watch.config.json: destinations[0].secret: ${secretRule}`,
      `dli-watch.config.json: destinations[1].secret: ${secretRule}`,
      `dli-watch.config.json: destinations[2].secret: ${secretRule}`,
      'dli-watch.config.json: destinations[3].secret: is only for webhook destinations (Slack does not sign its incoming webhooks)',
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
        events: ['FINISHED', 'FAILED', 'CANCELLED'],
      },
      {
        name: shortcutName('webhook', HOOK_URL),
        type: 'webhook',
        url: HOOK_URL,
        events: ['FINISHED', 'FAILED', 'CANCELLED'],
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

    expect(error.problems.length).toBeGreaterThanOrEqual(10);
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
      'dli-watch.config.json: destinations[3]: has an unknown key (not shown); the keys are name, type, url, events, secret',
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
