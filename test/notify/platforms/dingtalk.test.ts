import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type JobStatusResponse, jobStatusResponseSchema } from '../../../lib/dli/schemas.ts';
import { type ChatDestination, createChatDestination } from '../../../lib/notify/destination.ts';
import {
  type DingTalkMarkdownMessage,
  dingTalkMentions,
  dingtalkPlatform,
  escapeDingTalkMarkdown,
  renderDingTalkDigest,
  renderDingTalkMessage,
} from '../../../lib/notify/platforms/dingtalk.ts';
import type { OutgoingRequest } from '../../../lib/notify/platforms/platform.ts';
import { countJsonStringBytes } from '../../../lib/notify/render/text-fit.ts';
import { platformResponse, sendAndJudge } from '../../support/delivery.ts';
import {
  cancelledJob,
  contextAt,
  everySeventhFailed,
  failedJob,
  finishedJob,
  hugeErrorText,
  hugeFailedJob,
  hugeStatement,
  jobEvent,
  NO_MENTIONS,
  OVERSIZED_FACTS,
  RENDER_CONTEXT,
  RENDER_TIME,
  smallDailySummary,
  timedDigestEvents,
} from '../../support/events.ts';
import { describePlatformContract } from '../../support/platform-contract.ts';
import { createDingTalkReceiver } from '../../support/platforms/dingtalk-receiver.ts';
import { receiverStarter } from '../../support/platforms/platform-receiver.ts';

const SECRET = 'SEC0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd';
const MENTIONS = {
  users: ['13800000000', '+86-139-0000-0000', 'manager4711', 'bad id!'],
  groups: ['not-used'],
  all: false,
};
const LIMIT_BYTES = 20_000;
const MINUTE = 60_000;

function destinationFor(url: string, overrides: Partial<ChatDestination> = {}): ChatDestination {
  return createChatDestination({
    name: 'team-dingtalk',
    type: 'dingtalk',
    url,
    mentions: MENTIONS,
    ...overrides,
  });
}

const offlineDestination = destinationFor('https://oapi.dingtalk.com/robot/send?access_token=abc123');

/** A FAILED job carrying a 50 KB statement and a 10 KB error, both with markup and multi-byte characters. */
function hugeDingTalkFailure(): JobStatusResponse {
  return hugeFailedJob(
    hugeStatement("select '😀数据 & <x>' from t where a > 1"),
    hugeErrorText('java.lang.RuntimeException: <boom> **bold**'),
    OVERSIZED_FACTS,
  );
}

/** The markdown text's blocks (separated by blank lines). */
function blocks(message: DingTalkMarkdownMessage): string[] {
  return message.markdown.text.split('\n\n');
}

/** The quoted text after a "**Error**" or "**SQL**" heading block. */
function section(message: DingTalkMarkdownMessage, heading: string): string | undefined {
  const all = blocks(message);
  const at = all.indexOf(`**${heading}**`);
  return at < 0 ? undefined : all[at + 1];
}

