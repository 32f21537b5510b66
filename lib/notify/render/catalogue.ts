/**
 * Every word a person reads in a message, per language: one catalogue per language (`catalogue-en.ts`,
 * `catalogue-zh-cn.ts`), the same shape for each, so a message cannot have a word one language lacks. Renderers
 * take their words from the catalogue of the destination's `language`; what DLI said (error text, SQL, queue
 * names) is shown as it came.
 */
import type { EventType } from '../../job.ts';

export const LANGUAGES = ['en', 'zh-CN'] as const;
export type Language = (typeof LANGUAGES)[number];

export function isLanguage(text: string): text is Language {
  return (LANGUAGES as readonly string[]).includes(text);
}

/** What the headline of one event needs, already formatted. */
export interface HeadlineFacts {
  emoji: string;
  shortJobId: string;
  type: EventType;
  /** DLI's status word (RUNNING for a warning). */
  status: string;
  queue?: string | undefined;
  duration?: string | undefined;
  /** The streak in words, from {@link Catalogue.streak}. */
  streak?: string | undefined;
  runningFor?: string | undefined;
  warnAfter?: string | undefined;
}

export interface Catalogue {
  language: Language;
  /** The default title of a message about one event: "DLI job FAILED". */
  titles: Record<EventType, string>;
  /** The one line a person reads in a notification: "❌ DLI job 9f3c0b2e… FAILED on queue etl after 3 min". */
  headline(facts: HeadlineFacts): string;
  /** Card field names. */
  fields: {
    jobId: string;
    runningFor: string;
    warnAfter: string;
    streak: string;
    runKey: string;
    queue: string;
    type: string;
    owner: string;
    started: string;
    duration: string;
    rows: string;
    resultRows: string;
    inputSize: string;
    table: string;
    tags: string;
    labels: string;
  };
  /** "1,204 input, 3 bad": the rows of an INSERT job. */
  rows(input: string | undefined, bad: string | undefined): string;
  /** A run's place in its key's streak: "3rd failure in a row since 2026-11-28". `day` is `YYYY-MM-DD`. */
  streak(type: EventType, failures: number, day: string): string;
  /** "850 ms", "3 min 12 s". */
  duration(ms: number): string;
  /** `1234567` → `1,234,567`. */
  count(n: number): string;
  /** Section headings and the console link. */
  error: string;
  sql: string;
  openInConsole: string;
  /** The footer: "project 0123… · cn-north-4". */
  project(projectId: string, region: string): string;
  digest: {
    /** "12 DLI jobs ended", "3 DLI jobs ended, 1 running long". */
    title(ended: number, runningLong: number): string;
    /** "❌ 3 failed": one type's count. */
    count(emoji: string, count: number, type: EventType): string;
    /** What a digest line says the job did: "FAILED", "still RUNNING". */
    what(type: EventType, status: string): string;
    /** The line that ends a list cut short: "… and 37 more". */
    more(hidden: number): string;
  };
  /** A destination's daily summary of the day before (`summary`). */
  summary: {
    /** "DLI daily summary · 2026-12-03". */
    title(day: string): string;
    /** The counts line of a day on which no job ended. */
    nothingEnded: string;
    /** "⏳ 2 still running past their threshold". */
    runningLong(emoji: string, count: number): string;
    headings: { queues: string; failures: string; longest: string; runningLong: string };
    /** What a queue line says for runs DLI named no queue for. */
    noQueue: string;
    /** "warn after 2 h": a running job's threshold. */
    threshold(duration: string): string;
  };
  /** The title of `dli-watch test-destination`'s message. */
  testTitle: string;
}
