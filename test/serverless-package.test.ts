import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliNodeFlags } from '../lib/cli/node-flags.ts';

const run = promisify(execFile);
const projectRoot = join(import.meta.dirname, '..');
const output = mkdtempSync(join(tmpdir(), 'dli-watch-package-'));

interface Template {
  Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
}
let template: Template;

beforeAll(async () => {
  // Offline and without AWS credentials, as in CI: osls must not need either to package.
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SLS_TELEMETRY_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
  };
  for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE'])
    delete env[name];
  await run(
    join(projectRoot, 'node_modules/.bin/serverless'),
    ['package', '--stage', 'ci', '--package', output],
    {
      cwd: projectRoot,
      env,
      timeout: 120_000,
    },
  );
  template = JSON.parse(
    readFileSync(join(output, 'cloudformation-template-update-stack.json'), 'utf8'),
  ) as Template;
}, 150_000);

afterAll(() => rmSync(output, { recursive: true, force: true }));

function resourcesOfType(type: string) {
  return Object.values(template.Resources).filter((resource) => resource.Type === type);
}

describe('npx serverless package', () => {
  it('packages the poll function for nodejs24.x on arm64 from the esbuild bundle', () => {
    const [poll] = resourcesOfType('AWS::Lambda::Function');
    expect(poll?.Properties).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'handlers/poll.handler',
    });
    // The cycle reserves about 71 s for a job started at the last moment and runs at most 50 s.
    expect(poll?.Properties.Timeout).toBeGreaterThanOrEqual(121);
  });

  it('gives the function the same heap flags as the CLI', () => {
    const [poll] = resourcesOfType('AWS::Lambda::Function');
    const environment = poll?.Properties.Environment as { Variables: Record<string, string> } | undefined;
    expect(environment?.Variables.NODE_OPTIONS).toBe(cliNodeFlags().join(' '));
  });

  it('runs it every minute on an EventBridge schedule', () => {
    const rules = resourcesOfType('AWS::Events::Rule');
    expect(rules.map((rule) => rule.Properties.ScheduleExpression)).toEqual(['rate(1 minute)']);
  });
});
