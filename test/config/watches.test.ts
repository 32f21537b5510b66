import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config/config.ts';
import { ConfigError } from '../../lib/config/problems.ts';
import { parseSince } from '../../lib/config/watches.ts';

const BASE_ENV = {
  DLI_REGION: 'cn-north-4',
  DLI_PROJECT_ID: '0123456789abcdef0123456789abcdef',
  HUAWEICLOUD_SDK_AK: 'AKEXAMPLE',
  HUAWEICLOUD_SDK_SK: 'SKEXAMPLE',
};

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function withFile(content: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'dli-watch-watches-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'dli-watch.config.json'), JSON.stringify(content));
  return dir;
}

function problems(env: Record<string, string>, cwd: string): string[] {
  try {
    loadConfig(env, { cwd });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected the configuration to be refused');
}

describe('watches in the configuration file', () => {
  it('reads every filter, the labels and since', () => {
    const cwd = withFile({
      watches: [
        { name: 'etl', queues: ['etl_*'], labels: { team: 'data' } },
        {
          name: 'finance-failures',
          owners: ['fin_*'],
          job_types: ['INSERT', 'QUERY'],
          tags: ['team=finance'],
          sql_pattern: 'insert into *ledger',
          since: '6h',
          warn_after: '2h',
          key: { tag: 'pipeline' },
        },
        { name: 'everything', since: '2026-11-30T08:00:00Z', key: { sql_fingerprint: true } },
      ],
    });
    const { watches } = loadConfig(BASE_ENV, { cwd });
    expect(watches).toEqual([
      {
        name: 'etl',
        queues: ['etl_*'],
        owners: null,
        jobTypes: null,
        tags: null,
        sqlPattern: null,
        labels: { team: 'data' },
        since: null,
        warnAfterMs: null,
        keyFrom: null,
      },
      {
        name: 'finance-failures',
        queues: null,
        owners: ['fin_*'],
        jobTypes: ['INSERT', 'QUERY'],
        tags: ['team=finance'],
        sqlPattern: 'insert into *ledger',
        labels: {},
        since: { kind: 'before-first-cycle', ms: 6 * 3_600_000 },
        warnAfterMs: 2 * 3_600_000,
        keyFrom: { from: 'tag', name: 'pipeline' },
      },
      {
        name: 'everything',
        queues: null,
        owners: null,
        jobTypes: null,
        tags: null,
        sqlPattern: null,
        labels: {},
        since: { kind: 'at', at: Date.parse('2026-11-30T08:00:00Z') },
        warnAfterMs: null,
        keyFrom: { from: 'sql' },
      },
    ]);
  });

  it('refuses a bad watch with every problem, naming where each is', () => {
    const cwd = withFile({
      watches: [
        { name: 'etl', queues: [], colour: 'red' },
        { name: 'etl', tags: ['finance'], labels: { watch: 'x' }, since: 'yesterday' },
        { queues: ['a'] },
      ],
    });
    const found = problems(BASE_ENV, cwd);
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/watches\[0\]\.queues: must list at least one of queue names/),
        expect.stringMatching(/watches\[0\]\.colour: unknown key; the keys are name, queues, owners/),
        expect.stringMatching(/watches\[1\]\.name: the name etl is already used by watches\[0\]\.name/),
        expect.stringMatching(/watches\[1\]\.tags\[0\]: must be key=value/),
        expect.stringMatching(/watches\[1\]\.labels\.watch: is set by the watch itself/),
        expect.stringMatching(/watches\[1\]\.since: must be an ISO 8601 time with a time zone/),
        expect.stringMatching(/watches\[2\]\.name: required/),
      ]),
    );
    expect(found).toHaveLength(7);
  });

  it('refuses a bad threshold or run key, naming what is wrong', () => {
    const cwd = withFile({
      watches: [
        { name: 'a', warn_after: '2 hours', key: { tag: 'pipeline', label: 'team' } },
        { name: 'b', key: { sql_fingerprint: false } },
        { name: 'c', key: 'pipeline' },
      ],
    });
    expect(problems(BASE_ENV, cwd)).toEqual([
      expect.stringMatching(/watches\[0\]\.warn_after: must be a whole number of at least 1 and a unit/),
      expect.stringMatching(/watches\[0\]\.key: must name exactly one of tag, label and sql_fingerprint/),
      expect.stringMatching(/watches\[1\]\.key\.sql_fingerprint: must be true/),
      expect.stringMatching(
        /watches\[2\]\.key: must be \{"tag": "<tag key>"\}, \{"label": "<label key>"\} or/,
      ),
    ]);
  });

  it('makes one watch of DLI_WATCH_QUEUES, and refuses a file watch of the same name', () => {
    const { watches } = loadConfig(
      { ...BASE_ENV, DLI_WATCH_QUEUES: 'etl_*, bi_reports,' },
      { cwd: withFile({}) },
    );
    expect(watches).toEqual([expect.objectContaining({ name: 'queues', queues: ['etl_*', 'bi_reports'] })]);
    expect(problems({ ...BASE_ENV, DLI_WATCH_QUEUES: ' , ' }, withFile({}))).toEqual([
      expect.stringMatching(/DLI_WATCH_QUEUES: must list at least one queue name/),
    ]);
    const clash = withFile({ watches: [{ name: 'queues' }] });
    expect(problems({ ...BASE_ENV, DLI_WATCH_QUEUES: 'etl_*' }, clash)).toEqual([
      expect.stringMatching(/DLI_WATCH_QUEUES: .*the name queues is already used by .*watches\[0\]\.name/),
    ]);
  });
});

describe('parseSince', () => {
  it('takes a duration or an instant with a zone, and nothing else', () => {
    expect(parseSince('90m')).toEqual({ kind: 'before-first-cycle', ms: 90 * 60_000 });
    expect(parseSince('2026-11-30T08:00:00+08:00')).toEqual({
      kind: 'at',
      at: Date.parse('2026-11-30T00:00:00Z'),
    });
    expect(parseSince('2026-11-30T08:00:00')).toBeNull();
    expect(parseSince('2026-11-30')).toBeNull();
    expect(parseSince('6 hours')).toBeNull();
    expect(parseSince('0h')).toBeNull();
  });
});