describe('renderDingTalkMessage', () => {
  it('renders the finished fixture: heading, facts, SQL, console link, project, mentioning nobody', () => {
    const message = renderDingTalkMessage(jobEvent(finishedJob), offlineDestination, RENDER_CONTEXT);

    expect(message.msgtype).toBe('markdown');
    expect(message.markdown.title).toBe('✅ DLI job 208b08d4… FINISHED on queue default after 2.5 s');
    expect(message.markdown.text).toBe(
      [
        '### ✅ DLI job FINISHED · 208b08d4…',
        [
          '- **Job ID**: 208b08d4-0dc2-4dd7-8879-ddd4c020d7aa',
          '- **Queue**: default',
          '- **Type**: QUERY',
          '- **Owner**: test',
          '- **Started**: 2017-10-30T03:45:08.918Z',
          '- **Duration**: 2.5 s',
          '- **Result rows**: 4',
          '- **Input size**: 22 B',
          '- **Table**: dbtest.tbtest',
        ].join('\n'),
        '**SQL**',
        '> select \\* from t1',
        '[Open in DLI console](https://console.huaweicloud.com/dli/?region=cn-north-4#/main/jobs/sql)',
        'project 0123456789abcdef0123456789abcdef · cn-north-4',
      ].join('\n\n'),
    );
    // Mentions are configured, but only a FAILED job notifies people.
    expect(message.at).toEqual({ atMobiles: [], atUserIds: [], isAtAll: false });
    expect(message.markdown.text).not.toContain('@');
  });

  it('mentions on FAILED: mobiles and user ids in `at` and as @… in the text, where DingTalk needs them', () => {
    const message = renderDingTalkMessage(jobEvent(failedJob), offlineDestination, RENDER_CONTEXT);

    expect(message.markdown.title).toBe('❌ DLI job 208b08d4… FAILED on queue default after 2.5 s');
    expect(message.at).toEqual({
      atMobiles: ['13800000000', '+86-139-0000-0000'],
      atUserIds: ['manager4711'],
      isAtAll: false,
    });
    expect(blocks(message).slice(0, 2)).toEqual([
      '### ❌ DLI job FAILED · 208b08d4…',
      '@13800000000 @+86-139-0000-0000 @manager4711',
    ]);
    expect(section(message, 'Error')).toBe('> DLI.0005: Table not found: tbtest');
    expect(section(message, 'SQL')).toBe('> select \\* from t1');
    expect(blocks(message).indexOf('**Error**')).toBeLessThan(blocks(message).indexOf('**SQL**'));
  });

  it('mentions everyone with isAtAll', () => {
    const destination = destinationFor('https://x', { mentions: { users: [], groups: [], all: true } });
    const message = renderDingTalkMessage(jobEvent(failedJob), destination, RENDER_CONTEXT);
    expect(message.at).toEqual({ atMobiles: [], atUserIds: [], isAtAll: true });
  });

  it('renders a CANCELLED job without an error section or mentions', () => {
    const message = renderDingTalkMessage(jobEvent(cancelledJob), offlineDestination, RENDER_CONTEXT);

    expect(blocks(message)[0]).toBe('### 🚫 DLI job CANCELLED · 208b08d4…');
    expect(section(message, 'Error')).toBeUndefined();
    expect(message.at).toEqual({ atMobiles: [], atUserIds: [], isAtAll: false });
  });

  it('keeps a FAILED job with a 50 KB statement and a 10 KB error within every limit', () => {
    const destination = destinationFor('https://oapi.dingtalk.com/robot/send?access_token=abc', {
      secret: SECRET,
    });
    const event = jobEvent(hugeDingTalkFailure(), { labels: { owner: 'x'.repeat(3000) } });
    const request = dingtalkPlatform.render(event, destination, RENDER_CONTEXT);
    const message = JSON.parse(request.body) as DingTalkMarkdownMessage;

    // The whole body within 20,000 bytes, so the markdown text is too — and filled close to it.
    expect(Buffer.byteLength(request.body)).toBeLessThanOrEqual(LIMIT_BYTES);
    expect(Buffer.byteLength(request.body)).toBeGreaterThan(LIMIT_BYTES - 300);
    expect(Buffer.byteLength(message.markdown.text)).toBeLessThanOrEqual(LIMIT_BYTES);
    expect(request.body.isWellFormed()).toBe(true);
    // Title (notification preview) and heading: at most 100 characters of title.
    expect([...message.markdown.title].length).toBeLessThanOrEqual(100);
    // Each fact: at most 500 bytes once escaped and serialized.
    const facts = blocks(message)[2]?.split('\n') ?? [];
    expect(facts.length).toBeGreaterThan(5);
    for (const fact of facts) {
      expect(countJsonStringBytes(fact.slice(fact.indexOf('**: ') + 4))).toBeLessThanOrEqual(500);
    }
    expect(facts).toContainEqual(expect.stringMatching(/^- \*\*Queue\*\*: q+…$/));
    // The error: first, escaped, line by line in a quote, at most 8,000 bytes.
    const error = section(message, 'Error') ?? '';
    expect(
      error.startsWith(
        '> java.lang.RuntimeException: \\<boom> \\*\\*bold\\*\\*  \n> at org.apache.spark.Foo',
      ),
    ).toBe(true);
    expect(error).toMatch(/…$/);
    expect(countJsonStringBytes(error.slice(2))).toBeLessThanOrEqual(8_000);
    expect(countJsonStringBytes(error.slice(2))).toBeGreaterThan(7_800);
    // The SQL: what is left, escaped, cut with a marker.
    expect(section(message, 'SQL')).toMatch(/^> select '😀数据 & \\<x>' from t where a > 1 -- x+…$/);
    expect(message.at.atMobiles).toEqual(['13800000000', '+86-139-0000-0000']);
  });

  it('escapes markdown in user text: inline markup everywhere, block markers at the start of a line', () => {
    const job = {
      ...finishedJob,
      status: 'FAILED',
      queue_name: 'q*_`~',
      message:
        '# not a heading\n- not a list\n1. not numbered\n> not a quote\n[click](https://evil.example) <font color=red>x</font>',
      statement: 'select a - b, 2. from t -- ok',
    };
    const destination = destinationFor('https://x', { mentions: NO_MENTIONS });
    const message = renderDingTalkMessage(jobEvent(job), destination, RENDER_CONTEXT);

    expect(section(message, 'Error')).toBe(
      [
        '> \\# not a heading',
        '> \\- not a list',
        '> 1\\. not numbered',
        '> \\> not a quote',
        '> \\[click\\](https://evil.example) \\<font color=red>x\\</font>',
      ].join('  \n'),
    );
    // Markers only count at the start of a line: the SQL's "-" and "2." stay as typed.
    expect(section(message, 'SQL')).toBe('> select a - b, 2. from t -- ok');
    expect(blocks(message)[1]).toContain('- **Queue**: q\\*\\_\\`\\~');
  });

  it("uses the destination's title template in the heading and the notification preview", () => {
    const message = renderDingTalkMessage(
      jobEvent(failedJob),
      offlineDestination,
      contextAt(RENDER_TIME, { titleTemplate: '[prod] {queue_name}: {status}' }),
    );
    // The title is user text in the markdown: escaped there, as typed in the notification preview.
    expect(blocks(message)[0]).toBe('### ❌ \\[prod\\] default: FAILED · 208b08d4…');
    expect(message.markdown.title).toBe('❌ [prod] default: FAILED');
  });

  it('renders a job with only an id and a status, without "undefined" anywhere', () => {
    const bare = jobStatusResponseSchema.parse({ job_id: 'abc', status: 'CANCELLED' });
    const message = renderDingTalkMessage(jobEvent(bare), offlineDestination, RENDER_CONTEXT);

    expect(blocks(message).slice(0, 2)).toEqual(['### 🚫 DLI job CANCELLED · abc', '- **Job ID**: abc']);
    expect(JSON.stringify(message)).not.toMatch(/undefined|NaN|null/);
  });
});

