import { execFile } from 'node:child_process';
import { access, constants, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The package as a user gets it: `npm pack` (which builds dist/ through `prepack`), then a global install of the
 * tarball into a prefix outside the repository, then the installed `dli-watch` run from a directory of its own.
 * Nothing of the repository is on the way: no `node_modules`, no TypeScript sources.
 */

const PROJECT_ROOT = resolve(import.meta.dirname, '../..');
const execFileAsync = promisify(execFile);

interface Exit {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end; a non-zero exit is returned, not thrown. */
async function runCommand(
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; timeout?: number },
): Promise<Exit> {
  try {
    const { stdout, stderr } = await execFileAsync(command, args, {
      ...options,
      timeout: options.timeout ?? 30_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof failed.code !== 'number') throw error;
    return { code: failed.code, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

/** PATH with `directory` first, so that npm, the build it runs and the bin's `env node` all find that Node. */
function pathWith(directory: string): string {
  return [directory, process.env.PATH ?? ''].join(delimiter);
}

/** A Node older than 24 on this machine (the system one, typically), to see the version check at work. */
async function findOldNode(): Promise<{ path: string; version: string } | undefined> {
  const directories = [...(process.env.PATH ?? '').split(delimiter), '/usr/local/bin', '/usr/bin'];
  for (const directory of new Set(directories.filter(Boolean))) {
    const candidate = join(directory, 'node');
    try {
      await access(candidate, constants.X_OK);
      const { stdout } = await execFileAsync(candidate, ['--version'], { timeout: 10_000 });
      const version = stdout.trim();
      if (Number(/^v(\d+)\./.exec(version)?.[1]) < 24) return { path: candidate, version };
    } catch {
      // Not there, or not a Node that runs: try the next.
    }
  }
  return undefined;
}

const packageJson = JSON.parse(await readFile(join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
  version: string;
  engines: { node: string };
  dependencies?: Record<string, string>;
};
const oldNode = await findOldNode();
const node24Env: NodeJS.ProcessEnv = { ...process.env, PATH: pathWith(dirname(process.execPath)) };

let scratch: string;
let tarball: string;
let prefix: string;
let elsewhere: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'dli-watch-package-'));
  prefix = join(scratch, 'prefix');
  elsewhere = join(scratch, 'elsewhere');
  await mkdir(elsewhere);

  const packed = await runCommand('npm', ['pack', '--pack-destination', scratch], {
    cwd: PROJECT_ROOT,
    env: node24Env,
    timeout: 60_000,
  });
  expect(packed.code, packed.stderr).toBe(0);
  const tarballs = (await readdir(scratch)).filter((name) => name.endsWith('.tgz'));
  expect(tarballs).toHaveLength(1);
  tarball = join(scratch, tarballs[0] ?? '');

  // The tarball has no dependencies, so the install needs no registry.
  const installed = await runCommand(
    'npm',
    ['install', '--global', '--prefix', prefix, tarball, '--offline', '--no-audit', '--no-fund'],
    { cwd: elsewhere, env: node24Env, timeout: 60_000 },
  );
  expect(installed.code, installed.stderr).toBe(0);
}, 120_000);

afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

/** Runs the installed `dli-watch` (through its shebang) from a directory outside the repository. */
function installedCli(args: string[], path = node24Env.PATH, timeout?: number): Promise<Exit> {
  // Only PATH: the installed command must need nothing from the environment the tests run in.
  return runCommand(join(prefix, 'bin', 'dli-watch'), args, {
    cwd: elsewhere,
    env: { PATH: path },
    ...(timeout === undefined ? {} : { timeout }),
  });
}

describe('the npm package', () => {
  it('holds only the bundle, its licenses, the configuration schema, README.md, LICENSE and package.json, and depends on nothing', async () => {
    const { stdout } = await execFileAsync('tar', ['-tzf', tarball]);
    const files = stdout
      .split('\n')
      .filter(Boolean)
      .map((entry) => entry.replace(/^package\//, ''))
      .sort();
    expect(files).toEqual([
      'LICENSE',
      'README.md',
      'dist/dli-watch.js',
      'dist/third-party-licenses.txt',
      'package.json',
      // For a configuration file's `$schema` (lib/config/json-schema.ts).
      'schema/config.schema.json',
    ]);
    expect(packageJson.dependencies).toBeUndefined();
    await expect(access(join(prefix, 'lib', 'node_modules', 'dli-watch', 'node_modules'))).rejects.toThrow();
  });

  it('--version prints the version of package.json', async () => {
    const { code, stdout, stderr } = await installedCli(['--version']);
    expect(code, stderr).toBe(0);
    expect(stdout).toContain(packageJson.version);
  });

  it('--help prints the usage', async () => {
    const { code, stdout, stderr } = await installedCli(['--help']);
    expect(code, stderr).toBe(0);
    expect(stdout).toContain('Usage: dli-watch <command> [options]');
  });

  it('demo runs to its end', async () => {
    const { code, stdout, stderr } = await installedCli(['demo'], node24Env.PATH, 25_000);
    expect(code, stderr).toBe(0);
    expect(stdout).toContain('every message was delivered');
  });

  it('asks for the Node 24 that package.json "engines" names', async () => {
    const launcher = await readFile(join(PROJECT_ROOT, 'bin', 'dli-watch.js'), 'utf8');
    const required = /REQUIRED_NODE_MAJOR = (\d+);/.exec(launcher)?.[1];
    expect(packageJson.engines.node).toBe(`>=${required}`);
  });

  it.skipIf(oldNode === undefined)(
    `on ${oldNode?.version ?? 'an older Node'}, the bundle and the sources say so in one line and exit 2`,
    async () => {
      if (oldNode === undefined) return;
      const expected = `dli-watch needs Node.js 24 or later; this is Node.js ${oldNode.version}.\n`;
      // The old Node first in PATH: the installed command's `#!/usr/bin/env node` picks it, as on a user's machine.
      const installed = await installedCli(['--help'], pathWith(dirname(oldNode.path)));
      expect(installed).toEqual({ code: 2, stdout: '', stderr: expected });
      const sources = await runCommand(oldNode.path, [join(PROJECT_ROOT, 'bin', 'dli-watch.js'), '--help'], {
        cwd: elsewhere,
        env: { PATH: pathWith(dirname(oldNode.path)) },
      });
      expect(sources).toEqual({ code: 2, stdout: '', stderr: expected });
    },
  );
});
