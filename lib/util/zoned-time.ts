const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

/** One formatter per zone: building an `Intl.DateTimeFormat` costs far more than formatting with one. */
const formatters = new Map<string, Intl.DateTimeFormat>();

/** Throws `RangeError` for a zone Intl does not know; only zones it accepts are cached. */
function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    // en-US for ASCII digits; h23 so that midnight is 00, never 24.
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** Whether `name` is a time zone Intl accepts, such as `Europe/Berlin` or `UTC` (Intl ignores case). */
export function isTimeZone(name: string): boolean {
  try {
    formatterFor(name);
    return true;
  } catch {
    return false;
  }
}

/** What a wall clock in some time zone reads at some instant. */
export interface WallTime {
  year: number;
  /** 1 (January) to 12. */
  month: number;
  day: number;
  /** 0 to 23. */
  hour: number;
  minute: number;
  second: number;
  /** 0 (Sunday) to 6 (Saturday). */
  weekday: number;
  /** `hour * 60 + minute`. */
  minutesOfDay: number;
}

/** The wall clock in `timeZone` at `epochMs`. Throws `RangeError` for a zone Intl does not know. */
export function wallTimeAt(epochMs: number, timeZone: string): WallTime {
  const fields: Record<string, string> = {};
  for (const part of formatterFor(timeZone).formatToParts(epochMs)) fields[part.type] = part.value;
  const date = { year: Number(fields.year), month: Number(fields.month), day: Number(fields.day) };
  const hour = Number(fields.hour);
  const minute = Number(fields.minute);
  return {
    ...date,
    hour,
    minute,
    second: Number(fields.second),
    weekday: weekdayOf(date),
    minutesOfDay: hour * 60 + minute,
  };
}

/** 0 (Sunday) to 6 (Saturday): a calendar date's weekday is the same in every zone. */
export function weekdayOf(date: CalendarDate): number {
  return new Date(Date.UTC(date.year, date.month - 1, date.day)).getUTCDay();
}

/** A day on the calendar, with no time and no zone. */
export interface CalendarDate {
  year: number;
  /** 1 (January) to 12. */
  month: number;
  day: number;
}

/** `2026-12-03`. */
export function calendarDateText(date: CalendarDate): string {
  const pad = (n: number, width: number) => String(n).padStart(width, '0');
  return `${pad(date.year, 4)}-${pad(date.month, 2)}-${pad(date.day, 2)}`;
}

/** `date` moved by `days` (negative to go back), across month and year ends and leap days. */
export function addDays(date: CalendarDate, days: number): CalendarDate {
  const moved = new Date(Date.UTC(date.year, date.month - 1, date.day + days));
  return { year: moved.getUTCFullYear(), month: moved.getUTCMonth() + 1, day: moved.getUTCDate() };
}

/** How far `timeZone`'s wall clock is ahead of UTC at `epochMs`, in milliseconds. */
function offsetAt(epochMs: number, timeZone: string): number {
  const wall = wallTimeAt(epochMs, timeZone);
  const wallAsUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second);
  // The wall time has no milliseconds, so compare it with the instant rounded down to its second.
  return wallAsUtc - (epochMs - (((epochMs % 1000) + 1000) % 1000));
}

/**
 * The instant at which `timeZone`'s wall clock reads `date` at `minutesOfDay` (0 to 1440, where 1440 is the
 * midnight that starts the next day). A wall time that a spring-forward change skips gives the first instant
 * after the gap, so a window starting in the gap starts as soon as the clock is past it; one that an autumn
 * change repeats gives the earlier of the two, so nothing scheduled for it is late by an hour. Throws
 * `RangeError` for a zone Intl does not know.
 */
export function epochAtWallTime(date: CalendarDate, minutesOfDay: number, timeZone: string): number {
  // The wall time written as if it were UTC; subtracting an offset in force around then gives a guess.
  const wall = Date.UTC(date.year, date.month - 1, date.day) + minutesOfDay * MINUTE_MS;
  // Any instant that reads `wall` lies within a day of it, since no offset reaches 24 hours; the offsets a day
  // either side are the ones in force before and after any change near it.
  const offsetBefore = offsetAt(wall - DAY_MS, timeZone);
  const offsetAfter = offsetAt(wall + DAY_MS, timeZone);
  const earlierGuess = wall - Math.max(offsetBefore, offsetAfter);
  const laterGuess = wall - Math.min(offsetBefore, offsetAfter);
  // Correct each guess by the offset actually in force at it: both hold in a fold, one normally, none in a gap.
  if (earlierGuess + offsetAt(earlierGuess, timeZone) === wall) return earlierGuess;
  if (laterGuess + offsetAt(laterGuess, timeZone) === wall) return laterGuess;
  // A gap: the change happened after the earlier guess and no later than the later one. Narrow down to the
  // first millisecond with the new offset.
  let low = earlierGuess;
  let high = laterGuess;
  const offsetAtLow = offsetAt(low, timeZone);
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (offsetAt(middle, timeZone) === offsetAtLow) low = middle;
    else high = middle;
  }
  return high;
}

/**
 * A 24-hour time of day such as `07:30`, `7:30` or `23:59`, or `24:00` for the end of the day, in minutes since
 * midnight (0 to 1440). `null` for anything else, so that `25:00`, `12:60` or `noon` is refused rather than
 * wrapped around.
 */
export function parseTimeOfDay(text: string): number | null {
  const match = /^(\d{1,2}):(\d{2})$/.exec(text.trim());
  if (!match) return null;
  const hour = Number(match[1]);
  const minute = Number(match[2]);
  if (hour === 24 && minute === 0) return 1440;
  return hour <= 23 && minute <= 59 ? hour * 60 + minute : null;
}