describe('dingTalkMentions', () => {
  it('treats digits (with + or -) as mobiles, anything else as user ids, and drops ids that would break the text', () => {
    expect(
      dingTalkMentions({
        users: ['138', '+1-555', '-', 'u_1', 'u 2', '**x**', 'u_1'],
        groups: [],
        all: false,
      }),
    ).toEqual({
      at: { atMobiles: ['138', '+1-555'], atUserIds: ['u_1'], isAtAll: false },
      text: '@138 @+1-555 @u_1',
    });
  });
});

describe('escapeDingTalkMarkdown', () => {
  it('escapes inline markup anywhere and block markers only at the start of a line', () => {
    expect(escapeDingTalkMarkdown('a*b_c`d[e]f<g~h\\i')).toBe('a\\*b\\_c\\`d\\[e\\]f\\<g\\~h\\\\i');
    expect(escapeDingTalkMarkdown('  ## x\n+ y\n= z\n12) w\na - b. c # d > e')).toBe(
      '  \\## x\n\\+ y\n\\= z\n12\\) w\na - b. c # d > e',
    );
  });
});

describe('renderDingTalkDigest', () => {
  it('summarizes 200 events: title, counts, mentions, one list item per job with failures first', () => {
    const message = renderDingTalkDigest(timedDigestEvents(200), offlineDestination, RENDER_CONTEXT);
    const [heading, counts, mentions, list] = blocks(message);
    const lines = list?.split('\n') ?? [];

    expect(Buffer.byteLength(JSON.stringify(message))).toBeLessThanOrEqual(LIMIT_BYTES);
    expect(message.markdown.title).toBe('200 DLI jobs ended');
    expect(heading).toBe('### 200 DLI jobs ended');
    expect(counts).toBe('**❌ 40 failed · ✅ 120 finished · 🚫 40 cancelled**');
    expect(mentions).toBe('@13800000000 @+86-139-0000-0000 @manager4711');
    expect(message.at.atMobiles).toEqual(['13800000000', '+86-139-0000-0000']);
    expect(lines).toHaveLength(200);
    expect(lines[0]).toBe('- ❌ 00000001… FAILED · default · 2 s');
    expect(lines.slice(0, 40).every((line) => line.startsWith('- ❌ '))).toBe(true);
    expect(lines.slice(160).every((line) => line.startsWith('- 🚫 '))).toBe(true);
  });

  it('cuts the list to 20,000 bytes with "… and N more" when it does not all fit', () => {
    const message = renderDingTalkDigest(
      timedDigestEvents(200, (i) => `queue_${i}_${'q'.repeat(200)}`),
      offlineDestination,
      RENDER_CONTEXT,
    );
    const lines = blocks(message)[3]?.split('\n') ?? [];
    const body = JSON.stringify(message);

    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(LIMIT_BYTES);
    expect(Buffer.byteLength(body)).toBeGreaterThan(LIMIT_BYTES - 300);
    const more = lines.at(-1) ?? '';
    expect(more).toMatch(/^- … and \d+ more$/);
    expect(lines.length - 1 + Number(more.match(/\d+/)?.[0])).toBe(200);
    expect(lines[0]).toMatch(/^- ❌ 00000001… FAILED · queue\\_1\\_q+… · 2 s$/);
  });

  it('mentions nobody when nothing failed', () => {
    const message = renderDingTalkDigest(timedDigestEvents(3).slice(2), offlineDestination, RENDER_CONTEXT);
    expect(message.at).toEqual({ atMobiles: [], atUserIds: [], isAtAll: false });
    expect(blocks(message).slice(0, 2)).toEqual(['### 1 DLI job ended', '**✅ 1 finished**']);
    expect(message.markdown.text).not.toContain('@');
  });
});

