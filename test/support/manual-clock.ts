import type { Clock } from '../../lib/clock.ts';

/** A clock that only moves when told to — or when code sleeps on it, which returns at once. */
export interface ManualClock extends Clock {
  advance(ms: number): void;
  /** Total time spent in `sleep`. */
  readonly slept: number;
}

export function createManualClock(start = Date.UTC(2026, 10, 25, 12, 0, 0)): ManualClock {
  let now = start;
  let slept = 0;
  return {
    now: () => now,
    sleep: async (ms) => {
      const step = Math.max(0, ms);
      now += step;
      slept += step;
    },
    advance: (ms) => {
      now += ms;
    },
    get slept() {
      return slept;
    },
  };
}
