import { describe, expect, it } from 'vitest';
import { type ChaosBackend, runChaos } from './chaos.ts';

/**
 * A short randomized fault run (see `chaos.ts`) as part of the test suite, one test per seed; `npm run chaos`
 * runs the long one. A failure names its seed: `npm run chaos -- --first <seed> --seeds 1 --backend <backend>`
 * runs it again.
 */
export function describeChaos(backend: ChaosBackend, seeds: readonly number[]): void {
  describe(`randomized faults, racing and killed processes on ${backend}`, () => {
    for (const seed of seeds) {
      it(`seed ${seed}: nothing lost, nothing doubled but what was in flight at a kill or timed out`, {
        timeout: 120_000,
      }, async () => {
        const figures = await runChaos({ seed, backend });
        const context = `${backend} seed ${seed}: ${JSON.stringify(figures)}`;
        expect(figures.settled, context).toBe(true);
        expect(figures.kills, context).toBeGreaterThan(0);
        expect(figures.lost, context).toBe(0);
        expect(figures.doubled_distinct_ids, context).toBe(0);
        expect(figures.doubled_unexplained, context).toBe(0);
        expect(figures.doubled_after_kill, context).toBeLessThanOrEqual(figures.in_flight_at_kills);
        // Each job's end and each destination's daily summary, to both destinations.
        expect(figures.deliveries, context).toBe(2 * figures.jobs + 2);
      });
    }
  });
}
