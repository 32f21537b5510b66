/** The systemd unit the README shows (docs/dli-watch.service), checked by systemd itself where it is installed. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const UNIT = readFileSync(join(ROOT, 'docs/dli-watch.service'), 'utf8');
const hasSystemdAnalyze = spawnSync('systemd-analyze', ['--version'], { stdio: 'ignore' }).status === 0;

describe('docs/dli-watch.service', () => {
  it('runs the installed binary, not npx, stops with SIGTERM and is not restarted on exit 2, 3 or 4', () => {
    expect(UNIT).toMatch(/^ExecStart=\/usr\/local\/bin\/dli-watch run .*--health-file /m);
    expect(UNIT).not.toMatch(/^ExecStart=.*npx/m);
    expect(UNIT).toMatch(/^KillSignal=SIGTERM$/m);
    expect(UNIT).toMatch(/^RestartPreventExitStatus=2 3 4$/m);
  });

  it.skipIf(!hasSystemdAnalyze)('passes systemd-analyze verify', () => {
    const directory = mkdtempSync(join(tmpdir(), 'dli-watch-unit-'));
    try {
      // The one change: a binary that exists on this machine, since verify checks ExecStart is executable.
      const unit = join(directory, 'dli-watch.service');
      writeFileSync(unit, UNIT.replace('/usr/local/bin/dli-watch', join(ROOT, 'bin/dli-watch.js')));
      const verified = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8' });
      // Any warning (an unknown key, a missing binary) is printed on stderr.
      expect(verified.stderr).toBe('');
      expect(verified.status).toBe(0);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
