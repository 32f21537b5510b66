import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig as loadConfigFromLib } from '../../lib/config/config.ts';
import { ConfigError } from '../../lib/config/problems.ts';
import { loadRuntimeSecrets, SecretsError } from '../../lib/run/ssm-secrets.ts';
import { createWatcherProvider } from '../../lib/run/watcher.ts';
import { SqliteStore } from '../../lib/store/sqlite-store.ts';
import { silentLog } from '../../lib/util/log.ts';
import { createFakeSsm, fakeSsmEnv } from '../support/ssm.ts';

const ssm = createFakeSsm();
const savedEnv = { ...process.env };
const SECRET_KEY = 'SK-secrets-test-0123456789';
const WEBHOOK_URL = 'https://hooks.slack.com/services/T1/B1/secret-webhook-path';
const destinationsJson = (url: string) =>
  JSON.stringify({ destinations: [{ name: 'team', type: 'slack', url }] });
const directory = mkdtempSync(join(tmpdir(), 'dli-watch-secrets-'));

/** Names a fresh pair of parameters, so Powertools' cache from one test never answers another. */
let pairs = 0;
function parameterPair(credentials: string, destinations = destinationsJson(WEBHOOK_URL)) {
  pairs += 1;
  const names = { credentials: `/dli-watch/test${pairs}/dli`, destinations: `/dli-watch/test${pairs}/dest` };
  ssm.put(names.credentials, credentials);
  ssm.put(names.destinations, destinations);
  return {
    names,
    env: {
      DLI_WATCH_DLI_CREDENTIALS_PARAMETER: names.credentials,
      DLI_WATCH_DESTINATIONS_PARAMETER: names.destinations,
    },
  };
}

const baseEnv = {
  DLI_REGION: 'cn-north-4',
  DLI_PROJECT_ID: 'abcdef0123456789abcdef0123456789',
  DLI_WATCH_CONFIG: '',
};

beforeAll(async () => {
  Object.assign(process.env, fakeSsmEnv(await ssm.start()));
});

afterAll(async () => {
  process.env = savedEnv;
  await ssm.close();
  rmSync(directory, { recursive: true, force: true });
});

