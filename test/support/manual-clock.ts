import type { Clock } from '../../lib/util/clock.ts';

/** A clock that only moves when told to — or when code sleeps on it, which returns at once. */
export interface ManualClock extends Clock {
  advance(ms: number): void;
  /** Moves the clock to `epochMs`, which must not be in its past. */
  set(epochMs: number): void;
  /** Total time spent in `sleep`. */
  readonly slept: number;
}

/** Starts at the real time: receivers such as `standardwebhooks` check signatures' timestamps against it. */
export function createManualClock(start = Date.now()): ManualClock {
  let now = start;
  let slept = 0;
  return {
    now: () => now,
    sleep: async (ms) => {
      // Timers fire on whole milliseconds, and so does Date.now(): signatures carry integer timestamps.
      const step = Math.max(0, Math.ceil(ms));
      now += step;
      slept += step;
    },
    advance: (ms) => {
      now += ms;
    },
    set: (epochMs) => {
      if (epochMs < now) throw new Error(`the manual clock cannot go back from ${now} to ${epochMs}`);
      now = epochMs;
    },
    get slept() {
      return slept;
    },
  };
}
