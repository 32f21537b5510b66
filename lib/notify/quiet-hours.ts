import type { EventType, MessageType } from '../job.ts';
import { addDays, type CalendarDate, epochAtWallTime, wallTimeAt, weekdayOf } from '../util/zoned-time.ts';

/** Day names a quiet window lists, in `Date.getDay()` order so that a weekday number indexes them. */
export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/**
 * A stretch of wall-clock time, repeated on each listed day, during which messages wait. It starts on a listed
 * day at `from`; when `to` is after `from` it ends that day at `to`, otherwise it crosses midnight and ends the
 * next day at `to` (`mon` 22:00 to 07:30 runs until Tuesday 07:30). Equal `from` and `to` make a 24-hour
 * window, though configuration refuses them.
 */
export interface QuietWindow {
  days: Weekday[];
  /** Minutes of day, 0 to 1439. */
  from: number;
  /** Minutes of day, 0 to 1440 (1440 is the midnight that ends the day). */
  to: number;
}

/** When a destination does not want to be disturbed, and which events disturb it anyway. */
export interface QuietHours {
  /** The IANA zone whose wall clock the windows follow, so they move with its daylight-saving changes. */
  timeZone: string;
  windows: QuietWindow[];
  /** Events delivered even in quiet hours, such as `FAILED` for someone on call. */
  except: EventType[];
}

/**
 * Longest a message is held. Windows covering the whole week would otherwise hold it forever; eight days is past
 * any quiet stretch a week-based schedule can describe, so a message held this long is one that never had a
 * gap to go out in.
 */
const MAX_HOLD_MS = 8 * 86_400_000;

/**
 * When quiet ends, if `now` is in quiet hours: the end of the window `now` is in, followed through any windows
 * that start by the time it ends (chained or overlapping), as epoch milliseconds and at most eight days ahead.
 * `null` when `now` is not in quiet hours. A window includes its start and excludes its end, and its start and
 * end follow the zone's wall clock through daylight-saving changes, so a night across a spring-forward change is
 * an hour shorter. Throws `RangeError` when `quiet.timeZone` is not a zone Intl knows.
 */
export function quietUntil(quiet: QuietHours, now: number): number | null {
  const cap = now + MAX_HOLD_MS;
  let until = now;
  for (;;) {
    const end = latestEndCovering(quiet, until);
    if (end === null) return until === now ? null : until;
    // Each end lies after the instant it covers, so the loop moves forward and stops at the cap at the latest.
    if (end >= cap) return cap;
    until = end;
  }
}

/**
 * When a message of `type` may go out if it is due at `now` (a daily summary waits like any message): `null` to send it now (no quiet hours, an excepted event, or
 * not quiet), otherwise the instant quiet ends ({@link quietUntil}).
 */
export function holdsBack(quiet: QuietHours | null, type: MessageType, now: number): number | null {
  if (quiet === null || (quiet.except as readonly MessageType[]).includes(type)) return null;
  return quietUntil(quiet, now);
}

/** The latest end among the windows in force at `instant`, or `null` when none is. */
function latestEndCovering(quiet: QuietHours, instant: number): number | null {
  const wall = wallTimeAt(instant, quiet.timeZone);
  const today: CalendarDate = { year: wall.year, month: wall.month, day: wall.day };
  let latestEnd: number | null = null;
  // A window lasts at most a day, so only one that started yesterday (crossing midnight) or today can be in force.
  for (const startDate of [addDays(today, -1), today]) {
    const weekday = WEEKDAYS[weekdayOf(startDate)];
    for (const window of quiet.windows) {
      if (weekday === undefined || !window.days.includes(weekday)) continue;
      if (epochAtWallTime(startDate, window.from, quiet.timeZone) > instant) continue;
      const endDate = window.to > window.from ? startDate : addDays(startDate, 1);
      const end = epochAtWallTime(endDate, window.to, quiet.timeZone);
      if (instant < end && (latestEnd === null || end > latestEnd)) latestEnd = end;
    }
  }
  return latestEnd;
}
