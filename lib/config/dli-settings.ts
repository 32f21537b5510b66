import * as z from 'zod';
import type { DliAuth } from '../dli/auth.ts';
import { type Env, envValue } from '../util/env.ts';
import { integerSetting, type Problems, readVariable, textSetting } from './problems.ts';
import { HTTPS_OR_LOOPBACK, isHttpsOrLoopbackHttp, parseUrl } from './url-rules.ts';

export interface DliConfig {
  region: string;
  projectId: string;
  /** Origin only (`https://host[:port]`), no trailing slash: API paths are appended to it. */
  endpoint: string;
  auth: DliAuth;
  timeoutMs: number;
  concurrency: number;
  maxRequestsPerSecond: number;
  /**
   * `auto`: read statuses from job-list windows when that takes fewer requests (needs `dli:jobs:list`);
   * `per-job`: one status call per job (needs only `dli:jobs:get`). `DLI_WATCH_STATUS_PLAN`.
   */
  statusPlan: StatusPlanSetting;
}

export const STATUS_PLAN_SETTINGS = ['auto', 'per-job'] as const;
export type StatusPlanSetting = (typeof STATUS_PLAN_SETTINGS)[number];

/**
 * The API gateway in front of DLI allows 200 requests/s per API by default
 * (docs/dli-api.md §3), and other tools of the same team share that budget. 100/s leaves half of it to them and
 * still polls about 6000 jobs in a one-minute cycle.
 */
export const DEFAULT_MAX_RPS = 100;

export const DEFAULT_CONCURRENCY = 8;

export const DEFAULT_DLI_TIMEOUT_MS = 10_000;

const REGION_PATTERN = /^[a-z]{2}-[a-z]+-\d+$/;

const PROJECT_ID_PATTERN = /^[A-Za-z0-9]{1,64}$/;

/**
 * The DLI API origin of a region (docs/dli-api.md §1): `https://dli.{region}.myhuaweicloud.com`, except the
 * European region, which lives under `.eu`.
 */
export function dliEndpointForRegion(region: string): string {
  if (region === 'eu-west-101') return 'https://dli.eu-west-101.myhuaweicloud.eu';
  return `https://dli.${region}.myhuaweicloud.com`;
}

const regionSchema = z
  .string({ error: 'is required (the DLI region, like cn-north-4)' })
  .regex(REGION_PATTERN, 'must be a region name like cn-north-4');

const projectIdSchema = z
  .string()
  .regex(PROJECT_ID_PATTERN, 'must be 1 to 64 letters and digits')
  // serverless.yml's default, so that `serverless package` works with no parameters: never a real project.
  .refine(
    (text) => !/^0+$/.test(text),
    'is the all-zero placeholder, not a project id; set your project id (deploying with serverless.yml: the dliProjectId parameter, --param dliProjectId=<id>)',
  );

/** A `DLI_ENDPOINT` override as the origin API paths are appended to, or why it cannot be one. */
function parseEndpoint(text: string): { origin: string } | { problem: string } {
  const url = parseUrl(text);
  if (!url) return { problem: 'must be an absolute URL like https://dli.cn-north-4.myhuaweicloud.com' };
  if (!isHttpsOrLoopbackHttp(url)) return { problem: HTTPS_OR_LOOPBACK };
  if (
    url.pathname !== '/' ||
    url.search !== '' ||
    url.hash !== '' ||
    url.username !== '' ||
    url.password !== ''
  ) {
    return { problem: 'must be just scheme, host and port, with no path, query, fragment or credentials' };
  }
  return { origin: url.origin };
}

const endpointSchema = z.string().transform((text, context) => {
  const endpoint = parseEndpoint(text);
  if ('origin' in endpoint) return endpoint.origin;
  context.addIssue({ code: 'custom', message: endpoint.problem });
  return z.NEVER;
});

const timeoutMsSchema = integerSetting(100, 120_000);

const statusPlanSchema = textSetting(
  (text) => STATUS_PLAN_SETTINGS.find((setting) => setting === text),
  `must be ${STATUS_PLAN_SETTINGS.join(' or ')}`,
);

const concurrencySchema = integerSetting(1, 256);

const maxRpsSchema = textSetting((text) => {
  const value = /^(\d{1,9}(\.\d+)?|\.\d+)$/.test(text) ? Number(text) : Number.NaN;
  return value > 0 && value <= 10_000 ? value : undefined;
}, 'must be a number greater than 0 and at most 10000');

// A header value must be visible ASCII; a stray space or CR from a pasted key would fail every signature, and
// five failures in a row can lock the key (docs/dli-api.md §3), so refuse it up front.
const credentialSchema = z
  .string()
  .regex(/^[\x21-\x7e]+$/, 'must not contain spaces, control characters or non-ASCII characters');

/**
 * The variable the project id is read from: `DLI_PROJECT_ID`, else `HUAWEICLOUD_SDK_PROJECT_ID`; none when neither
 * is set.
 */
export function projectIdVariableOf(env: Env): 'DLI_PROJECT_ID' | 'HUAWEICLOUD_SDK_PROJECT_ID' | undefined {
  if (envValue(env, 'DLI_PROJECT_ID') !== undefined) return 'DLI_PROJECT_ID';
  if (envValue(env, 'HUAWEICLOUD_SDK_PROJECT_ID') !== undefined) return 'HUAWEICLOUD_SDK_PROJECT_ID';
  return undefined;
}

