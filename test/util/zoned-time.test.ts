import { describe, expect, it } from 'vitest';
import {
  addDays,
  epochAtWallTime,
  isTimeZone,
  parseTimeOfDay,
  wallTimeAt,
} from '../../lib/util/zoned-time.ts';

const at = (iso: string) => Date.parse(iso);

describe('isTimeZone', () => {
  it('accepts zones Intl knows', () => {
    expect(isTimeZone('Europe/Berlin')).toBe(true);
    expect(isTimeZone('UTC')).toBe(true);
    expect(isTimeZone('Asia/Shanghai')).toBe(true);
    expect(isTimeZone('America/New_York')).toBe(true);
  });

  it('refuses names that are not zones, and keeps refusing them on a second look', () => {
    for (let round = 0; round < 2; round++) {
      expect(isTimeZone('Mars/Base')).toBe(false);
      expect(isTimeZone('')).toBe(false);
      expect(isTimeZone('GMT+25')).toBe(false);
      expect(isTimeZone('Europe/Berlin ')).toBe(false);
    }
  });
});

describe('wallTimeAt', () => {
  it('reads the wall clock in Asia/Shanghai, eight hours ahead and already on the next day', () => {
    expect(wallTimeAt(at('2026-07-01T16:30:15.999Z'), 'Asia/Shanghai')).toEqual({
      year: 2026,
      month: 7,
      day: 2,
      hour: 0,
      minute: 30,
      second: 15,
      weekday: 4,
      minutesOfDay: 30,
    });
  });

  it('follows Europe/Berlin between winter (+1) and summer (+2) time', () => {
    expect(wallTimeAt(at('2026-01-15T10:00:00Z'), 'Europe/Berlin')).toMatchObject({
      month: 1,
      day: 15,
      hour: 11,
      minute: 0,
      minutesOfDay: 660,
    });
    expect(wallTimeAt(at('2026-07-01T10:00:00Z'), 'Europe/Berlin')).toMatchObject({
      month: 7,
      day: 1,
      hour: 12,
      minutesOfDay: 720,
    });
  });

  it('reads midnight as hour 0 and crosses the year end', () => {
    expect(wallTimeAt(at('2026-12-31T23:00:00Z'), 'Europe/Berlin')).toEqual({
      year: 2027,
      month: 1,
      day: 1,
      hour: 0,
      minute: 0,
      second: 0,
      weekday: 5,
      minutesOfDay: 0,
    });
  });

  it('throws for a zone Intl does not know', () => {
    expect(() => wallTimeAt(0, 'Mars/Base')).toThrow(RangeError);
  });
});

describe('addDays', () => {
  it('crosses month and year ends in both directions', () => {
    expect(addDays({ year: 2026, month: 1, day: 31 }, 1)).toEqual({ year: 2026, month: 2, day: 1 });
    expect(addDays({ year: 2026, month: 12, day: 31 }, 1)).toEqual({ year: 2027, month: 1, day: 1 });
    expect(addDays({ year: 2027, month: 1, day: 1 }, -1)).toEqual({ year: 2026, month: 12, day: 31 });
    expect(addDays({ year: 2026, month: 5, day: 10 }, 0)).toEqual({ year: 2026, month: 5, day: 10 });
  });

  it('knows February has 29 days in 2028 and 28 in 2027', () => {
    expect(addDays({ year: 2028, month: 2, day: 28 }, 1)).toEqual({ year: 2028, month: 2, day: 29 });
    expect(addDays({ year: 2028, month: 2, day: 28 }, 2)).toEqual({ year: 2028, month: 3, day: 1 });
    expect(addDays({ year: 2028, month: 3, day: 1 }, -1)).toEqual({ year: 2028, month: 2, day: 29 });
    expect(addDays({ year: 2027, month: 2, day: 28 }, 1)).toEqual({ year: 2027, month: 3, day: 1 });
    expect(addDays({ year: 2028, month: 1, day: 1 }, 365)).toEqual({ year: 2028, month: 12, day: 31 });
  });
});

