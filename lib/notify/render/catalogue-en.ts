import type { Catalogue } from './catalogue.ts';
import { formatCountIn, formatDuration } from './duration-text.ts';

const count = (n: number) => formatCountIn(n, 'en-US');

const TYPE_WORD = {
  FAILED: 'failed',
  LONG_RUNNING: 'running long',
  RECOVERED: 'recovered',
  FINISHED: 'finished',
  CANCELLED: 'cancelled',
} as const;

/** `1` → `1st`, `2` → `2nd`, `3` → `3rd`, `11` → `11th`, `22` → `22nd`. */
function ordinal(n: number): string {
  const tens = n % 100;
  const suffix =
    tens >= 11 && tens <= 13
      ? 'th'
      : (({ 1: 'st', 2: 'nd', 3: 'rd' } as Record<number, string>)[n % 10] ?? 'th');
  return `${count(n)}${suffix}`;
}

/** English: what every message says when the destination sets no `language`. */
export const EN: Catalogue = {
  language: 'en',
  titles: {
    FINISHED: 'DLI job FINISHED',
    FAILED: 'DLI job FAILED',
    CANCELLED: 'DLI job CANCELLED',
    LONG_RUNNING: 'DLI job running long',
    RECOVERED: 'DLI job RECOVERED',
  },
  headline: (facts) => {
    const onQueue = facts.queue === undefined ? '' : ` on queue ${facts.queue}`;
    if (facts.type === 'LONG_RUNNING') {
      return `${facts.emoji} DLI job ${facts.shortJobId} still ${facts.status} after ${facts.runningFor ?? '?'}${onQueue} (warn after ${facts.warnAfter ?? '?'})`;
    }
    return [
      `${facts.emoji} DLI job ${facts.shortJobId} ${facts.type}`,
      onQueue,
      facts.duration === undefined ? '' : ` after ${facts.duration}`,
      facts.streak === undefined ? '' : `: ${facts.streak}`,
    ].join('');
  },
  fields: {
    jobId: 'Job ID',
    runningFor: 'Running for',
    warnAfter: 'Warn after',
    streak: 'Streak',
    runKey: 'Run key',
    queue: 'Queue',
    type: 'Type',
    owner: 'Owner',
    started: 'Started',
    duration: 'Duration',
    rows: 'Rows',
    resultRows: 'Result rows',
    inputSize: 'Input size',
    table: 'Table',
    tags: 'Tags',
    labels: 'Labels',
  },
  rows: (input, bad) =>
    [input === undefined ? '' : `${input} input`, bad === undefined ? '' : `${bad} bad`]
      .filter(Boolean)
      .join(', '),
  streak: (type, failures, day) => {
    if (type === 'RECOVERED') {
      return failures === 1
        ? `after 1 failure on ${day}`
        : `after ${failures} failures in a row since ${day}`;
    }
    return failures === 1 ? 'first failure in a row' : `${ordinal(failures)} failure in a row since ${day}`;
  },
  duration: formatDuration,
  count,
  error: 'Error',
  sql: 'SQL',
  openInConsole: 'Open in DLI console',
  project: (projectId, region) => `project ${projectId} · ${region}`,
  digest: {
    title: (ended, runningLong) => {
      const jobs = (n: number) => `${n} DLI ${n === 1 ? 'job' : 'jobs'}`;
      if (runningLong === 0) return `${jobs(ended)} ended`;
      if (ended === 0) return `${jobs(runningLong)} running long`;
      return `${jobs(ended)} ended, ${runningLong} running long`;
    },
    count: (emoji, n, type) => `${emoji} ${n} ${TYPE_WORD[type]}`,
    what: (type, status) => (type === 'LONG_RUNNING' ? `still ${status}` : type),
    more: (hidden) => `… and ${hidden} more`,
  },
  summary: {
    title: (day) => `DLI daily summary · ${day}`,
    nothingEnded: 'No DLI job ended',
    runningLong: (emoji, n) => `${emoji} ${count(n)} still running past their threshold`,
    headings: {
      queues: 'By queue',
      failures: 'Failures',
      longest: 'Longest runs',
      runningLong: 'Still running past their threshold',
    },
    noQueue: '(no queue)',
    threshold: (duration) => `warn after ${duration}`,
  },
  testTitle: '🧪 dli-watch test message: no DLI job ended',
};
