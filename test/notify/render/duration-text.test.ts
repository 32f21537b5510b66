import { describe, expect, it } from 'vitest';
import { formatDuration, formatDurationIntl } from '../../../lib/notify/render/duration-text.ts';

describe('durations in each language', () => {
  const cases: [number, string, string][] = [
    [850, '850 ms', '850毫秒'],
    [2_500, '2.5 s', '2.5秒'],
    [3_000, '3 s', '3秒'],
    [192_000, '3 min 12 s', '3分钟12秒'],
    [600_000, '10 min', '10分钟'],
    [7_500_000, '2 h 5 min', '2小时5分钟'],
    [183_600_000, '2 d 3 h', '2天3小时'],
  ];

  it.each(cases)(
    '%d ms is "%s" in English and "%s" in Chinese, at the same precision',
    (ms, english, chinese) => {
      expect(formatDuration(ms)).toBe(english);
      expect(formatDurationIntl(ms, 'zh-CN')).toBe(chinese);
    },
  );

  it('counts nonsense as no time at all', () => {
    expect(formatDurationIntl(-5, 'zh-CN')).toBe('0毫秒');
    expect(formatDurationIntl(Number.NaN, 'zh-CN')).toBe('0毫秒');
  });
});
