import { describe, expect, it } from 'vitest';
import { renderSlackDigest } from '../../../lib/notify/platforms/slack.ts';
import { distinctPrefixes, formatDigestLine, summarizeDigest } from '../../../lib/notify/render/digest.ts';
import { finishedJob, jobEvent, RENDER_CONTEXT } from '../../support/events.ts';

/** Ids as one scheduler makes them: the same first 14 characters, then a counter. */
const SIBLING_IDS = ['20261202-etl-0001', '20261202-etl-0002', '20261202-etl-0010', 'a1b2c3d4-e5f6-4a5b'];

describe('distinctPrefixes', () => {
  it('shows as much of each id as tells it apart from the others, and never less than 8 characters', () => {
    const prefixes = distinctPrefixes(SIBLING_IDS);
    expect(prefixes.get('20261202-etl-0001')).toBe('20261202-etl-0001');
    expect(prefixes.get('20261202-etl-0010')).toBe('20261202-etl-0010');
    expect(prefixes.get('a1b2c3d4-e5f6-4a5b')).toBe('a1b2c3d4…');
    const uuids = distinctPrefixes(['6d2146a0-c2d5-41bd', '6d2146a0-c2d9-41bd', '9f3c0b2e-41aa-4c7e']);
    expect(uuids.get('6d2146a0-c2d5-41bd')).toBe('6d2146a0-c2d5…');
    expect(uuids.get('6d2146a0-c2d9-41bd')).toBe('6d2146a0-c2d9…');
    expect(uuids.get('9f3c0b2e-41aa-4c7e')).toBe('9f3c0b2e…');
  });

  it('keeps a short id whole: an ellipsis for one character would save nothing', () => {
    expect(distinctPrefixes(['burst-001', 'job-1'])).toEqual(
      new Map([
        ['burst-001', 'burst-001'],
        ['job-1', 'job-1'],
      ]),
    );
  });
});

describe('digest lines', () => {
  it('name each job so that jobs whose ids share a prefix can be told apart', () => {
    const events = SIBLING_IDS.map((jobId) => jobEvent({ ...finishedJob, job_id: jobId }));
    const lines = (summarizeDigest(events, RENDER_CONTEXT).sections[0]?.lines ?? []).map((line) =>
      formatDigestLine(line),
    );
    const shown = lines.map((line) => line.split(' ')[1]);
    expect(new Set(shown).size).toBe(SIBLING_IDS.length);
    for (const [index, id] of shown.entries()) {
      const prefix = (id ?? '').replace(/…$/, '');
      expect(
        SIBLING_IDS.filter((jobId) => jobId.startsWith(prefix)),
        `line ${index}`,
      ).toHaveLength(1);
    }
    // Through a platform's digest too.
    const slack = JSON.stringify(renderSlackDigest(events, RENDER_CONTEXT));
    for (const id of ['20261202-etl-0001', '20261202-etl-0002', '20261202-etl-0010'])
      expect(slack).toContain(id);
  });
});
