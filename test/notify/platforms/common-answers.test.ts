import { describe, expect, it } from 'vitest';
import {
  describeAnswer,
  parseRetryAfter,
  retryAfterFromResponse,
} from '../../../lib/notify/platforms/common-answers.ts';
import type { PlatformResponse } from '../../../lib/notify/platforms/platform.ts';

const NOW = Date.UTC(2024, 0, 2, 3, 4, 5); // Tue, 02 Jan 2024 03:04:05 GMT

const withRetryAfter = (value: string) => new Headers({ 'retry-after': value });

describe('parseRetryAfter', () => {
  it.each([
    ['120', 120_000],
    ['0', 0],
    [' 5 ', 5_000],
  ])('reads delta-seconds %j as %d ms', (value, expected) => {
    expect(parseRetryAfter(withRetryAfter(value), NOW)).toBe(expected);
  });

  it.each([
    ['Tue, 02 Jan 2024 03:05:35 GMT', 90_000],
    ['Tuesday, 02-Jan-24 03:05:35 GMT', 90_000],
    ['Tue Jan  2 03:05:35 2024', 90_000],
    ['Tue, 02 Jan 2024 03:04:05 GMT', 0],
  ])('reads HTTP-date %j as %d ms from now', (value, expected) => {
    expect(parseRetryAfter(withRetryAfter(value), NOW)).toBe(expected);
  });

  it.each([
    ['-5'],
    ['1.5'],
    ['soon'],
    [''],
    ['1'.repeat(400)],
    ['2024-01-02T03:05:35Z'],
    ['Mon, 01 Jan 2024 00:00:00 GMT'],
  ])('ignores %j (garbage, negative, or already past)', (value) => {
    expect(parseRetryAfter(withRetryAfter(value), NOW)).toBeUndefined();
  });

  it('returns undefined when there is no Retry-After header', () => {
    expect(parseRetryAfter(new Headers(), NOW)).toBeUndefined();
  });
});

describe('retryAfterFromResponse', () => {
  const response = (headers: Record<string, string>): PlatformResponse => ({
    status: 429,
    body: '',
    headers: new Headers(headers),
  });

  it("measures an HTTP-date against the server's own Date header, whatever our clock says", () => {
    const outcome = retryAfterFromResponse(
      response({ date: 'Sat, 01 Jun 2030 12:00:00 GMT', 'retry-after': 'Sat, 01 Jun 2030 12:00:30 GMT' }),
    );
    expect(outcome).toBe(30_000);
  });

  it('reads delta-seconds without a Date header, but cannot place a date without one', () => {
    expect(retryAfterFromResponse(response({ 'retry-after': '7' }))).toBe(7_000);
    expect(
      retryAfterFromResponse(response({ 'retry-after': 'Sat, 01 Jun 2030 12:00:30 GMT' })),
    ).toBeUndefined();
  });
});

describe('describeAnswer', () => {
  it('gives the status and the start of the body on one line', () => {
    expect(describeAnswer({ status: 404, body: 'channel_not_found', headers: new Headers() })).toBe(
      '404 channel_not_found',
    );
    expect(
      describeAnswer({ status: 502, body: '<html>\n  <b>Bad</b>\n</html>\n', headers: new Headers() }),
    ).toBe('502 <html> <b>Bad</b> </html>');
    expect(describeAnswer({ status: 503, body: '', headers: new Headers() })).toBe('503');
  });

  it('cuts a long body to about 200 characters', () => {
    const text = describeAnswer({ status: 500, body: '数'.repeat(1000), headers: new Headers() });
    expect([...text].length).toBeLessThanOrEqual(204);
    expect(text.endsWith('…')).toBe(true);
  });
});
