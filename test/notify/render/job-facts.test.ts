import { describe, expect, it } from 'vitest';
import { jobStatusResponseSchema } from '../../../lib/dli/schemas.ts';
import { formatDuration } from '../../../lib/notify/render/duration-text.ts';
import { describeJobEvent, fillConsoleUrl, formatBytes } from '../../../lib/notify/render/job-facts.ts';
import { failedJob, finishedJob, jobEvent, RENDER_CONTEXT } from '../../support/events.ts';

describe('describeJobEvent', () => {
  it('describes the finished fixture with everything a person needs', () => {
    const facts = describeJobEvent(jobEvent(finishedJob), RENDER_CONTEXT);

    expect(facts).toMatchObject({
      title: 'DLI job FINISHED',
      status: 'FINISHED',
      statusEmoji: '✅',
      jobId: '208b08d4-0dc2-4dd7-8879-ddd4c020d7aa',
      shortJobId: '208b08d4…',
      headline: '✅ DLI job 208b08d4… FINISHED on queue default after 2.5 s',
      queue: 'default',
      jobType: 'QUERY',
      owner: 'test',
      startTime: '2017-10-30T03:45:08.918Z',
      duration: '2.5 s',
      resultCount: '4',
      inputSize: '22 B',
      table: 'dbtest.tbtest',
      statement: 'select * from t1',
      consoleUrl: 'https://console.huaweicloud.com/dli/?region=cn-north-4#/main/jobs/sql',
      tags: [],
      labels: [],
    });
    // The fixture is an INSERT-less QUERY that finished: no row counts, no failure text.
    expect(facts).not.toHaveProperty('rows');
    expect(facts).not.toHaveProperty('failureMessage');
    expect(facts.fields.map((field) => field.label)).toEqual([
      'Job ID',
      'Queue',
      'Type',
      'Owner',
      'Started',
      'Duration',
      'Result rows',
      'Input size',
      'Table',
    ]);
  });

  it('gives the failure message only for FAILED jobs, and only when DLI said something', () => {
    expect(describeJobEvent(jobEvent(failedJob), RENDER_CONTEXT)).toMatchObject({
      title: 'DLI job FAILED',
      statusEmoji: '❌',
      failureMessage: 'DLI.0005: Table not found: tbtest',
    });
    const failedSilently = { ...failedJob, message: '  ' };
    expect(describeJobEvent(jobEvent(failedSilently), RENDER_CONTEXT)).not.toHaveProperty('failureMessage');
    const cancelled = { ...failedJob, status: 'CANCELLED' };
    const cancelledFacts = describeJobEvent(jobEvent(cancelled), RENDER_CONTEXT);
    expect(cancelledFacts).not.toHaveProperty('failureMessage');
    expect(cancelledFacts.statusEmoji).toBe('🚫');
    expect(cancelledFacts.title).toBe('DLI job CANCELLED');
  });

  it('leaves missing optional fields out instead of writing "undefined"', () => {
    const bare = jobStatusResponseSchema.parse({ job_id: 'abc', status: 'FAILED' });
    const facts = describeJobEvent(jobEvent(bare), RENDER_CONTEXT);

    expect(facts.headline).toBe('❌ DLI job abc FAILED');
    expect(facts.fields).toEqual([{ label: 'Job ID', value: 'abc' }]);
    for (const key of [
      'queue',
      'jobType',
      'owner',
      'startTime',
      'duration',
      'rows',
      'resultCount',
      'inputSize',
    ]) {
      expect(facts).not.toHaveProperty(key);
    }
    expect(Object.values(facts)).not.toContain(undefined);
    expect(JSON.stringify(facts)).not.toMatch(/undefined|NaN/);
  });

  it('shows row counts, a lone table name, tags and tracking labels', () => {
    const insert = {
      ...finishedJob,
      job_type: 'INSERT',
      input_row_count: 1204,
      bad_row_count: 3,
      database_name: '',
      tags: [
        { key: 'team', value: 'bi' },
        { key: 'env', value: 'prod' },
      ],
    };
    const facts = describeJobEvent(jobEvent(insert, { labels: { pipeline: 'nightly' } }), RENDER_CONTEXT);

    expect(facts.rows).toBe('1,204 input, 3 bad');
    expect(facts.table).toBe('tbtest');
    expect(facts.tags).toEqual(['team=bi', 'env=prod']);
    expect(facts.labels).toEqual(['pipeline=nightly']);
    expect(facts.fields).toContainEqual({ label: 'Tags', value: 'team=bi, env=prod' });
    expect(facts.fields).toContainEqual({ label: 'Labels', value: 'pipeline=nightly' });
  });

  it('builds the console link from the configured template with encoded values', () => {
    const template = 'https://console.example.com/{region}/{project_id}/jobs/{job_id}?queue={queue_name}';
    const facts = describeJobEvent(jobEvent({ ...finishedJob, queue_name: 'etl a&b/c' }), {
      ...RENDER_CONTEXT,
      consoleUrlTemplate: template,
    });
    expect(facts.consoleUrl).toBe(
      'https://console.example.com/cn-north-4/0123456789abcdef0123456789abcdef/jobs/208b08d4-0dc2-4dd7-8879-ddd4c020d7aa?queue=etl%20a%26b%2Fc',
    );
  });

  it('leaves the link out when the template does not make an http(s) URL', () => {
    const facts = describeJobEvent(jobEvent(finishedJob), {
      ...RENDER_CONTEXT,
      consoleUrlTemplate: 'javascript:{job_id}',
    });
    expect(facts).not.toHaveProperty('consoleUrl');
  });
});

describe('fillConsoleUrl', () => {
  it('fills every placeholder, repeated ones too, and leaves unknown ones alone', () => {
    const values = { region: 'eu-west-101', project_id: 'p1', job_id: 'j1', queue_name: 'q 1' };
    expect(fillConsoleUrl('{region}/{region}/{project_id}/{job_id}/{queue_name}/{other}', values)).toBe(
      'eu-west-101/eu-west-101/p1/j1/q%201/{other}',
    );
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0 ms'],
    [850, '850 ms'],
    [999.6, '1 s'],
    [2523, '2.5 s'],
    [12_000, '12 s'],
    [59_960, '1 min'],
    [192_000, '3 min 12 s'],
    [3_599_600, '1 h'],
    [3_840_000, '1 h 4 min'],
    [90_000_000, '1 d 1 h'],
    [-5, '0 ms'],
    [Number.NaN, '0 ms'],
  ])('%d ms reads "%s"', (ms, expected) => {
    expect(formatDuration(ms)).toBe(expected);
  });
});

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [22, '22 B'],
    [1023, '1023 B'],
    [1024, '1 KiB'],
    [1536, '1.5 KiB'],
    [1.4 * 1024 * 1024, '1.4 MiB'],
    [1024 * 1024 - 1, '1 MiB'],
    [350 * 1024 ** 3, '350 GiB'],
  ])('%d bytes reads "%s"', (n, expected) => {
    expect(formatBytes(n)).toBe(expected);
  });
});