describe('dingtalkPlatform.renderSummary', () => {
  it('signs one message for the day: the counts, then each list under its own heading in order, mentioning nobody', () => {
    const summary = smallDailySummary({ finished: 40, failureQueue: 'etl_1' });
    const request = dingtalkPlatform.renderSummary(
      summary,
      { ...offlineDestination, secret: SECRET },
      contextAt(RENDER_TIME),
    );
    const message = JSON.parse(request.body) as DingTalkMarkdownMessage;

    expect(new URL(request.url).searchParams.get('sign')).not.toBeNull();
    expect(message.markdown.title).toBe('DLI daily summary · 2026-12-03');
    // Mentions are configured, but yesterday's failures were told when they happened.
    expect(message.at).toEqual({ atMobiles: [], atUserIds: [], isAtAll: false });
    // No "Longest runs": an empty list is left out. The failure counted but not listed is in "… and 1 more".
    expect(blocks(message)).toEqual([
      '### DLI daily summary · 2026-12-03',
      '**❌ 3 failed · ✅ 40 finished · ⏳ 1 still running past their threshold**',
      '#### By queue\n- etl: ✅ 40 finished · ❌ 3 failed',
      [
        '#### Failures',
        '- ❌ 00000000… FAILED · etl\\_1 · 1 min 1 s · first failure in a row',
        '- ❌ 00000001… FAILED · etl\\_1 · 2 min 2 s · 2nd failure in a row since 2026-11-28',
        '- … and 1 more',
      ].join('\n'),
      '#### Still running past their threshold\n- ⏳ 00002000… still RUNNING · etl · 3 h · warn after 2 h',
    ]);
  });
});