describe('loadRuntimeSecrets', () => {
  it('returns nothing without the parameter variables, so the CLI keeps its environment', async () => {
    expect(await loadRuntimeSecrets({ HUAWEICLOUD_SDK_SK: 'from-env' })).toBeUndefined();
    expect(ssm.requests).toHaveLength(0);
  });

  it('turns AK/SK credentials and destinations into an env overlay and the config text', async () => {
    const { env, names } = parameterPair(
      JSON.stringify({ ak: 'AK1', sk: SECRET_KEY, security_token: 'ST-1' }),
    );
    const secrets = await loadRuntimeSecrets(env);
    expect(secrets?.env).toEqual({
      HUAWEICLOUD_SDK_AK: 'AK1',
      HUAWEICLOUD_SDK_SK: SECRET_KEY,
      HUAWEICLOUD_SDK_SECURITY_TOKEN: 'ST-1',
      DLI_AUTH_TOKEN: '',
    });
    expect(secrets?.configText).toBe(destinationsJson(WEBHOOK_URL));
    // SecureStrings are only readable decrypted.
    expect(ssm.requests.filter((request) => request.name === names.credentials)).toEqual([
      { target: 'AmazonSSM.GetParameter', name: names.credentials, withDecryption: true },
    ]);

    // The overlay feeds the ordinary configuration, validation included; a stray token in env is blanked.
    const config = loadConfig(secrets, { ...baseEnv, DLI_AUTH_TOKEN: 'stale-token-from-env' });
    expect(config.dli.auth).toEqual({
      kind: 'aksk',
      accessKey: 'AK1',
      secretKey: SECRET_KEY,
      securityToken: 'ST-1',
    });
    expect(config.destinations.map((destination) => destination.name)).toEqual(['team']);
  });

  it('accepts an IAM token instead of AK/SK', async () => {
    const { env } = parameterPair(JSON.stringify({ auth_token: 'iam-token-value-123' }));
    const secrets = await loadRuntimeSecrets(env);
    expect(loadConfig(secrets, baseEnv).dli.auth).toEqual({ kind: 'token', token: 'iam-token-value-123' });
  });

  it('names a missing parameter and shows no value', async () => {
    const { env, names } = parameterPair(JSON.stringify({ ak: 'AK1', sk: SECRET_KEY }));
    ssm.delete(names.destinations);
    const error = await loadRuntimeSecrets(env).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SecretsError);
    expect((error as Error).message).toBe(`SSM parameter ${names.destinations} does not exist`);
  });

  it('names a malformed credentials parameter without quoting it', async () => {
    for (const malformed of [
      `{"ak":"AK1","sk":"${SECRET_KEY}"`,
      JSON.stringify({ ak: 'AK1', secret: SECRET_KEY }),
    ]) {
      const { env, names } = parameterPair(malformed);
      const error = await loadRuntimeSecrets(env).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(SecretsError);
      expect((error as Error).message).toContain(names.credentials);
      expect((error as Error).message).not.toContain(SECRET_KEY);
      expect((error as Error).cause).toBeUndefined();
    }
  });

  it('reports problems in the destinations under the parameter name, without the webhook URL', async () => {
    const { env, names } = parameterPair(
      JSON.stringify({ ak: 'AK1', sk: SECRET_KEY }),
      JSON.stringify({ destinations: [{ name: 'team', type: 'slack', url: WEBHOOK_URL, colour: 'red' }] }),
    );
    const secrets = await loadRuntimeSecrets(env);
    const error = (() => {
      try {
        loadConfig(secrets, baseEnv);
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      expect.stringMatching(new RegExp(`^${names.destinations}: destinations\\[0\\]\\.colour: unknown key`)),
    ]);
    expect((error as Error).message).not.toContain('secret-webhook-path');
    expect((error as Error).message).not.toContain(SECRET_KEY);
  });

  it('requires both parameter variables once one is set', async () => {
    await expect(loadRuntimeSecrets({ DLI_WATCH_DLI_CREDENTIALS_PARAMETER: '/x' })).rejects.toThrow(
      /^DLI_WATCH_DESTINATIONS_PARAMETER: is required/,
    );
    await expect(
      loadRuntimeSecrets({ ...parameterPair('{}').env, DLI_WATCH_SECRETS_MAX_AGE_SECONDS: 'soon' }),
    ).rejects.toThrow(/^DLI_WATCH_SECRETS_MAX_AGE_SECONDS: must be an integer/);
  });

  it('reuses fetched values for the max age, and sees a rotation once it is 0 or a fetch is forced', async () => {
    const { env, names } = parameterPair(JSON.stringify({ ak: 'AK1', sk: 'SK-before-rotation' }));
    const fetches = () => ssm.requests.filter((request) => request.name === names.credentials).length;
    const cached = { ...env, DLI_WATCH_SECRETS_MAX_AGE_SECONDS: '300' };
    expect((await loadRuntimeSecrets(cached))?.env.HUAWEICLOUD_SDK_SK).toBe('SK-before-rotation');

    ssm.put(names.credentials, JSON.stringify({ ak: 'AK1', sk: 'SK-after-rotation' }));
    const stale = await loadRuntimeSecrets(cached);
    expect(stale?.env.HUAWEICLOUD_SDK_SK).toBe('SK-before-rotation');
    expect(fetches()).toBe(1);

    const forced = await loadRuntimeSecrets(cached, { forceFetch: true });
    expect(forced?.env.HUAWEICLOUD_SDK_SK).toBe('SK-after-rotation');
    expect(forced?.fingerprint).not.toBe(stale?.fingerprint);
    expect(fetches()).toBe(2);

    // A new pair: an entry cached under 300 s stays until it expires, whatever later calls ask for.
    const fresh = parameterPair(JSON.stringify({ ak: 'AK1', sk: 'SK-first' }));
    const uncached = { ...fresh.env, DLI_WATCH_SECRETS_MAX_AGE_SECONDS: '0' };
    expect((await loadRuntimeSecrets(uncached))?.env.HUAWEICLOUD_SDK_SK).toBe('SK-first');
    ssm.put(fresh.names.credentials, JSON.stringify({ ak: 'AK1', sk: 'SK-second' }));
    expect((await loadRuntimeSecrets(uncached))?.env.HUAWEICLOUD_SDK_SK).toBe('SK-second');
    expect(ssm.requests.filter((request) => request.name === fresh.names.credentials)).toHaveLength(2);
  });
});

describe('createWatcherProvider', () => {
  it('keeps its watcher while the secrets stay, and rebuilds it on the same store when they rotate', async () => {
    const { env, names } = parameterPair(JSON.stringify({ ak: 'AK1', sk: 'SK-provider-one' }));
    let opened = 0;
    const provider = createWatcherProvider({
      env: {
        ...baseEnv,
        ...env,
        DLI_WATCH_SECRETS_MAX_AGE_SECONDS: '0',
        DLI_WATCH_STORE: `sqlite:${join(directory, 'state.db')}`,
      },
      cwd: directory,
      log: silentLog,
      loadSecrets: loadRuntimeSecrets,
      openStore: async (config) => {
        opened += 1;
        return SqliteStore.open(config.kind === 'sqlite' ? config.path : '');
      },
    });
    const first = await provider.current();
    expect(await provider.current()).toBe(first);

    ssm.put(names.credentials, JSON.stringify({ ak: 'AK1', sk: 'SK-provider-two' }));
    const rotated = await provider.current();
    expect(rotated.watcher).not.toBe(first.watcher);
    expect(rotated.config.dli.auth).toMatchObject({ secretKey: 'SK-provider-two' });
    expect(rotated.watcher.store).toBe(first.watcher.store);
    expect(opened).toBe(1);
    await rotated.watcher.store.close();
  });
});

/** The configuration the Lambda would build from these secrets over `env`. */
function loadConfig(secrets: Awaited<ReturnType<typeof loadRuntimeSecrets>>, env: Record<string, string>) {
  if (secrets === undefined) throw new Error('expected secrets');
  return loadConfigFromLib(
    { ...env, ...secrets.env },
    { cwd: directory, configText: secrets.configText, configLabel: secrets.configLabel },
  );
}
