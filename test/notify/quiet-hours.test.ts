import { describe, expect, it } from 'vitest';
import { holdsBack, type QuietHours, quietUntil, WEEKDAYS } from '../../lib/notify/quiet-hours.ts';

const at = (iso: string) => Date.parse(iso);
const DAY_MS = 86_400_000;

/** Every night in Berlin, 22:00 to 07:30 the next morning. */
const berlinNights: QuietHours = {
  timeZone: 'Europe/Berlin',
  windows: [{ days: [...WEEKDAYS], from: 22 * 60, to: 7 * 60 + 30 }],
  except: [],
};

describe('quietUntil', () => {
  it('returns null outside quiet hours and when there are no windows', () => {
    expect(quietUntil(berlinNights, at('2026-07-01T12:00:00Z'))).toBeNull();
    expect(quietUntil({ ...berlinNights, windows: [] }, at('2026-07-01T21:00:00Z'))).toBeNull();
  });

  it('holds a night window across midnight until the next morning', () => {
    // 23:00 and 03:00 CEST, both in the night that ends at 07:30 CEST.
    expect(quietUntil(berlinNights, at('2026-07-01T21:00:00Z'))).toBe(at('2026-07-02T05:30:00Z'));
    expect(quietUntil(berlinNights, at('2026-07-02T01:00:00Z'))).toBe(at('2026-07-02T05:30:00Z'));
  });

  it('includes the start of a window and excludes its end', () => {
    // 22:00 CEST is 20:00Z, 07:30 CEST is 05:30Z.
    expect(quietUntil(berlinNights, at('2026-07-01T19:59:59.999Z'))).toBeNull();
    expect(quietUntil(berlinNights, at('2026-07-01T20:00:00Z'))).toBe(at('2026-07-02T05:30:00Z'));
    expect(quietUntil(berlinNights, at('2026-07-02T05:29:59.999Z'))).toBe(at('2026-07-02T05:30:00Z'));
    expect(quietUntil(berlinNights, at('2026-07-02T05:30:00Z'))).toBeNull();
  });

  it('follows the wall clock across the spring-forward change, making that night an hour shorter', () => {
    // An ordinary winter night: 22:00 CET (21:00Z) to 07:30 CET (06:30Z), nine and a half hours.
    expect(quietUntil(berlinNights, at('2027-03-20T21:30:00Z'))).toBe(at('2027-03-21T06:30:00Z'));
    // The night of 27 to 28 March 2027 starts at 22:00 CET and ends at 07:30 CEST, eight and a half hours.
    expect(quietUntil(berlinNights, at('2027-03-27T20:59:59.999Z'))).toBeNull();
    expect(quietUntil(berlinNights, at('2027-03-27T21:00:00Z'))).toBe(at('2027-03-28T05:30:00Z'));
    expect(quietUntil(berlinNights, at('2027-03-27T21:30:00Z'))).toBe(at('2027-03-28T05:30:00Z'));
    expect(quietUntil(berlinNights, at('2027-03-28T00:30:00Z'))).toBe(at('2027-03-28T05:30:00Z'));
    expect(quietUntil(berlinNights, at('2027-03-28T05:30:00Z'))).toBeNull();
    // The next night starts at 22:00 CEST.
    expect(quietUntil(berlinNights, at('2027-03-28T19:59:59.999Z'))).toBeNull();
    expect(quietUntil(berlinNights, at('2027-03-28T20:00:00Z'))).toBe(at('2027-03-29T05:30:00Z'));
  });

  it('follows the wall clock across the autumn change, making that night an hour longer', () => {
    // 22:00 CEST on 24 October 2026 to 07:30 CET on 25 October.
    expect(quietUntil(berlinNights, at('2026-10-24T20:00:00Z'))).toBe(at('2026-10-25T06:30:00Z'));
    expect(quietUntil(berlinNights, at('2026-10-25T06:29:59.999Z'))).toBe(at('2026-10-25T06:30:00Z'));
    expect(quietUntil(berlinNights, at('2026-10-25T06:30:00Z'))).toBeNull();
  });

  it('starts a window whose start the spring-forward gap skips as soon as the clock is past the gap', () => {
    const sundayEarly: QuietHours = {
      timeZone: 'Europe/Berlin',
      windows: [{ days: ['sun'], from: 2 * 60 + 30, to: 4 * 60 }],
      except: [],
    };
    // 01:59:59 CET, then 03:00 CEST: 02:30 never happens on 28 March 2027.
    expect(quietUntil(sundayEarly, at('2027-03-28T00:59:59.999Z'))).toBeNull();
    expect(quietUntil(sundayEarly, at('2027-03-28T01:00:00Z'))).toBe(at('2027-03-28T02:00:00Z'));
  });

  it('keeps a window to the days it lists', () => {
    const weekdayNights: QuietHours = {
      timeZone: 'Europe/Berlin',
      windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: 22 * 60, to: 7 * 60 + 30 }],
      except: [],
    };
    // Thursday 23:00 CEST, and Saturday 03:00 CEST, in the night that started on Friday.
    expect(quietUntil(weekdayNights, at('2026-07-02T21:00:00Z'))).toBe(at('2026-07-03T05:30:00Z'));
    expect(quietUntil(weekdayNights, at('2026-07-04T01:00:00Z'))).toBe(at('2026-07-04T05:30:00Z'));
    // Saturday 23:00, Sunday 03:00, Sunday 23:00 and Monday 03:00: no listed day starts these nights.
    expect(quietUntil(weekdayNights, at('2026-07-04T21:00:00Z'))).toBeNull();
    expect(quietUntil(weekdayNights, at('2026-07-05T01:00:00Z'))).toBeNull();
    expect(quietUntil(weekdayNights, at('2026-07-05T21:00:00Z'))).toBeNull();
    expect(quietUntil(weekdayNights, at('2026-07-06T01:00:00Z'))).toBeNull();
    // Monday 23:00.
    expect(quietUntil(weekdayNights, at('2026-07-06T21:00:00Z'))).toBe(at('2026-07-07T05:30:00Z'));
  });

  it('follows chained windows to the end of the last one', () => {
    const weekend: QuietHours = {
      timeZone: 'Europe/Berlin',
      windows: [
        { days: ['fri'], from: 22 * 60, to: 0 },
        { days: ['sat', 'sun'], from: 0, to: 1440 },
        { days: ['mon'], from: 0, to: 7 * 60 },
      ],
      except: [],
    };
    const mondayMorning = at('2026-07-06T05:00:00Z');
    // Friday 23:00, Saturday 12:00, Sunday 23:59 and Monday 06:00 CEST all wait for Monday 07:00.
    expect(quietUntil(weekend, at('2026-07-03T21:00:00Z'))).toBe(mondayMorning);
    expect(quietUntil(weekend, at('2026-07-04T10:00:00Z'))).toBe(mondayMorning);
    expect(quietUntil(weekend, at('2026-07-05T21:59:00Z'))).toBe(mondayMorning);
    expect(quietUntil(weekend, at('2026-07-06T04:00:00Z'))).toBe(mondayMorning);
    expect(quietUntil(weekend, mondayMorning)).toBeNull();
    expect(quietUntil(weekend, at('2026-07-03T19:59:59.999Z'))).toBeNull();
  });

  it('follows overlapping windows to the latest end', () => {
    const overlapping: QuietHours = {
      timeZone: 'Asia/Shanghai',
      windows: [
        { days: ['mon'], from: 20 * 60, to: 23 * 60 },
        { days: ['mon'], from: 22 * 60, to: 2 * 60 },
      ],
      except: [],
    };
    // Monday 21:00 in Shanghai is 13:00Z; the second window runs to Tuesday 02:00, 18:00Z on Monday.
    expect(quietUntil(overlapping, at('2026-07-06T13:00:00Z'))).toBe(at('2026-07-06T18:00:00Z'));
    expect(quietUntil(overlapping, at('2026-07-06T14:30:00Z'))).toBe(at('2026-07-06T18:00:00Z'));
    expect(quietUntil(overlapping, at('2026-07-06T18:00:00Z'))).toBeNull();
  });

  it('holds no longer than eight days when the windows cover the whole week', () => {
    const always: QuietHours = {
      timeZone: 'Europe/Berlin',
      windows: [{ days: [...WEEKDAYS], from: 0, to: 1440 }],
      except: [],
    };
    const now = at('2026-07-01T12:34:56.789Z');
    expect(quietUntil(always, now)).toBe(now + 8 * DAY_MS);
    const aroundTheClock: QuietHours = {
      timeZone: 'Europe/Berlin',
      windows: [{ days: [...WEEKDAYS], from: 9 * 60, to: 9 * 60 }],
      except: [],
    };
    expect(quietUntil(aroundTheClock, now)).toBe(now + 8 * DAY_MS);
  });

  it('throws for a zone Intl does not know', () => {
    expect(() => quietUntil({ ...berlinNights, timeZone: 'Mars/Base' }, 0)).toThrow(RangeError);
  });
});

describe('holdsBack', () => {
  const onCall: QuietHours = { ...berlinNights, except: ['FAILED'] };
  const night = at('2026-07-01T21:00:00Z');
  const morning = at('2026-07-02T05:30:00Z');

  it('holds an event until quiet ends unless its type is excepted', () => {
    expect(holdsBack(onCall, 'FINISHED', night)).toBe(morning);
    expect(holdsBack(onCall, 'LONG_RUNNING', night)).toBe(morning);
    expect(holdsBack(onCall, 'FAILED', night)).toBeNull();
    expect(holdsBack(berlinNights, 'FAILED', night)).toBe(morning);
  });

  it('holds nothing outside quiet hours or without quiet hours', () => {
    expect(holdsBack(onCall, 'FINISHED', at('2026-07-01T12:00:00Z'))).toBeNull();
    expect(holdsBack(null, 'FINISHED', night)).toBeNull();
  });
});