describe('dingtalkPlatform.render', () => {
  it('signs in the URL query: timestamp in ms and the URL-encoded HMAC of timestamp + "\\n" + secret', () => {
    const now = RENDER_TIME + 123;
    const request = dingtalkPlatform.render(
      jobEvent(finishedJob),
      { ...offlineDestination, secret: SECRET },
      contextAt(now),
    );
    const url = new URL(request.url);
    const expected = createHmac('sha256', SECRET).update(`${now}\n${SECRET}`).digest('base64');

    expect(url.origin + url.pathname).toBe('https://oapi.dingtalk.com/robot/send');
    expect(url.searchParams.get('access_token')).toBe('abc123');
    expect(url.searchParams.get('timestamp')).toBe(String(now));
    expect(url.searchParams.get('sign')).toBe(expected);
    // Base64's + / = never travel raw in the query.
    expect(request.url).toContain(`&sign=${encodeURIComponent(expected)}`);
    expect(request.headers['content-type']).toBe('application/json');
  });

  it('leaves the URL alone without a secret', () => {
    const request = dingtalkPlatform.render(jobEvent(finishedJob), offlineDestination, RENDER_CONTEXT);
    expect(request.url).toBe(offlineDestination.url);
  });
});

describe('dingtalkPlatform against a DingTalk-like robot', () => {
  const startRobot = receiverStarter(createDingTalkReceiver, RENDER_TIME);
  const deliver = (request: OutgoingRequest) => sendAndJudge(dingtalkPlatform, request);

  it('delivers signed FINISHED, FAILED (50 KB SQL, 10 KB error, mentions) and CANCELLED messages', async () => {
    const { receiver, clock, url } = await startRobot({ secret: SECRET, keywords: ['DLI'] });
    const destination = destinationFor(url, { secret: SECRET });

    for (const job of [finishedJob, hugeDingTalkFailure(), cancelledJob]) {
      const request = dingtalkPlatform.render(jobEvent(job), destination, contextAt(clock.now()));
      expect(await deliver(request)).toEqual({ kind: 'delivered' });
      clock.advance(1000);
    }

    expect(receiver.posted).toHaveLength(3);
    // DingTalk notifies a mobile or user id only when it is both in `at` and written in the text: FAILED only.
    expect(receiver.posted.map((message) => [message.notifiedMobiles, message.notifiedUserIds])).toEqual([
      [[], []],
      [['13800000000', '+86-139-0000-0000'], ['manager4711']],
      [[], []],
    ]);
  });

  it('is refused with 310000 for a wrong secret, judged never to retry', async () => {
    const { receiver, url } = await startRobot({ secret: SECRET });
    const wrong = dingtalkPlatform.render(
      jobEvent(finishedJob),
      destinationFor(url, { secret: 'SECwrong' }),
      RENDER_CONTEXT,
    );

    const outcome = await deliver(wrong);
    expect(outcome.kind).toBe('reject');
    expect(outcome.kind === 'reject' && outcome.reason).toBe(
      '200 {"errcode":310000,"errmsg":"sign not match"} (security check failed: signature, timestamp, keyword or IP allowlist)',
    );
    const unsigned = dingtalkPlatform.render(jobEvent(finishedJob), destinationFor(url), RENDER_CONTEXT);
    expect((await deliver(unsigned)).kind).toBe('reject');
    expect(receiver.posted).toHaveLength(0);
  });

  it('is refused for a timestamp more than an hour off the robot’s clock, accepted within the hour', async () => {
    const { receiver, url } = await startRobot({ secret: SECRET });
    const destination = destinationFor(url, { secret: SECRET });
    const at = (now: number) =>
      deliver(dingtalkPlatform.render(jobEvent(finishedJob), destination, contextAt(now)));

    expect(await at(RENDER_TIME - 3600_001)).toMatchObject({
      kind: 'reject',
      reason: expect.stringContaining('invalid timestamp'),
    });
    expect((await at(RENDER_TIME + 3600_001)).kind).toBe('reject');
    expect(await at(RENDER_TIME - 3599_000)).toEqual({ kind: 'delivered' });
    expect(receiver.posted).toHaveLength(1);
  });

  it.each([
    ['a missing keyword', { keywords: ['deploy'] }, 'keywords not in content'],
    ['an IP not on the allowlist', { ipAllowed: false }, 'not in whitelist'],
  ])('is refused with 310000 for %s, judged never to retry', async (_name, options, errmsg) => {
    const { url } = await startRobot(options);
    const outcome = await deliver(
      dingtalkPlatform.render(jobEvent(finishedJob), destinationFor(url), RENDER_CONTEXT),
    );
    expect(outcome).toMatchObject({ kind: 'reject', reason: expect.stringContaining(errmsg) });
  });

  it('is refused for a text over 20,000 bytes, a malformed message or an unknown token, judged never to retry', async () => {
    const { url } = await startRobot();
    const post = (target: string, body: unknown): OutgoingRequest => ({
      url: target,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const tooLong = { msgtype: 'markdown', markdown: { title: 't', text: '数'.repeat(6667) } };

    expect(await deliver(post(url, tooLong))).toMatchObject({
      kind: 'reject',
      reason: expect.stringContaining('460101'),
    });
    expect(await deliver(post(url, { msgtype: 'markdown', markdown: { title: 't' } }))).toMatchObject({
      kind: 'reject',
      reason: expect.stringContaining('300001'),
    });
    const wrongToken = url.replace('access_token=test-token', 'access_token=other');
    expect(await deliver(post(wrongToken, tooLong))).toMatchObject({
      kind: 'reject',
      reason: expect.stringContaining('300001'),
    });
  });

  it('answers 130101 to the 21st message in a minute and stays throttled for 10 minutes: retry and pause ≥ 10 min', async () => {
    const { receiver, clock, url } = await startRobot({ secret: SECRET });
    const destination = destinationFor(url, { secret: SECRET });
    const send = () =>
      deliver(dingtalkPlatform.render(jobEvent(finishedJob), destination, contextAt(clock.now())));

    for (let i = 0; i < 20; i++) {
      expect(await send()).toEqual({ kind: 'delivered' });
      clock.advance(1000);
    }
    const throttled = await send();
    expect(throttled).toMatchObject({
      kind: 'retry',
      reason: expect.stringContaining('"errcode":130101'),
    });
    if (throttled.kind !== 'retry') return;
    expect(throttled.pauseDestinationMs).toBeGreaterThanOrEqual(10 * MINUTE);
    expect(throttled.retryAfterMs).toBeGreaterThanOrEqual(10 * MINUTE);

    // A minute later the window is empty, but the robot is still throttled.
    clock.advance(5 * MINUTE);
    expect((await send()).kind).toBe('retry');
    clock.advance(5 * MINUTE);
    expect(await send()).toEqual({ kind: 'delivered' });
    expect(receiver.posted).toHaveLength(21);
  });

  it('delivers a signed digest of 200 events, notifying the mentioned people', async () => {
    const { receiver, url } = await startRobot({ secret: SECRET, keywords: ['DLI jobs'] });
    const request = dingtalkPlatform.renderDigest?.(
      everySeventhFailed(200),
      destinationFor(url, { secret: SECRET }),
      RENDER_CONTEXT,
    );
    if (!request) throw new Error('dingtalk has digests');

    expect(await deliver(request)).toEqual({ kind: 'delivered' });
    expect(receiver.posted[0]?.notifiedMobiles).toEqual(['13800000000', '+86-139-0000-0000']);
  });
});

describe('dingtalkPlatform.judge', () => {
  it('retries 130101, pausing the destination for 10 minutes', () => {
    expect(
      dingtalkPlatform.judge(platformResponse(200, '{"errcode":130101,"errmsg":"send too fast"}')),
    ).toEqual({
      kind: 'retry',
      reason:
        '200 {"errcode":130101,"errmsg":"send too fast"} (more than 20 messages a minute: DingTalk throttles this robot for 10 minutes)',
      retryAfterMs: 600_000,
      pauseDestinationMs: 600_000,
    });
  });
});

/** Every DingTalk limit we promise: body and text within 20,000 bytes, a notification title of 100 characters. */
function expectWithinDingTalkLimits(request: OutgoingRequest): void {
  expect(Buffer.byteLength(request.body)).toBeLessThanOrEqual(LIMIT_BYTES);
  const message = JSON.parse(request.body) as DingTalkMarkdownMessage;
  expect(Buffer.byteLength(message.markdown.text)).toBeLessThanOrEqual(LIMIT_BYTES);
  expect([...message.markdown.title].length).toBeLessThanOrEqual(100);
}

/**
 * Who DingTalk notifies: an entry of `at` only when `@<it>` is in the text too, so one missing from the text shows
 * up as such; everyone for `isAtAll`.
 */
function dingTalkMentionTokens(request: OutgoingRequest): string[] {
  const { at, markdown } = JSON.parse(request.body) as DingTalkMarkdownMessage;
  return [
    ...[...at.atMobiles, ...at.atUserIds].map((entry) =>
      markdown.text.includes(`@${entry}`) ? `@${entry}` : `${entry} (in at, not in the text)`,
    ),
    ...(at.isAtAll ? ['@all'] : []),
  ];
}

describePlatformContract({
  kind: 'chat',
  type: 'dingtalk',
  platform: dingtalkPlatform,
  receiver: () => createDingTalkReceiver({ secret: SECRET, now: () => RENDER_TIME }),
  destination: (url) => destinationFor(url, { secret: SECRET }),
  limits: { check: expectWithinDingTalkLimits },
  proof: {
    kind: 'marker',
    unproven: [
      { name: 'a 200 with a proxy page', answer: { status: 200, body: '<html>captive portal</html>' } },
      { name: 'a 200 without an errcode', answer: { status: 200, body: '{"errmsg":"ok"}' } },
    ],
  },
  permanentRefusals: [
    {
      name: 'errcode 310000 (security check)',
      answer: { status: 200, body: '{"errcode":310000,"errmsg":"x"}' },
      reason:
        '200 {"errcode":310000,"errmsg":"x"} (security check failed: signature, timestamp, keyword or IP allowlist)',
    },
    {
      name: 'errcode 300001 (bad token or message)',
      answer: { status: 200, body: '{"errcode":300001,"errmsg":"x"}' },
    },
    {
      name: 'errcode 460101 (message too long)',
      answer: { status: 200, body: '{"errcode":460101,"errmsg":"x"}' },
      reason: '200 {"errcode":460101,"errmsg":"x"} (message too long)',
    },
    {
      name: 'errcode 400102 (robot stopped)',
      answer: { status: 200, body: '{"errcode":400102,"errmsg":"x"}' },
    },
    {
      name: 'a 404 without a DingTalk body',
      answer: { status: 404, body: 'not found' },
      reason: '404 not found',
    },
  ],
  rateLimit: { perMinute: 20 },
  urls: ['https://oapi.dingtalk.com/robot/send?access_token=abc123'],
  lookalikeUrls: ['https://oapi.dingtalk.com.evil.example/robot/send?access_token=abc123'],
  signingSecrets: { valid: [SECRET], invalid: ['SEC', '', 'abc123', 'sec0123456789'] },
  mentionTokens: dingTalkMentionTokens,
  expectedMentionTokens: ['@13800000000', '@+86-139-0000-0000', '@manager4711'],
  mentionsGroups: false,
});
