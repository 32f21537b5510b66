import { describe, expect, it } from 'vitest';
import { dueSummary, summaryRecord } from '../lib/daily-summary.ts';
import { hugeDailySummary } from './support/events.ts';

const HOUR = 3_600_000;

describe('dueSummary', () => {
  const shanghai = { atMinute: 9 * 60, timeZone: 'Asia/Shanghai' };

  it('owes nothing before the hour, then yesterday until the day ends', () => {
    // 08:59 and 09:00 in Shanghai (UTC+8) on 2026-12-04.
    expect(dueSummary(shanghai, Date.UTC(2026, 11, 4, 0, 59))).toBeNull();
    const due = {
      day: '2026-12-03',
      from: Date.UTC(2026, 11, 2, 16),
      to: Date.UTC(2026, 11, 3, 16),
      dueUntil: Date.UTC(2026, 11, 4, 16),
    };
    expect(dueSummary(shanghai, Date.UTC(2026, 11, 4, 1))).toEqual(due);
    expect(dueSummary(shanghai, Date.UTC(2026, 11, 4, 15, 59))).toEqual(due);
    // Just after midnight, the next day's hour has not come yet.
    expect(dueSummary(shanghai, Date.UTC(2026, 11, 4, 16))).toBeNull();
  });

  it('follows daylight-saving changes: a 23-hour day in March, a 25-hour day in October, in Berlin', () => {
    const berlin = { atMinute: 9 * 60, timeZone: 'Europe/Berlin' };
    const march = dueSummary(berlin, Date.UTC(2027, 2, 29, 7));
    expect(march).toMatchObject({ day: '2027-03-28' });
    expect((march?.to ?? 0) - (march?.from ?? 0)).toBe(23 * HOUR);
    const october = dueSummary(berlin, Date.UTC(2027, 9, 31, 8));
    expect(october).toMatchObject({ day: '2027-10-30' });
    const autumn = dueSummary(berlin, Date.UTC(2027, 10, 1, 8));
    expect(autumn).toMatchObject({ day: '2027-10-31' });
    expect((autumn?.to ?? 0) - (autumn?.from ?? 0)).toBe(25 * HOUR);
    // 09:00 CET on 2027-11-01 is 08:00Z: a minute before it, nothing.
    expect(dueSummary(berlin, Date.UTC(2027, 10, 1, 7, 59))).toBeNull();
  });

  it('takes an hour a spring-forward change skips as passed once the clock jumps over it', () => {
    // Berlin's clocks go from 02:00 to 03:00 on 2027-03-28: 02:30 never happens that day.
    const early = { atMinute: 2 * 60 + 30, timeZone: 'Europe/Berlin' };
    expect(dueSummary(early, Date.UTC(2027, 2, 28, 0, 59))).toBeNull();
    expect(dueSummary(early, Date.UTC(2027, 2, 28, 1, 0))).toMatchObject({ day: '2027-03-27' });
  });
});

describe('summaryRecord', () => {
  it('is a finished record owing one pending delivery, kept from pruning until the end of its day', () => {
    const summary = hugeDailySummary();
    const record = summaryRecord(summary, summary.occurredAt + 10 * HOUR);
    expect(record).toMatchObject({
      jobId: summary.id,
      phase: 'terminal',
      status: 'SUMMARY',
      event: null,
      notices: [],
      summary,
      lastPolledAt: summary.occurredAt + 10 * HOUR,
      deliveries: [
        {
          destination: 'ops',
          eventId: summary.id,
          state: 'pending',
          attempts: 0,
          nextAttemptAt: summary.occurredAt,
          leaseUntil: null,
        },
      ],
    });
  });
});
