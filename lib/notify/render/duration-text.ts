/**
 * Durations and counts for people, in each message language. The Intl objects are built on first use: building
 * the first one loads ICU data, tens of milliseconds of a cold start, and most cycles render no message at all.
 */

/** A duration cut to the precision a person wants: seconds matter for a short job, not for one that ran hours. */
export type DurationParts =
  | { unit: 'ms'; ms: number }
  | { unit: 's'; tenths: number }
  | { unit: 'min'; minutes: number; seconds: number }
  | { unit: 'h'; hours: number; minutes: number }
  | { unit: 'd'; days: number; hours: number };

/** Splits `ms` as {@link formatDuration} shows it; negative or non-finite input counts as 0. */
export function durationParts(ms: number): DurationParts {
  const safeMs = Number.isFinite(ms) && ms > 0 ? ms : 0;
  if (Math.round(safeMs) < 1000) return { unit: 'ms', ms: Math.round(safeMs) };
  const tenths = Math.round(safeMs / 100);
  if (tenths < 600) return { unit: 's', tenths };
  const seconds = Math.round(safeMs / 1000);
  if (seconds < 3600) return { unit: 'min', minutes: Math.floor(seconds / 60), seconds: seconds % 60 };
  const minutes = Math.round(seconds / 60);
  if (minutes < 24 * 60) return { unit: 'h', hours: Math.floor(minutes / 60), minutes: minutes % 60 };
  const hours = Math.round(minutes / 60);
  return { unit: 'd', days: Math.floor(hours / 24), hours: hours % 24 };
}

/**
 * A duration in English: "850 ms", "2.5 s", "3 min 12 s", "1 h 4 min", "2 d 3 h". Written by hand rather than
 * with `Intl.DurationFormat`, whose English ("3 min, 12 sec") is longer on a phone's lock screen and would change
 * every message users already filter on.
 */
export function formatDuration(ms: number): string {
  const parts = durationParts(ms);
  switch (parts.unit) {
    case 'ms':
      return `${parts.ms} ms`;
    case 's':
      return `${stripTrailingZero((parts.tenths / 10).toFixed(1))} s`;
    case 'min':
      return joinUnits(parts.minutes, 'min', parts.seconds, 's');
    case 'h':
      return joinUnits(parts.hours, 'h', parts.minutes, 'min');
    case 'd':
      return joinUnits(parts.days, 'd', parts.hours, 'h');
  }
}

const durationFormats = new Map<string, Intl.DurationFormat>();

/**
 * `plain` shows the units given; `fraction` shows milliseconds as tenths of the seconds; `zero` shows a duration of
 * nothing as 0 ms (`Intl.DurationFormat` leaves out units that are zero, so it would print nothing).
 */
const DURATION_OPTIONS = {
  plain: { style: 'short' },
  fraction: { style: 'short', milliseconds: 'numeric', fractionalDigits: 1 },
  zero: { style: 'short', millisecondsDisplay: 'always' },
} as const satisfies Record<string, Intl.DurationFormatOptions>;

function durationFormat(locale: string, kind: keyof typeof DURATION_OPTIONS): Intl.DurationFormat {
  const key = `${locale}\n${kind}`;
  let format = durationFormats.get(key);
  if (format === undefined) {
    format = new Intl.DurationFormat(locale, DURATION_OPTIONS[kind]);
    durationFormats.set(key, format);
  }
  return format;
}

/**
 * A duration through `Intl.DurationFormat` in `locale` ("3分钟12秒", "2.5秒", "2小时5分钟" in `zh-CN`), at the same
 * precision as {@link formatDuration}.
 */
export function formatDurationIntl(ms: number, locale: string): string {
  const parts = durationParts(ms);
  switch (parts.unit) {
    case 'ms':
      return durationFormat(locale, parts.ms === 0 ? 'zero' : 'plain').format({ milliseconds: parts.ms });
    case 's': {
      const seconds = Math.floor(parts.tenths / 10);
      const tenth = parts.tenths % 10;
      return tenth === 0
        ? durationFormat(locale, 'plain').format({ seconds })
        : durationFormat(locale, 'fraction').format({ seconds, milliseconds: tenth * 100 });
    }
    case 'min':
      return durationFormat(locale, 'plain').format({ minutes: parts.minutes, seconds: parts.seconds });
    case 'h':
      return durationFormat(locale, 'plain').format({ hours: parts.hours, minutes: parts.minutes });
    case 'd':
      return durationFormat(locale, 'plain').format({ days: parts.days, hours: parts.hours });
  }
}

const countFormats = new Map<string, Intl.NumberFormat>();

/** `1234567` → `1,234,567` (grouped as `locale` groups). */
export function formatCountIn(count: number, locale: string): string {
  let format = countFormats.get(locale);
  if (format === undefined) {
    format = new Intl.NumberFormat(locale);
    countFormats.set(locale, format);
  }
  return format.format(count);
}

export function stripTrailingZero(decimal: string): string {
  return decimal.endsWith('.0') ? decimal.slice(0, -2) : decimal;
}

function joinUnits(major: number, majorUnit: string, minor: number, minorUnit: string): string {
  return minor === 0 ? `${major} ${majorUnit}` : `${major} ${majorUnit} ${minor} ${minorUnit}`;
}