export function readDliConfig(env: Env, problems: Problems): DliConfig | undefined {
  const region = readVariable(env, 'DLI_REGION', regionSchema, problems);

  const projectIdVariable = projectIdVariableOf(env);
  if (projectIdVariable === undefined) {
    problems.add(
      'DLI_PROJECT_ID',
      'is required (or HUAWEICLOUD_SDK_PROJECT_ID): the project id, 1 to 64 letters and digits',
    );
  }
  const projectId =
    projectIdVariable === undefined
      ? undefined
      : readVariable(env, projectIdVariable, projectIdSchema, problems);

  const endpointOverride = readVariable(env, 'DLI_ENDPOINT', endpointSchema.optional(), problems);
  const auth = readAuth(env, problems);
  const timeoutMs = readVariable(
    env,
    'DLI_WATCH_DLI_TIMEOUT_MS',
    timeoutMsSchema,
    problems,
    String(DEFAULT_DLI_TIMEOUT_MS),
  );
  const concurrency = readVariable(
    env,
    'DLI_WATCH_CONCURRENCY',
    concurrencySchema,
    problems,
    String(DEFAULT_CONCURRENCY),
  );
  const maxRequestsPerSecond = readVariable(
    env,
    'DLI_WATCH_MAX_RPS',
    maxRpsSchema,
    problems,
    String(DEFAULT_MAX_RPS),
  );

  const statusPlan = readVariable(env, 'DLI_WATCH_STATUS_PLAN', statusPlanSchema, problems, 'auto');

  if (
    region === undefined ||
    projectId === undefined ||
    auth === undefined ||
    statusPlan === undefined ||
    timeoutMs === undefined ||
    concurrency === undefined ||
    maxRequestsPerSecond === undefined
  ) {
    return undefined;
  }
  return {
    region,
    projectId,
    endpoint: endpointOverride ?? dliEndpointForRegion(region),
    auth,
    timeoutMs,
    concurrency,
    maxRequestsPerSecond,
    statusPlan,
  };
}

const AK = 'HUAWEICLOUD_SDK_AK';

const SK = 'HUAWEICLOUD_SDK_SK';

const SECURITY_TOKEN = 'HUAWEICLOUD_SDK_SECURITY_TOKEN';

const AUTH_TOKEN = 'DLI_AUTH_TOKEN';
/** What the problem of no DLI credentials at all is filed under. */
const NO_CREDENTIALS_SETTING = `${AK}/${SK} or ${AUTH_TOKEN}`;

/** Whether a configuration problem is only that no DLI credentials are set: what `dli-watch check` can do without. */
export function isNoCredentialsProblem(problem: string): boolean {
  return problem.startsWith(`${NO_CREDENTIALS_SETTING}: `);
}

/** Exactly one method: AK/SK (optionally with a security token, for temporary credentials) or an IAM token. */
function readAuth(env: Env, problems: Problems): DliAuth | undefined {
  for (const name of [AK, SK, SECURITY_TOKEN, AUTH_TOKEN]) problems.secret(envValue(env, name));
  const problemsBefore = problems.count();

  const hasAccessKey = envValue(env, AK) !== undefined;
  const hasSecretKey = envValue(env, SK) !== undefined;
  const hasSecurityToken = envValue(env, SECURITY_TOKEN) !== undefined;
  const hasToken = envValue(env, AUTH_TOKEN) !== undefined;

  const accessKey = readVariable(env, AK, credentialSchema.optional(), problems);
  const secretKey = readVariable(env, SK, credentialSchema.optional(), problems);
  const securityToken = readVariable(env, SECURITY_TOKEN, credentialSchema.optional(), problems);
  const token = readVariable(env, AUTH_TOKEN, credentialSchema.optional(), problems);

  if (hasToken && (hasAccessKey || hasSecretKey)) {
    problems.add(AUTH_TOKEN, `cannot be combined with ${AK}/${SK}; use one authentication method`);
  }
  if (hasAccessKey && !hasSecretKey) problems.add(SK, `is required when ${AK} is set`);
  if (hasSecretKey && !hasAccessKey) problems.add(AK, `is required when ${SK} is set`);
  if (hasSecurityToken && !hasAccessKey && !hasSecretKey) {
    problems.add(SECURITY_TOKEN, `is only used with ${AK} and ${SK} (temporary credentials); set those too`);
  }
  if (!hasAccessKey && !hasSecretKey && !hasToken && !hasSecurityToken) {
    problems.add(
      NO_CREDENTIALS_SETTING,
      `no DLI credentials; set ${AK} and ${SK} (plus ${SECURITY_TOKEN} for temporary credentials), or ${AUTH_TOKEN}`,
    );
  }

  if (problems.count() > problemsBefore) return undefined;
  if (accessKey !== undefined && secretKey !== undefined) {
    return { kind: 'aksk', accessKey, secretKey, securityToken: securityToken ?? null };
  }
  return token === undefined ? undefined : { kind: 'token', token };
}
