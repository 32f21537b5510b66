import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { jobStatusResponseSchema } from '../../../lib/dli/schemas.ts';
import { isPlatformResponse, sendOutgoing } from '../../../lib/notify/delivery/post-once.ts';
import {
  type ChatDestination,
  createChatDestination,
  type Mentions,
} from '../../../lib/notify/destination.ts';
import type { DeliveryOutcome, OutgoingRequest } from '../../../lib/notify/platforms/platform.ts';
import {
  renderSlackDigest,
  renderSlackMentions,
  renderSlackMessage,
  type SlackBlock,
  type SlackMessage,
  slackPlatform,
} from '../../../lib/notify/platforms/slack.ts';
import { EN } from '../../../lib/notify/render/catalogue-en.ts';
import {
  countThatFit,
  fitLines,
  formatDigestLine,
  summarizeDigest,
} from '../../../lib/notify/render/digest.ts';
import { countCodePoints } from '../../../lib/notify/render/text-fit.ts';
import { sendAndJudge } from '../../support/delivery.ts';
import {
  cancelledJob,
  digestEvents,
  failedJob,
  finishedJob,
  hugeErrorText,
  hugeFailedJob,
  hugeStatement,
  jobEvent,
  OVERSIZED_FACTS,
  RENDER_CONTEXT,
  RENDER_TIME,
} from '../../support/events.ts';
import { createManualClock, type ManualClock } from '../../support/manual-clock.ts';
import { describePlatformContract } from '../../support/platform-contract.ts';
import { createSlackReceiver, type SlackReceiver } from '../../support/platforms/slack-receiver.ts';

const destination = createChatDestination({
  name: 'team-channel',
  type: 'slack',
  url: 'https://hooks.slack.com/services/T000/B000/XXXXXXXX',
});

const MENTIONS: Mentions = { users: ['U012ALICE', 'W034BOB'], groups: ['S056ONCALL'], all: true };

function headerText(message: SlackMessage): string {
  const header = message.blocks[0];
  if (header?.type !== 'header') throw new Error('first block is not a header');
  return header.text.text;
}

function fieldTexts(message: SlackMessage): string[] {
  return message.blocks
    .flatMap((block) => (block.type === 'section' ? (block.fields ?? []) : []))
    .map((f) => f.text);
}

function sectionTexts(message: SlackMessage): string[] {
  return message.blocks.flatMap((block) => (block.type === 'section' && block.text ? [block.text.text] : []));
}

function contextTexts(message: SlackMessage): string[] {
  return message.blocks.flatMap((block) =>
    block.type === 'context' ? block.elements.map((e) => e.text) : [],
  );
}

/** Every Block Kit limit from docs/platforms.md, checked one by one. */
function expectWithinBlockKitLimits(message: SlackMessage): void {
  expect(message.blocks.length).toBeLessThanOrEqual(50);
  expect(message.text).not.toContain('\n');
  for (const block of message.blocks as SlackBlock[]) {
    if (block.type === 'header') {
      expect(block.text.type).toBe('plain_text');
      expect(block.text.text.length).toBeLessThanOrEqual(150);
    }
    if (block.type === 'section') {
      expect(block.text !== undefined || (block.fields?.length ?? 0) > 0).toBe(true);
      if (block.text) expect(block.text.text.length).toBeLessThanOrEqual(3000);
      expect(block.fields?.length ?? 0).toBeLessThanOrEqual(10);
      for (const field of block.fields ?? []) expect(field.text.length).toBeLessThanOrEqual(2000);
    }
    if (block.type === 'context') {
      expect(block.elements.length).toBeGreaterThan(0);
      expect(block.elements.length).toBeLessThanOrEqual(10);
      for (const element of block.elements) expect(element.text.length).toBeLessThanOrEqual(3000);
    }
  }
  // No lone surrogates anywhere: Slack rejects text that is not valid Unicode.
  expect(JSON.stringify(message).isWellFormed()).toBe(true);
}

