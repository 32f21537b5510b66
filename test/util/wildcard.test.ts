import { describe, expect, it } from 'vitest';
import { wildcardMatches } from '../../lib/util/wildcard.ts';

describe('wildcardMatches', () => {
  it('matches literal text exactly and case-sensitively', () => {
    expect(wildcardMatches('etl-prod', 'etl-prod')).toBe(true);
    expect(wildcardMatches('etl-prod', 'ETL-prod')).toBe(false);
    expect(wildcardMatches('etl', 'etl-prod')).toBe(false);
    expect(wildcardMatches('etl-prod', 'etl')).toBe(false);
  });

  it('lets * stand for any run of characters at the start, middle or end, including none', () => {
    expect(wildcardMatches('*-prod', 'etl-prod')).toBe(true);
    expect(wildcardMatches('*-prod', '-prod')).toBe(true);
    expect(wildcardMatches('*-prod', 'etl-production')).toBe(false);
    expect(wildcardMatches('etl-*', 'etl-prod')).toBe(true);
    expect(wildcardMatches('etl-*', 'etl-')).toBe(true);
    expect(wildcardMatches('etl-*', 'xetl-prod')).toBe(false);
    expect(wildcardMatches('etl-*-daily', 'etl-sales-daily')).toBe(true);
    expect(wildcardMatches('etl-*-daily', 'etl--daily')).toBe(true);
    expect(wildcardMatches('etl-*-daily', 'etl-sales-weekly')).toBe(false);
    expect(wildcardMatches('*', '')).toBe(true);
    expect(wildcardMatches('*', 'anything at all')).toBe(true);
    expect(wildcardMatches('a**b', 'ab')).toBe(true);
  });

  it('backtracks when the first place a star could stop is the wrong one', () => {
    expect(wildcardMatches('*a*b', 'xaxaxb')).toBe(true);
    expect(wildcardMatches('*ab', 'aab')).toBe(true);
    expect(wildcardMatches('*a*b', 'xaxaxc')).toBe(false);
  });

  it('treats regex metacharacters as the characters they are', () => {
    expect(wildcardMatches('team.a', 'team.a')).toBe(true);
    expect(wildcardMatches('team.a', 'teamXa')).toBe(false);
    expect(wildcardMatches('[prod]', '[prod]')).toBe(true);
    expect(wildcardMatches('[prod]', 'p')).toBe(false);
    expect(wildcardMatches('a+b?(c)|^$\\d{2}', 'a+b?(c)|^$\\d{2}')).toBe(true);
    expect(wildcardMatches('a+b', 'aab')).toBe(false);
    expect(wildcardMatches('q.*', 'q.x')).toBe(true);
    expect(wildcardMatches('q.*', 'qx')).toBe(false);
  });

  it('stays fast on patterns that make a regex backtrack for ages', () => {
    const started = performance.now();
    expect(wildcardMatches(`${'*a'.repeat(30)}b`, 'a'.repeat(5000))).toBe(false);
    // A backtracking regex of the same shape does not finish in any useful time.
    expect(performance.now() - started).toBeLessThan(2000);
  });
});
