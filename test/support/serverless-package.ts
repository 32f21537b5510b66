import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const projectRoot = join(import.meta.dirname, '../..');

/** The slice of a CloudFormation template the tests read. */
export interface Template {
  Conditions?: Record<string, unknown>;
  Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
}

/**
 * Runs `serverless package --stage <stage> [--param=name=value …]` into `output` offline and without AWS credentials, as in CI (osls
 * must need neither), and returns the generated CloudFormation template. The function zips are left in
 * `output` as `<function>.zip`.
 */
export async function packageService(
  output: string,
  stage = 'ci',
  params: Record<string, string> = {},
): Promise<Template> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SLS_TELEMETRY_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
  };
  for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE'])
    delete env[name];
  await run(
    join(projectRoot, 'node_modules/.bin/serverless'),
    [
      'package',
      '--stage',
      stage,
      '--package',
      output,
      ...Object.entries(params).map(([name, value]) => `--param=${name}=${value}`),
    ],
    { cwd: projectRoot, env, timeout: 120_000 },
  );
  return JSON.parse(
    readFileSync(join(output, 'cloudformation-template-update-stack.json'), 'utf8'),
  ) as Template;
}

/**
 * The environment the template gives a Lambda function resource (`Resources.PollLambdaFunction`, …). Values
 * CloudFormation would work out at deploy time (none today) are not strings and are left out.
 */
export function functionEnvironment(
  resource: Template['Resources'][string] | undefined,
): Record<string, string> {
  const variables = (resource?.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)
    ?.Variables;
  return Object.fromEntries(
    Object.entries(variables ?? {}).filter(
      (entry): entry is [string, string] => typeof entry[1] === 'string',
    ),
  );
}
