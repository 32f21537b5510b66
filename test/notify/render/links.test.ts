import { describe, expect, it } from 'vitest';
import { markdownLink } from '../../../lib/notify/render/links.ts';

describe('markdownLink', () => {
  it('keeps the URL whole inside the link: what would end it early is percent-encoded', () => {
    expect(markdownLink('job-1…', 'https://example.com/jobs/job-1')).toBe(
      '[job-1…](https://example.com/jobs/job-1)',
    );
    expect(markdownLink('x', 'https://example.com/a (b)<c>\td')).toBe(
      '[x](https://example.com/a%20%28b%29%3Cc%3E%09d)',
    );
  });
});
