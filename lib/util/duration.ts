const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/** Longest duration accepted: a century, past anything dli-watch could have written or be asked to wait. */
const MAX_DURATION_MS = 100 * 365 * UNIT_MS.d;

/** The rule {@link parseDurationMs} applies, in words, for messages. */
export const DURATION_RULE =
  'a whole number of at least 1 and a unit, s, m (minutes), h, d or w, such as 30d or 12h';

/**
 * A duration such as `30d`, `12h`, `90m`, `45s` or `2w` (`m` is minutes), in milliseconds: a whole number of at
 * least 1 and one unit, nothing else, so that a typo is refused instead of read as something unintended. `null`
 * for anything else.
 */
export function parseDurationMs(text: string): number | null {
  const match = /^(\d{1,12})([smhdw])$/.exec(text.trim());
  const amount = Number(match?.[1]);
  const ms = amount * (UNIT_MS[match?.[2] as keyof typeof UNIT_MS] ?? Number.NaN);
  return match && amount >= 1 && ms <= MAX_DURATION_MS ? ms : null;
}