describe('epochAtWallTime', () => {
  it('finds the instant of an ordinary wall time', () => {
    expect(epochAtWallTime({ year: 2026, month: 7, day: 1 }, 12 * 60, 'Europe/Berlin')).toBe(
      at('2026-07-01T10:00:00Z'),
    );
    expect(epochAtWallTime({ year: 2026, month: 1, day: 15 }, 11 * 60 + 45, 'Europe/Berlin')).toBe(
      at('2026-01-15T10:45:00Z'),
    );
    expect(epochAtWallTime({ year: 2026, month: 1, day: 1 }, 8 * 60, 'Asia/Shanghai')).toBe(
      at('2026-01-01T00:00:00Z'),
    );
    expect(epochAtWallTime({ year: 2026, month: 3, day: 1 }, 0, 'UTC')).toBe(at('2026-03-01T00:00:00Z'));
  });

  it('reads 24:00 as the midnight that starts the next day', () => {
    expect(epochAtWallTime({ year: 2026, month: 12, day: 31 }, 1440, 'Europe/Berlin')).toBe(
      at('2026-12-31T23:00:00Z'),
    );
    expect(epochAtWallTime({ year: 2026, month: 12, day: 31 }, 1440, 'Europe/Berlin')).toBe(
      epochAtWallTime({ year: 2027, month: 1, day: 1 }, 0, 'Europe/Berlin'),
    );
  });

  it('gives the first instant after a spring-forward gap for a wall time the gap skips', () => {
    const changeDay = { year: 2027, month: 3, day: 28 };
    expect(epochAtWallTime(changeDay, 2 * 60 + 30, 'Europe/Berlin')).toBe(at('2027-03-28T01:00:00Z'));
    expect(epochAtWallTime(changeDay, 2 * 60, 'Europe/Berlin')).toBe(at('2027-03-28T01:00:00Z'));
    expect(epochAtWallTime(changeDay, 2 * 60 + 59, 'Europe/Berlin')).toBe(at('2027-03-28T01:00:00Z'));
    // Either side of the gap the wall time exists and maps as usual.
    expect(epochAtWallTime(changeDay, 60 + 59, 'Europe/Berlin')).toBe(at('2027-03-28T00:59:00Z'));
    expect(epochAtWallTime(changeDay, 3 * 60, 'Europe/Berlin')).toBe(at('2027-03-28T01:00:00Z'));
    expect(epochAtWallTime(changeDay, 3 * 60 + 1, 'Europe/Berlin')).toBe(at('2027-03-28T01:01:00Z'));
    // West of UTC: New York skips 02:00 to 03:00 EST, and 03:00 EDT is 07:00Z.
    expect(epochAtWallTime({ year: 2027, month: 3, day: 14 }, 2 * 60 + 30, 'America/New_York')).toBe(
      at('2027-03-14T07:00:00Z'),
    );
  });

  it('gives the earlier instant for a wall time an autumn change repeats', () => {
    expect(epochAtWallTime({ year: 2026, month: 10, day: 25 }, 2 * 60 + 30, 'Europe/Berlin')).toBe(
      at('2026-10-25T00:30:00Z'),
    );
    expect(epochAtWallTime({ year: 2026, month: 10, day: 25 }, 3 * 60, 'Europe/Berlin')).toBe(
      at('2026-10-25T02:00:00Z'),
    );
    expect(epochAtWallTime({ year: 2026, month: 11, day: 1 }, 60 + 30, 'America/New_York')).toBe(
      at('2026-11-01T05:30:00Z'),
    );
  });

  it('round-trips every hour of a year in zones either side of UTC', () => {
    for (const timeZone of ['Europe/Berlin', 'America/New_York', 'Australia/Sydney']) {
      // Half past, so that both passes through a repeated hour are sampled.
      for (
        let instant = at('2026-01-01T00:30:00Z');
        instant < at('2027-01-01T00:00:00Z');
        instant += 3_600_000
      ) {
        const wall = wallTimeAt(instant, timeZone);
        const found = epochAtWallTime(wall, wall.minutesOfDay, timeZone);
        // Only the second pass through a repeated hour maps back to an earlier instant, an hour before.
        if (found !== instant) expect([timeZone, instant - found]).toEqual([timeZone, 3_600_000]);
        expect(wallTimeAt(found, timeZone)).toEqual(wall);
      }
    }
  });
});

describe('parseTimeOfDay', () => {
  it('reads 24-hour times, with one or two hour digits, and 24:00 as the end of the day', () => {
    expect(parseTimeOfDay('00:00')).toBe(0);
    expect(parseTimeOfDay('07:30')).toBe(450);
    expect(parseTimeOfDay('7:30')).toBe(450);
    expect(parseTimeOfDay('22:00')).toBe(1320);
    expect(parseTimeOfDay('23:59')).toBe(1439);
    expect(parseTimeOfDay('24:00')).toBe(1440);
  });

  it('refuses times out of range and anything not shaped H:MM or HH:MM', () => {
    for (const text of [
      '25:00',
      '24:01',
      '12:60',
      'noon',
      '',
      '7',
      '07:3',
      '007:30',
      '-1:00',
      '7.30',
      '12:00:00',
    ]) {
      expect([text, parseTimeOfDay(text)]).toEqual([text, null]);
    }
  });
});
