import { describe, expect, it } from 'vitest';
import { truncateText, truncateUtf8 } from '../../../lib/notify/render/text-fit.ts';

const codePoints = (text: string) => [...text].length;
const utf8Bytes = (text: string) => Buffer.byteLength(text, 'utf8');

describe('truncateText', () => {
  it('returns text that fits unchanged', () => {
    expect(truncateText('select 1', 8)).toBe('select 1');
  });

  it('never splits an emoji surrogate pair at the boundary', () => {
    const cut = truncateText('😀😀😀😀', 3);
    expect(cut).toBe('😀😀…');
    expect(cut.isWellFormed()).toBe(true);
    expect(codePoints(cut)).toBeLessThanOrEqual(3);
    // UTF-16 slicing at 3 units would have left a lone surrogate; code point counting does not.
    expect(truncateText('a😀😀😀', 3)).toBe('a😀…');
  });

  it('keeps a ZWJ family emoji whole or drops it whole', () => {
    expect(truncateText('ab👨‍👩‍👧cd', 6)).toBe('ab…');
  });

  it('counts CJK characters as one each', () => {
    const cut = truncateText('数据湖探索作业失败', 4);
    expect(cut).toBe('数据湖…');
    expect(codePoints(cut)).toBe(4);
  });

  it('uses the marker given, within the limit', () => {
    expect(truncateText('abcdefghij', 8, ' [cut]')).toBe('ab [cut]');
    expect(truncateText('abcdefghij', 2, ' [cut]')).toBe(' [');
  });
});

describe('truncateUtf8', () => {
  it('cuts CJK on a character boundary within the byte limit', () => {
    // 数 据 湖 are 3 bytes each, the marker … is 3 more.
    const cut = truncateUtf8('数据湖', 8);
    expect(cut).toBe('数…');
    expect(utf8Bytes(cut)).toBeLessThanOrEqual(8);
    expect(truncateUtf8('数据湖', 9)).toBe('数据湖');
    expect(truncateUtf8('数据湖', 5, '')).toBe('数');
  });

  it('cuts emoji on a character boundary within the byte limit', () => {
    const cut = truncateUtf8('😀😀😀', 10);
    expect(cut).toBe('😀…');
    expect(cut.isWellFormed()).toBe(true);
    expect(utf8Bytes(cut)).toBeLessThanOrEqual(10);
  });

  it('fits a long mixed text into 4096 bytes (WeCom markdown)', () => {
    const text = 'SQL 失败 😀 '.repeat(1000);
    const cut = truncateUtf8(text, 4096);
    expect(utf8Bytes(cut)).toBeLessThanOrEqual(4096);
    expect(utf8Bytes(cut)).toBeGreaterThan(4080);
    expect(cut.isWellFormed()).toBe(true);
    expect(cut.endsWith('…')).toBe(true);
  });
});