describe('renderSlackMessage', () => {
  it('renders the finished fixture with header, facts, SQL and console link', () => {
    const message = renderSlackMessage(jobEvent(finishedJob), RENDER_CONTEXT);

    expect(message.text).toBe('✅ DLI job 208b08d4… FINISHED on queue default after 2.5 s');
    expect(headerText(message)).toBe('✅ DLI job FINISHED · 208b08d4…');
    const fields = fieldTexts(message);
    expect(fields).toEqual(
      expect.arrayContaining([
        '*Job ID*\n208b08d4-0dc2-4dd7-8879-ddd4c020d7aa',
        '*Queue*\ndefault',
        '*Type*\nQUERY',
        '*Owner*\ntest',
        '*Duration*\n2.5 s',
        '*Result rows*\n4',
        '*Input size*\n22 B',
        '*Table*\ndbtest.tbtest',
      ]),
    );
    // The start time is shown in each reader's time zone, with the UTC instant as the fallback.
    expect(fields).toContain(
      '*Started*\n<!date^1509335108^{date_short_pretty} {time_secs}|2017-10-30T03:45:08.918Z>',
    );
    expect(sectionTexts(message)).toEqual(['*SQL*\n```\nselect * from t1\n```']);
    expect(contextTexts(message)).toContain(
      '<https://console.huaweicloud.com/dli/?region=cn-north-4#/main/jobs/sql|Open in DLI console>',
    );
    expectWithinBlockKitLimits(message);
  });

  it('shows the failure reason for a FAILED job', () => {
    const message = renderSlackMessage(jobEvent(failedJob), RENDER_CONTEXT);

    expect(message.text).toBe('❌ DLI job 208b08d4… FAILED on queue default after 2.5 s');
    expect(headerText(message)).toBe('❌ DLI job FAILED · 208b08d4…');
    expect(sectionTexts(message)).toEqual([
      '*Error*\n```\nDLI.0005: Table not found: tbtest\n```',
      '*SQL*\n```\nselect * from t1\n```',
    ]);
  });

  it('keeps a FAILED job with a 50 KB statement and 10 KB error text within every Block Kit limit', () => {
    const failed = hugeFailedJob(
      hugeStatement("select '😀数据 & <x>' from t where a > 1"),
      hugeErrorText('java.lang.RuntimeException: <boom> & more'),
      OVERSIZED_FACTS,
    );
    const message = renderSlackMessage(
      jobEvent(failed, { labels: { owner: 'x'.repeat(3000) } }),
      RENDER_CONTEXT,
    );

    expectWithinBlockKitLimits(message);
    const [errorSection, sqlSection] = sectionTexts(message);
    expect(errorSection).toMatch(/^\*Error\*\n```\njava\.lang\.RuntimeException: &lt;boom&gt; &amp; more\n/);
    expect(errorSection).toMatch(/…\n```$/);
    expect(sqlSection).toMatch(
      /^\*SQL\*\n```\nselect '😀数据 &amp; &lt;x&gt;' from t where a &gt; 1 -- x+…\n```$/,
    );
    // Cut close to the limit, not far below it.
    expect(sqlSection?.length).toBeGreaterThan(2990);
    expect(fieldTexts(message)).toContainEqual(expect.stringMatching(/^\*Tags\*\ntag0=v+, tag1=/));
    // The whole payload still serializes to JSON Slack can parse.
    const request = slackPlatform.render(jobEvent(failed), destination, RENDER_CONTEXT);
    expect(() => JSON.parse(request.body)).not.toThrow();
  });

  it('escapes &, < and > in user text so it cannot mention @channel or inject links', () => {
    const failed = {
      ...finishedJob,
      status: 'FAILED',
      queue_name: 'q<&>',
      message: 'bad <!channel> & <https://evil.example|click>',
      statement: "select '<!here>' & 1 > 0",
      tags: [{ key: 'k', value: '<@U123>' }],
    };
    const message = renderSlackMessage(jobEvent(failed), RENDER_CONTEXT);
    const everything = JSON.stringify(message);

    expect(everything).not.toContain('<!channel>');
    expect(everything).not.toContain('<!here>');
    expect(everything).not.toContain('<@U123>');
    expect(everything).not.toContain('<https://evil.example');
    expect(message.text).toBe('❌ DLI job 208b08d4… FAILED on queue q&lt;&amp;&gt; after 2.5 s');
    expect(sectionTexts(message)).toEqual([
      '*Error*\n```\nbad &lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;\n```',
      "*SQL*\n```\nselect '&lt;!here&gt;' &amp; 1 &gt; 0\n```",
    ]);
    expect(fieldTexts(message)).toContain('*Tags*\nk=&lt;@U123&gt;');
  });

  it('never cuts inside an escaped entity', () => {
    const message = renderSlackMessage(
      jobEvent({ ...finishedJob, statement: '&'.repeat(10_000) }),
      RENDER_CONTEXT,
    );
    const sql = sectionTexts(message)[0] ?? '';
    expect(sql.length).toBeLessThanOrEqual(3000);
    expect(sql).toMatch(/^\*SQL\*\n```\n(&amp;)+…\n```$/);
  });

  it('keeps a ``` inside the SQL from closing the code block early', () => {
    const message = renderSlackMessage(
      jobEvent({ ...finishedJob, statement: 'select 1 ``` *bold*' }),
      RENDER_CONTEXT,
    );
    const sql = sectionTexts(message)[0] ?? '';
    expect(sql.match(/```/g)).toHaveLength(2);
  });

  it('renders a CANCELLED job without an error section', () => {
    const message = renderSlackMessage(jobEvent(cancelledJob), RENDER_CONTEXT);

    expect(headerText(message)).toBe('🚫 DLI job CANCELLED · 208b08d4…');
    expect(message.text).toBe('🚫 DLI job 208b08d4… CANCELLED on queue default after 2.5 s');
    expect(sectionTexts(message).some((text) => text.startsWith('*Error*'))).toBe(false);
  });

  it('renders a job with only an id and a status, without "undefined" anywhere', () => {
    const bare = jobStatusResponseSchema.parse({ job_id: 'abc', status: 'FAILED' });
    const message = renderSlackMessage(jobEvent(bare), RENDER_CONTEXT);

    expect(message.text).toBe('❌ DLI job abc FAILED');
    expect(fieldTexts(message)).toEqual(['*Job ID*\nabc']);
    expect(sectionTexts(message)).toEqual([]);
    expect(JSON.stringify(message)).not.toMatch(/undefined|NaN|null/);
    expectWithinBlockKitLimits(message);
  });
});

describe('slackPlatform.render', () => {
  it('POSTs the Block Kit JSON to the webhook URL', () => {
    const event = jobEvent(finishedJob);
    const request = slackPlatform.render(event, destination, RENDER_CONTEXT);

    expect(request.url).toBe(destination.url);
    expect(request.method).toBe('POST');
    expect(request.headers['content-type']).toBe('application/json');
    expect(JSON.parse(request.body)).toEqual(renderSlackMessage(event, RENDER_CONTEXT));
  });
});

describe('Slack mentions', () => {
  it('renders users, user groups and the channel in Slack syntax', () => {
    expect(renderSlackMentions(MENTIONS)).toBe('<!channel> <@U012ALICE> <@W034BOB> <!subteam^S056ONCALL>');
    expect(renderSlackMentions({ users: [], groups: [], all: false })).toBe('');
  });

  it('escapes a malformed id so it cannot become another mention', () => {
    expect(renderSlackMentions({ users: ['U1><!here'], groups: [], all: false })).toBe('<@U1&gt;&lt;!here>');
  });

  it('puts the mentions of a FAILED job in the notification text and the first section, where Slack notifies', () => {
    const failed = { ...finishedJob, status: 'FAILED', message: 'boom' };
    const message = renderSlackMessage(jobEvent(failed), RENDER_CONTEXT, MENTIONS);

    expect(message.text).toBe(
      '<!channel> <@U012ALICE> <@W034BOB> <!subteam^S056ONCALL> ❌ DLI job 208b08d4… FAILED on queue default after 2.5 s',
    );
    expect(message.blocks[0]?.type).toBe('header');
    expect(message.blocks[1]).toEqual({
      type: 'section',
      text: { type: 'mrkdwn', text: '<!channel> <@U012ALICE> <@W034BOB> <!subteam^S056ONCALL>' },
    });
    expect(headerText(message)).not.toContain('<@');
    expectWithinBlockKitLimits(message);
  });

  it('keeps whole mentions only, and the section within its limit, however many are configured', () => {
    const many = {
      users: Array.from({ length: 400 }, (_, i) => `U${String(i).padStart(10, '0')}`),
      groups: [],
      all: true,
    };
    const message = renderSlackMessage(jobEvent({ ...finishedJob, status: 'FAILED' }), RENDER_CONTEXT, many);
    const mentionSection = sectionTexts(message)[0] ?? '';
    expect(mentionSection.length).toBeLessThanOrEqual(1000);
    expect(mentionSection).toMatch(/^<!channel>( <@U\d{10}>)+$/);
    expect(message.text.length).toBeLessThanOrEqual(1000 + 1 + 300);
    expectWithinBlockKitLimits(message);
  });
});

describe('summarizeDigest and the shared digest helpers', () => {
  it('counts by status, failures first then in the order the jobs ended, one line each', () => {
    const digest = summarizeDigest(digestEvents(12, 'etl<&>'), RENDER_CONTEXT);
    expect(digest.title).toBe('12 DLI jobs ended');
    expect(digest.counts).toBe('❌ 1 failed · ✅ 10 finished · 🚫 1 cancelled');
    expect(digest.type).toBe('FAILED');
    expect(digest.anyFailed).toBe(true);
    expect(digest.sections[0]?.lines.slice(0, 3).map((line) => formatDigestLine(line))).toEqual([
      '❌ 00000003… FAILED · etl<&> · 2.5 s',
      '✅ 00000000… FINISHED · default · 2.5 s',
      '✅ 00000001… FINISHED · etl<&> · 2.5 s',
    ]);
    expect(summarizeDigest(digestEvents(1, 'etl<&>'), RENDER_CONTEXT).title).toBe('1 DLI job ended');
  });

  it('colours a digest without failures by its finished jobs, or grey when all were cancelled', () => {
    const cancelled = jobEvent({ ...finishedJob, status: 'CANCELLED' });
    expect(summarizeDigest([cancelled], RENDER_CONTEXT).type).toBe('CANCELLED');
    expect(summarizeDigest([cancelled, jobEvent(finishedJob)], RENDER_CONTEXT).type).toBe('FINISHED');
  });

  it('keeps a digest line on one short line whatever the queue name', () => {
    const odd = jobEvent({ ...finishedJob, queue_name: `a\nb${'q'.repeat(500)}` });
    const [line] =
      summarizeDigest([odd], RENDER_CONTEXT).sections[0]?.lines.map((line) => formatDigestLine(line)) ?? [];
    expect(line).not.toContain('\n');
    expect(countCodePoints(line ?? '')).toBe(160);
  });

  it('fits whole lines and says how many were left out', () => {
    const lines = ['a'.repeat(10), 'b'.repeat(10), 'c'.repeat(10), 'd'.repeat(10)];
    expect(fitLines(lines, 43, countCodePoints, '\n', EN.digest.more)).toBe(lines.join('\n'));
    expect(fitLines(lines, 35, countCodePoints, '\n', EN.digest.more)).toBe(
      `${'a'.repeat(10)}\n${'b'.repeat(10)}\n… and 2 more`,
    );
    expect(fitLines(lines, 35, countCodePoints, '\n', EN.digest.more)).toHaveLength(34);
    expect(fitLines(lines, 22, countCodePoints, '\n', EN.digest.more)).toBe('… and 4 more');
    expect(countThatFit([5, 5, 5], 15, () => 3)).toBe(3);
    expect(countThatFit([5, 5, 5], 14, () => 3)).toBe(2);
    expect(countThatFit([5, 5, 5], 4, () => 3)).toBe(0);
  });
});

describe('renderSlackDigest', () => {
  it('sums up 200 jobs in one message within Block Kit limits, with "… and N more"', () => {
    const message = renderSlackDigest(digestEvents(200, 'etl<&>'), RENDER_CONTEXT, MENTIONS);
    expectWithinBlockKitLimits(message);
    expect(headerText(message)).toBe('200 DLI jobs ended');
    const [countsSection, linesSection] = sectionTexts(message);
    expect(countsSection).toBe(
      '<!channel> <@U012ALICE> <@W034BOB> <!subteam^S056ONCALL> ❌ 20 failed · ✅ 160 finished · 🚫 20 cancelled',
    );
    const lines = (linesSection ?? '').split('\n');
    expect(lines[0]).toBe('❌ 00000003… FAILED · etl&lt;&amp;&gt; · 2.5 s');
    expect(lines.slice(0, 20).every((line) => line.startsWith('❌'))).toBe(true);
    expect(lines.at(-1)).toBe(`… and ${200 - (lines.length - 1)} more`);
    expect(linesSection?.length).toBeGreaterThan(2950);
    expect(message.text).toBe(
      '<!channel> <@U012ALICE> <@W034BOB> <!subteam^S056ONCALL> 200 DLI jobs ended: ❌ 20 failed · ✅ 160 finished · 🚫 20 cancelled',
    );
  });

  it('mentions nobody when no job failed', () => {
    const events = digestEvents(3, 'etl<&>').filter((event) => event.status !== 'FAILED');
    const message = renderSlackDigest(events, RENDER_CONTEXT, MENTIONS);
    expect(JSON.stringify(message)).not.toMatch(/<@|<!subteam|<!channel>/);
    expect(sectionTexts(message)).toEqual([
      '✅ 3 finished',
      '✅ 00000000… FINISHED · default · 2.5 s\n✅ 00000001… FINISHED · etl&lt;&amp;&gt; · 2.5 s\n✅ 00000002… FINISHED · default · 2.5 s',
    ]);
  });
});

describe('slackPlatform, delivered to a Slack-like incoming webhook', () => {
  const TOKEN = 'XXsecretTOKEN0123456789';
  let clock: ManualClock;
  let receiver: SlackReceiver;
  let slack: ChatDestination;

  beforeEach(async () => {
    clock = createManualClock(RENDER_TIME);
    receiver = createSlackReceiver({ token: TOKEN, now: clock.now });
    slack = createChatDestination({
      name: 'team-channel',
      type: 'slack',
      url: await receiver.start(),
      mentions: MENTIONS,
    });
  });

  afterEach(async () => {
    await receiver.close();
  });

  /** Sends for real and judges the answer; then moves the clock past the one-a-second window. */
  async function deliver(request: OutgoingRequest | undefined): Promise<DeliveryOutcome> {
    if (!request) throw new Error('no request');
    const outcome = await sendAndJudge(slackPlatform, request);
    clock.advance(1000);
    return outcome;
  }

  it('delivers FINISHED, FAILED (50 KB SQL, 10 KB error) and CANCELLED; only the failure notifies', async () => {
    const failed = hugeFailedJob(
      hugeStatement('select 1'),
      'at org.apache.spark.Foo(Foo.scala:1)\n'.repeat(300),
    );
    const cancelled = { ...finishedJob, status: 'CANCELLED' };
    for (const job of [finishedJob, failed, cancelled]) {
      expect(await deliver(slackPlatform.render(jobEvent(job), slack, RENDER_CONTEXT))).toEqual({
        kind: 'delivered',
      });
    }
    expect(receiver.posted.map((posted) => posted.notified)).toEqual([
      { users: [], groups: [], channel: false },
      { users: ['U012ALICE', 'W034BOB'], groups: ['S056ONCALL'], channel: true },
      { users: [], groups: [], channel: false },
    ]);
    for (const request of receiver.http.requests) expectWithinBlockKitLimits(JSON.parse(request.body));
  });

  it('delivers a digest of 200 jobs', async () => {
    expect(
      await deliver(slackPlatform.renderDigest?.(digestEvents(200, 'etl<&>'), slack, RENDER_CONTEXT)),
    ).toEqual({
      kind: 'delivered',
    });
    expect(receiver.posted[0]?.notified.channel).toBe(true);
  });

  it('rejects a wrong token (403 invalid_token) and a removed webhook (404 no_service) for good', async () => {
    const wrongToken = { ...slack, url: slack.url.replace(TOKEN, 'nope') };
    expect(await deliver(slackPlatform.render(jobEvent(finishedJob), wrongToken, RENDER_CONTEXT))).toEqual({
      kind: 'reject',
      reason: '403 invalid_token',
    });
    const removed = { ...slack, url: slack.url.replace('/services/T0DLIWATCH', '/services/T0GONE') };
    expect(await deliver(slackPlatform.render(jobEvent(finishedJob), removed, RENDER_CONTEXT))).toEqual({
      kind: 'reject',
      reason: '404 no_service',
    });
  });

  it('rejects a payload Slack refuses (400 invalid_blocks) for good', async () => {
    const request = slackPlatform.render(jobEvent(finishedJob), slack, RENDER_CONTEXT);
    const bad = {
      text: 'x',
      blocks: [{ type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } }],
    };
    expect(await deliver({ ...request, body: JSON.stringify(bad) })).toEqual({
      kind: 'reject',
      reason: '400 invalid_blocks',
    });
  });

  it('retries after Retry-After when sent faster than one a second (429 rate_limited)', async () => {
    const event = jobEvent(finishedJob);
    const first = await sendOutgoing(slackPlatform.render(event, slack, RENDER_CONTEXT), { timeoutMs: 5000 });
    expect(isPlatformResponse(first) && slackPlatform.judge(first)).toEqual({ kind: 'delivered' });
    clock.advance(300);
    expect(await deliver(slackPlatform.render(event, slack, RENDER_CONTEXT))).toEqual({
      kind: 'retry',
      reason: '429 rate_limited (rate limited)',
      retryAfterMs: 1000,
    });
    expect(receiver.posted).toHaveLength(1);
  });
});

describePlatformContract({
  kind: 'chat',
  type: 'slack',
  platform: slackPlatform,
  receiver: () => createSlackReceiver({ token: 'XXsecretTOKEN0123456789', now: () => RENDER_TIME }),
  destination: (url) =>
    createChatDestination({ name: 'team-channel', type: 'slack', url, mentions: MENTIONS }),
  limits: { check: (request) => expectWithinBlockKitLimits(JSON.parse(request.body)) },
  proof: {
    kind: 'marker',
    unproven: [
      { name: 'a 200 whose body is not "ok"', answer: { status: 200, body: '<html>captive portal</html>' } },
      { name: 'a 204: Slack answers 200 "ok"', answer: { status: 204, body: '' } },
    ],
  },
  permanentRefusals: [
    {
      name: '400 invalid_payload',
      answer: { status: 400, body: 'invalid_payload' },
      reason: '400 invalid_payload',
    },
    {
      name: '403 invalid_token',
      answer: { status: 403, body: 'invalid_token' },
      reason: '403 invalid_token',
    },
    {
      name: '404 channel_not_found',
      answer: { status: 404, body: 'channel_not_found' },
      reason: '404 channel_not_found',
    },
    {
      name: '410 channel_is_archived',
      answer: { status: 410, body: 'channel_is_archived' },
      reason: '410 channel_is_archived',
    },
    { name: '413 too_large', answer: { status: 413, body: 'too_large' }, reason: '413 too_large' },
  ],
  rateLimit: { perMinute: 60, perSecond: 1 },
  urls: [
    'https://hooks.slack.com/services/T000/B000/XXXXXXXX',
    // Host names are case-insensitive, and a fully qualified one may end in a dot.
    'https://Hooks.Slack.com./services/T000/B000/XXXXXXXX',
  ],
  lookalikeUrls: ['https://hooks.slack.com.evil.example/services/T000/B000/XXXXXXXX'],
  // As broad as can be: even half a token would be one too many where nobody is to be mentioned.
  mentionTokens: (request) => [...new Set(request.body.match(/<@[^>]*>?|<!subteam[^>]*>?|<!channel>/g))],
  expectedMentionTokens: ['<!channel>', '<@U012ALICE>', '<@W034BOB>', '<!subteam^S056ONCALL>'],
  mentionsGroups: true,
});
