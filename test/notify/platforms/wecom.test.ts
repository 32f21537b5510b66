import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type JobStatusResponse, jobStatusResponseSchema } from '../../../lib/dli/schemas.ts';
import {
  type ChatDestination,
  createChatDestination,
  type Mentions,
} from '../../../lib/notify/destination.ts';
import type { OutgoingRequest } from '../../../lib/notify/platforms/platform.ts';
import {
  escapeWecomMarkdown,
  renderWecomDigest,
  renderWecomMessage,
  WECOM_MARKDOWN_MAX_BYTES,
  WECOM_TEXT_MAX_BYTES,
  type WecomMarkdownMessage,
  type WecomMessage,
  type WecomTextMessage,
  wecomMentionLists,
  wecomPlatform,
} from '../../../lib/notify/platforms/wecom.ts';
import { EN } from '../../../lib/notify/render/catalogue-en.ts';
import { fitLines } from '../../../lib/notify/render/digest.ts';
import { sendAndJudge } from '../../support/delivery.ts';
import {
  cancelledJob,
  finishedJob,
  hugeErrorText,
  hugeFailedJob,
  hugeStatement,
  jobEvent,
  manyTags,
  NO_MENTIONS,
  numberedEvents,
  RENDER_CONTEXT,
  smallDailySummary,
} from '../../support/events.ts';
import { createManualClock, type ManualClock } from '../../support/manual-clock.ts';
import { describePlatformContract } from '../../support/platform-contract.ts';
import {
  createWecomReceiver,
  WECOM_ERRCODE,
  type WecomReceiver,
} from '../../support/platforms/wecom-receiver.ts';

const ROBOT_KEY = '693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa';
const MENTIONS: Mentions = {
  users: ['zhangsan', '13800001111', 'lisi'],
  groups: ['ignored-group'],
  all: true,
};

const bytes = (text: string) => Buffer.byteLength(text, 'utf8');

/** A FAILED job as bad as they come: a 50 KB statement and a 10 KB stack trace, with markup in both. */
function hugeWecomFailure(): JobStatusResponse {
  return hugeFailedJob(
    hugeStatement(
      `select '😀数据 <font color="info">x</font> <@zhangsan>' from t where a > 1`,
      '数'.repeat(20_000),
    ),
    hugeErrorText('java.lang.RuntimeException: <boom> & [click](https://evil.example)'),
  );
}

function markdown(message: WecomMessage): string {
  if (message.msgtype !== 'markdown') throw new Error(`expected markdown, got ${message.msgtype}`);
  return message.markdown.content;
}

function text(message: WecomMessage): WecomTextMessage['text'] {
  if (message.msgtype !== 'text') throw new Error(`expected text, got ${message.msgtype}`);
  return message.text;
}

/** The block of lines after `**title**` up to the next bold heading or link, quote markers removed. */
function markdownBlock(content: string, title: string): string | undefined {
  const match = content.match(new RegExp(`\\*\\*${title}\\*\\*\\n((?:> .*(?:\\n|$))+)`));
  return match?.[1]?.replace(/\n$/, '');
}

describe('WeCom delivery to a WeCom-like robot', () => {
  let clock: ManualClock;
  let robot: WecomReceiver;
  let destination: ChatDestination;

  beforeEach(async () => {
    clock = createManualClock();
    robot = createWecomReceiver({ key: ROBOT_KEY, now: clock.now });
    const url = await robot.start();
    destination = createChatDestination({ name: 'ops-group', type: 'wecom', url, mentions: MENTIONS });
  });

  afterEach(async () => {
    await robot.close();
  });

  const deliver = (request: OutgoingRequest) => sendAndJudge(wecomPlatform, request);

  it('delivers a FINISHED job as green markdown with every fact, the SQL and the console link', async () => {
    const request = wecomPlatform.render(jobEvent(finishedJob), destination, RENDER_CONTEXT);

    expect(request.url).toBe(destination.url);
    expect(request.headers['content-type']).toBe('application/json');
    expect(await deliver(request)).toEqual({ kind: 'delivered' });

    const message = JSON.parse(request.body) as WecomMarkdownMessage;
    expect(Object.keys(message)).toEqual(['msgtype', 'markdown']);
    const content = markdown(message);
    expect(content.split('\n')).toEqual([
      '### ✅ <font color="info">DLI job FINISHED</font> · 208b08d4…',
      '> **Job ID:** 208b08d4-0dc2-4dd7-8879-ddd4c020d7aa',
      '> **Queue:** default',
      '> **Type:** QUERY',
      '> **Owner:** test',
      '> **Started:** 2017-10-30T03:45:08.918Z',
      '> **Duration:** 2.5 s',
      '> **Result rows:** 4',
      '> **Input size:** 22 B',
      '> **Table:** dbtest.tbtest',
      '**SQL**',
      '> select * from t1',
      '[Open in DLI console](https://console.huaweicloud.com/dli/?region=cn-north-4#/main/jobs/sql)',
      '<font color="comment">project 0123456789abcdef0123456789abcdef · cn-north-4</font>',
    ]);
    // Mentions are configured, but nobody is woken for a job that finished.
    expect(robot.posted).toEqual([
      expect.objectContaining({ msgtype: 'markdown', content, mentionedList: [] }),
    ]);
  });

  it('delivers a CANCELLED job as grey markdown without mentions or an error block', async () => {
    const request = wecomPlatform.render(jobEvent(cancelledJob), destination, RENDER_CONTEXT);

    expect(await deliver(request)).toEqual({ kind: 'delivered' });
    const content = markdown(JSON.parse(request.body));
    expect(content.split('\n')[0]).toBe('### 🚫 <font color="comment">DLI job CANCELLED</font> · 208b08d4…');
    expect(content).not.toContain('**Error**');
    expect(content).not.toContain('cancelled by user');
    expect(robot.posted[0]?.mentionedList).toEqual([]);
    expect(robot.posted[0]?.mentionedMobileList).toEqual([]);
  });

  it('delivers a huge FAILED job with mentions as a text message within 2048 bytes that @s the configured people', async () => {
    const request = wecomPlatform.render(jobEvent(hugeWecomFailure()), destination, RENDER_CONTEXT);

    expect(await deliver(request)).toEqual({ kind: 'delivered' });
    const message = JSON.parse(request.body) as WecomTextMessage;
    expect(message.msgtype).toBe('text');
    expect(Object.keys(message)).toEqual(['msgtype', 'text']);
    // Digits-only entries are mobiles, the rest user ids; "@all" goes with the user ids; groups have no WeCom form.
    expect(message.text.mentioned_list).toEqual(['zhangsan', 'lisi', '@all']);
    expect(message.text.mentioned_mobile_list).toEqual(['13800001111']);

    const content = message.text.content;
    expect(bytes(content)).toBeLessThanOrEqual(WECOM_TEXT_MAX_BYTES);
    // Cut close to the limit, not far below it: the reader gets as much SQL as fits.
    expect(bytes(content)).toBeGreaterThan(WECOM_TEXT_MAX_BYTES - 64);
    expect(
      content.startsWith('❌ DLI job FAILED · 208b08d4…\nJob ID: 208b08d4-0dc2-4dd7-8879-ddd4c020d7aa\n'),
    ).toBe(true);
    const error = content.match(/\nError:\n([\s\S]*?)\nSQL:\n/)?.[1] ?? '';
    expect(
      error.startsWith('java.lang.RuntimeException: <\u200bboom> & [click](https://evil.example)\nat org'),
    ).toBe(true);
    expect(error.endsWith('…')).toBe(true);
    // The error gets at most 30 % of the message, leaving room for the SQL.
    expect(bytes(error)).toBeLessThanOrEqual(0.3 * WECOM_TEXT_MAX_BYTES);
    const sql = content.match(/\nSQL:\n([\s\S]*?)\nOpen in DLI console: /)?.[1] ?? '';
    expect(sql).toMatch(
      /^select '😀数据 <\u200bfont color="info">x<\u200b\/font> <\u200b@zhangsan>' from t where a > 1 -- 数+…$/,
    );
    expect(
      content.endsWith(
        '\nOpen in DLI console: https://console.huaweicloud.com/dli/?region=cn-north-4#/main/jobs/sql\nproject 0123456789abcdef0123456789abcdef · cn-north-4',
      ),
    ).toBe(true);
    expect(content.isWellFormed()).toBe(true);

    expect(robot.posted).toHaveLength(1);
    expect(robot.posted[0]?.mentionedList).toEqual(['zhangsan', 'lisi', '@all']);
  });

  it('delivers a huge FAILED job without mentions as orange-red markdown within 4096 bytes', async () => {
    const quiet = { ...destination, mentions: { users: [], groups: ['only-a-group'], all: false } };
    const request = wecomPlatform.render(jobEvent(hugeWecomFailure()), quiet, RENDER_CONTEXT);

    expect(await deliver(request)).toEqual({ kind: 'delivered' });
    const content = markdown(JSON.parse(request.body));
    expect(bytes(content)).toBeLessThanOrEqual(WECOM_MARKDOWN_MAX_BYTES);
    expect(bytes(content)).toBeGreaterThan(WECOM_MARKDOWN_MAX_BYTES - 64);
    expect(content.split('\n')[0]).toBe('### ❌ <font color="warning">DLI job FAILED</font> · 208b08d4…');

    // Every line of the error stays inside the quote, so a stack trace cannot start a heading.
    const error = markdownBlock(content, 'Error') ?? '';
    expect(
      error.startsWith(
        '> java.lang.RuntimeException: <\u200bboom> & [click]\u200b(https://evil.example)\n> at org',
      ),
    ).toBe(true);
    expect(error.endsWith('…')).toBe(true);
    expect(bytes(error)).toBeLessThanOrEqual(0.3 * WECOM_MARKDOWN_MAX_BYTES);
    const sql = markdownBlock(content, 'SQL') ?? '';
    expect(sql).toMatch(
      /^> select '😀数据 <\u200bfont color="info">x<\u200b\/font> <\u200b@zhangsan>' from t where a > 1 -- 数+…$/,
    );
    // User text never opens a tag of its own: the only <font> tags are ours.
    expect(content.match(/<font /g)).toHaveLength(2);
    expect(content).not.toContain('<@');
    expect(content).not.toContain('](https://evil');
  });

  it('counts bytes, not characters: 4096 CJK characters would be 12 KB', async () => {
    const cjk = { ...finishedJob, statement: '中'.repeat(4096), queue_name: '队列'.repeat(400) };
    const request = wecomPlatform.render(jobEvent(cjk), destination, RENDER_CONTEXT);
    const content = markdown(JSON.parse(request.body));

    expect(content.length).toBeLessThan(WECOM_MARKDOWN_MAX_BYTES / 2);
    expect(bytes(content)).toBeLessThanOrEqual(WECOM_MARKDOWN_MAX_BYTES);
    // A field value is cut at 256 bytes, marker included: 84 three-byte characters and "…".
    expect(content).toContain(`> **Queue:** ${'队列'.repeat(42)}…\n`);
    expect(await deliver(request)).toEqual({ kind: 'delivered' });
  });

  it('keeps many long fields from crowding out the header, error and link', async () => {
    const crowded = {
      ...hugeWecomFailure(),
      tags: manyTags(300, '标签'.repeat(30)),
      owner: 'o'.repeat(2000),
      queue_name: 'q'.repeat(2000),
    };
    const quiet = { ...destination, mentions: NO_MENTIONS };
    const request = wecomPlatform.render(
      jobEvent(crowded, { labels: { team: 'x'.repeat(5000) } }),
      quiet,
      RENDER_CONTEXT,
    );
    const content = markdown(JSON.parse(request.body));

    expect(bytes(content)).toBeLessThanOrEqual(WECOM_MARKDOWN_MAX_BYTES);
    expect(content).toContain('**Error**');
    expect(content).toContain('[Open in DLI console](');
    const fieldBytes = content
      .split('\n')
      .filter((line) => line.startsWith('> **'))
      .reduce((sum, line) => sum + bytes(line) + 1, 0);
    expect(fieldBytes).toBeLessThanOrEqual(0.35 * WECOM_MARKDOWN_MAX_BYTES);
    expect(await deliver(request)).toEqual({ kind: 'delivered' });
  });

  it('rejects a wrong key for good: WeCom answers 200 with errcode 93000', async () => {
    const wrongKey = { ...destination, url: destination.url.replace(ROBOT_KEY, 'not-the-key') };
    const outcome = await deliver(wecomPlatform.render(jobEvent(finishedJob), wrongKey, RENDER_CONTEXT));

    expect(outcome).toEqual({ kind: 'reject', reason: '200 errcode 93000 invalid webhook url' });
    expect(robot.posted).toHaveLength(0);
    // The key is the secret: it never shows up in the reason.
    expect(JSON.stringify(outcome)).not.toContain('not-the-key');
  });

  it('retries after the 20th message in a minute (errcode 45009), pausing the robot for a minute', async () => {
    for (let i = 0; i < 20; i++) {
      const event = jobEvent({ ...finishedJob, job_id: `job-${i}` });
      expect(await deliver(wecomPlatform.render(event, destination, RENDER_CONTEXT))).toEqual({
        kind: 'delivered',
      });
      clock.advance(1000);
    }
    const request = wecomPlatform.render(
      jobEvent({ ...finishedJob, job_id: 'job-21' }),
      destination,
      RENDER_CONTEXT,
    );

    expect(await deliver(request)).toEqual({
      kind: 'retry',
      reason: '200 errcode 45009 api freq out of limit (rate limited)',
      retryAfterMs: 60_000,
      pauseDestinationMs: 60_000,
    });
    expect(robot.posted).toHaveLength(20);

    clock.advance(60_000);
    expect(await deliver(request)).toEqual({ kind: 'delivered' });
    expect(wecomPlatform.rateLimit).toEqual({ perMinute: 20 });
  });

  it('rejects content over the limit for good (errcode 40058): sending it again cannot help', async () => {
    // Only a hand-made message can be too long: render never makes one.
    const tooLong = { msgtype: 'markdown', markdown: { content: '数'.repeat(1366) } };
    expect(bytes(tooLong.markdown.content)).toBe(4098);
    const outcome = await deliver({
      ...wecomPlatform.render(jobEvent(finishedJob), destination, RENDER_CONTEXT),
      body: JSON.stringify(tooLong),
    });

    expect(outcome).toEqual({
      kind: 'reject',
      reason: '200 errcode 40058 markdown.content exceed max length 4096. invalid Request Parameter',
    });
  });

  it.each([
    ['an unknown msgtype', { msgtype: 'card', card: {} }, WECOM_ERRCODE.invalidMessageType],
    ['empty content', { msgtype: 'markdown', markdown: { content: '' } }, WECOM_ERRCODE.emptyContent],
    ['a body that is not JSON', 'not json', WECOM_ERRCODE.dataFormatError],
  ])('rejects %s for good', async (_name, body, errcode) => {
    const request = {
      ...wecomPlatform.render(jobEvent(finishedJob), destination, RENDER_CONTEXT),
      body: typeof body === 'string' ? body : JSON.stringify(body),
    };
    const outcome = await deliver(request);
    expect(outcome.kind).toBe('reject');
    expect(outcome.kind === 'reject' && outcome.reason).toMatch(new RegExp(`^200 errcode ${errcode} `));
  });

  it('delivers a digest of 200 events as markdown within 4096 bytes, failures first, ending with "… and N more"', async () => {
    const events = numberedEvents(200, ['FINISHED', 'FINISHED', 'CANCELLED', 'FINISHED']);
    const quiet = { ...destination, mentions: NO_MENTIONS };
    const request = wecomPlatform.renderDigest?.(events, quiet, RENDER_CONTEXT);
    if (!request) throw new Error('WeCom renders digests');

    expect(await deliver(request)).toEqual({ kind: 'delivered' });
    const content = markdown(JSON.parse(request.body));
    expect(bytes(content)).toBeLessThanOrEqual(WECOM_MARKDOWN_MAX_BYTES);
    expect(bytes(content)).toBeGreaterThan(WECOM_MARKDOWN_MAX_BYTES - 80);
    const lines = content.split('\n');
    expect(lines[0]).toBe('### 200 DLI jobs ended');
    expect(lines[1]).toBe(
      '<font color="info">✅ 150 finished</font> · <font color="comment">🚫 50 cancelled</font>',
    );
    const jobLines = lines.filter((line) => line.startsWith('> '));
    expect(jobLines[0]).toBe('> ✅ job-0000… FINISHED · queue_0 · 2.5 s');
    const more = lines.at(-1) ?? '';
    expect(more).toBe(`… and ${200 - jobLines.length} more`);
    expect(jobLines.length).toBeGreaterThan(50);
  });

  it('delivers a digest with a failure as a text message that mentions people, failures listed first', async () => {
    const events = numberedEvents(200, ['FINISHED', 'FAILED', 'CANCELLED', 'FINISHED']);
    const request = wecomPlatform.renderDigest?.(events, destination, RENDER_CONTEXT);
    if (!request) throw new Error('WeCom renders digests');

    expect(await deliver(request)).toEqual({ kind: 'delivered' });
    const message = text(JSON.parse(request.body));
    expect(message.mentioned_list).toEqual(['zhangsan', 'lisi', '@all']);
    expect(message.mentioned_mobile_list).toEqual(['13800001111']);
    expect(bytes(message.content)).toBeLessThanOrEqual(WECOM_TEXT_MAX_BYTES);
    const lines = message.content.split('\n');
    expect(lines.slice(0, 3)).toEqual([
      '200 DLI jobs ended',
      '❌ 50 failed · ✅ 100 finished · 🚫 50 cancelled',
      '❌ job-0001… FAILED · queue_1 · 2.5 s',
    ]);
    expect(lines.at(-1)).toBe(`… and ${200 - (lines.length - 3)} more`);
  });

  it('links each job of a markdown digest to its console page when the link names the job', () => {
    const context = {
      ...RENDER_CONTEXT,
      consoleUrlTemplate: 'https://console.example.com/jobs/{job_id} (x)',
    };
    const message = renderWecomDigest(numberedEvents(2, ['FINISHED']), NO_MENTIONS, context);
    expect(markdown(message).split('\n').slice(2)).toEqual([
      '> ✅ [job-0000…](https://console.example.com/jobs/job-0000-0dc2-4dd7%20%28x%29) FINISHED · queue_0 · 2.5 s',
      '> ✅ [job-0001…](https://console.example.com/jobs/job-0001-0dc2-4dd7%20%28x%29) FINISHED · queue_1 · 2.5 s',
    ]);
  });

  it('lists every job of a small digest without a "more" line', () => {
    const message = renderWecomDigest(numberedEvents(3, ['FINISHED']), destination.mentions, RENDER_CONTEXT);
    expect(markdown(message).split('\n')).toEqual([
      '### 3 DLI jobs ended',
      '<font color="info">✅ 3 finished</font>',
      '> ✅ job-0000… FINISHED · queue_0 · 2.5 s',
      '> ✅ job-0001… FINISHED · queue_1 · 2.5 s',
      '> ✅ job-0002… FINISHED · queue_2 · 2.5 s',
    ]);
  });

  it('delivers a daily summary as markdown that mentions nobody: each list under its bold heading, failures with their streaks', async () => {
    const summary = smallDailySummary();
    // The destination mentions people, yet the summary stays markdown: it tells of what was already told.
    const request = wecomPlatform.renderSummary(summary, destination, RENDER_CONTEXT);

    expect(await deliver(request)).toEqual({ kind: 'delivered' });
    expect(markdown(JSON.parse(request.body)).split('\n')).toEqual([
      '### DLI daily summary · 2026-12-03',
      '<font color="warning">❌ 3 failed</font> · <font color="info">✅ 10 finished</font> · ⏳ 1 still running past their threshold',
      '**By queue**',
      '> etl: ✅ 10 finished · ❌ 3 failed',
      '',
      '**Failures**',
      '> ❌ 00000000… FAILED · etl · 1 min 1 s · first failure in a row',
      '> ❌ 00000001… FAILED · etl · 2 min 2 s · 2nd failure in a row since 2026-11-28',
      '… and 1 more',
      '',
      // No longest runs: that list is left out, heading and all.
      '**Still running past their threshold**',
      '> ⏳ 00002000… still RUNNING · etl · 3 h · warn after 2 h',
    ]);
  });
});

describe('renderWecomMessage', () => {
  it('mentions nobody on a FAILED job when only groups are configured (WeCom has no group mention)', () => {
    const failed = { ...finishedJob, status: 'FAILED', message: 'boom' };
    const message = renderWecomMessage(
      jobEvent(failed),
      { users: [], groups: ['g1'], all: false },
      RENDER_CONTEXT,
    );
    expect(message.msgtype).toBe('markdown');
  });

  it('renders a job with only an id and a status, without "undefined" anywhere', () => {
    const bare = jobStatusResponseSchema.parse({ job_id: 'abc', status: 'FINISHED' });
    const content = markdown(renderWecomMessage(jobEvent(bare), MENTIONS, RENDER_CONTEXT));
    expect(content.split('\n')).toEqual([
      '### ✅ <font color="info">DLI job FINISHED</font> · abc',
      '> **Job ID:** abc',
      '[Open in DLI console](https://console.huaweicloud.com/dli/?region=cn-north-4#/main/jobs/sql)',
      '<font color="comment">project 0123456789abcdef0123456789abcdef · cn-north-4</font>',
    ]);
    expect(content).not.toMatch(/undefined|NaN|null/);
  });

  it('uses the destination title template', () => {
    const content = markdown(
      renderWecomMessage(jobEvent(finishedJob), MENTIONS, {
        ...RENDER_CONTEXT,
        titleTemplate: '{queue_name}: {status}',
      }),
    );
    expect(content.split('\n')[0]).toBe('### ✅ <font color="info">default: FINISHED</font> · 208b08d4…');
  });

  it('percent-encodes parentheses and spaces so a console link cannot end early', () => {
    const content = markdown(
      renderWecomMessage(jobEvent(finishedJob), MENTIONS, {
        ...RENDER_CONTEXT,
        consoleUrlTemplate: 'https://console.example.com/jobs (new)/{job_id}',
      }),
    );
    expect(content).toContain(
      '[Open in DLI console](https://console.example.com/jobs%20%28new%29/208b08d4-0dc2-4dd7-8879-ddd4c020d7aa)',
    );
  });
});

describe('WeCom helpers', () => {
  it('splits mentions into user ids and mobiles, dropping duplicates and blanks', () => {
    expect(wecomMentionLists({ users: ['a', '138', 'a', ' ', '+86138'], groups: ['g'], all: false })).toEqual(
      {
        userIds: ['a', '+86138'],
        mobiles: ['138'],
      },
    );
  });

  it('escapes markdown so user text cannot colour, link, mention or leave its quote', () => {
    expect(escapeWecomMarkdown('<font color="info">x</font> <@u> [a](b)\n# h')).toBe(
      '<\u200bfont color="info">x<\u200b/font> <\u200b@u> [a]\u200b(b)\n> # h',
    );
  });

  it('fits lines with the "more" line included in the limit', () => {
    const lines = ['aaaa', 'bbbb', 'cccc', 'dddd', 'eeee', 'ffff'];
    const measure = (t: string) => t.length;
    // All six lines with their separators are 29 characters.
    expect(fitLines(lines, 29, measure, '\n', EN.digest.more)).toBe(lines.join('\n'));
    // "aaaa\nbbbb\n… and 4 more" is 22; with a third line it would be 27.
    expect(fitLines(lines, 26, measure, '\n', EN.digest.more)).toBe('aaaa\nbbbb\n… and 4 more');
    expect(fitLines(lines, 18, measure, '\n', EN.digest.more)).toBe('aaaa\n… and 5 more');
    expect(fitLines(lines, 12, measure, '\n', EN.digest.more)).toBe('… and 6 more');
  });
});

/** WeCom's limits, in UTF-8 bytes of the content: 4096 for markdown, 2048 for text (the type that can mention). */
function expectWithinWecomLimits(request: OutgoingRequest): void {
  const message = JSON.parse(request.body) as WecomMessage;
  if (message.msgtype === 'markdown') {
    expect(bytes(message.markdown.content)).toBeLessThanOrEqual(WECOM_MARKDOWN_MAX_BYTES);
  } else {
    expect(message.msgtype).toBe('text');
    expect(bytes(message.text.content)).toBeLessThanOrEqual(WECOM_TEXT_MAX_BYTES);
  }
}

/** Who WeCom notifies: the mention lists of a text message, and any `<@userid>` in the content. */
function wecomMentionTokens(request: OutgoingRequest): string[] {
  const message = JSON.parse(request.body) as WecomMessage;
  const content = message.msgtype === 'text' ? message.text.content : message.markdown.content;
  const lists: Partial<WecomTextMessage['text']> = message.msgtype === 'text' ? message.text : {};
  return [
    ...(lists.mentioned_list ?? []),
    ...(lists.mentioned_mobile_list ?? []),
    ...(content.match(/<@[^>]*>?/g) ?? []),
  ];
}

/** WeCom's error body: its message, then a request hint, the caller's IP and a link (left out of the reason). */
function wecomError(errcode: number, message: string): { status: number; body: string } {
  return {
    status: 200,
    body: JSON.stringify({
      errcode,
      errmsg: `${message}, hint: [1714538355214402001], from ip: 127.0.0.1, more info at https://open.work.weixin.qq.com/devtool/query?e=${errcode}`,
    }),
  };
}

describePlatformContract({
  kind: 'chat',
  // The contract's destination mentions people, so its digest is a text message, which takes no links; the
  // markdown digest links each job (above).
  digestLinks: false,
  type: 'wecom',
  platform: wecomPlatform,
  receiver: () => createWecomReceiver({ key: ROBOT_KEY, now: createManualClock().now }),
  destination: (url) => createChatDestination({ name: 'ops-group', type: 'wecom', url, mentions: MENTIONS }),
  limits: { check: expectWithinWecomLimits },
  proof: {
    kind: 'marker',
    unproven: [
      {
        name: 'a 200 without an errcode: a proxy page',
        answer: { status: 200, body: '<html>captive portal</html>' },
      },
      { name: 'a 204: WeCom answers 200', answer: { status: 204, body: '' } },
    ],
  },
  permanentRefusals: [
    {
      name: 'errcode 93000 (wrong key)',
      answer: wecomError(WECOM_ERRCODE.invalidWebhookUrl, 'invalid webhook url'),
      reason: '200 errcode 93000 invalid webhook url',
    },
    {
      name: 'errcode 40058 (content too long)',
      answer: wecomError(
        WECOM_ERRCODE.contentTooLong,
        'markdown.content exceed max length 4096. invalid Request Parameter',
      ),
      reason: '200 errcode 40058 markdown.content exceed max length 4096. invalid Request Parameter',
    },
    {
      name: 'errcode 40008 (unknown msgtype)',
      answer: wecomError(WECOM_ERRCODE.invalidMessageType, 'invalid message type'),
      reason: '200 errcode 40008 invalid message type',
    },
    {
      name: 'a 404 from something that is not a WeCom robot',
      answer: { status: 404, body: '' },
      reason: '404',
    },
  ],
  rateLimit: { perMinute: 20 },
  urls: [`https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=${ROBOT_KEY}`],
  lookalikeUrls: [`https://qyapi.weixin.qq.com.evil.example/cgi-bin/webhook/send?key=${ROBOT_KEY}`],
  mentionTokens: wecomMentionTokens,
  expectedMentionTokens: ['zhangsan', 'lisi', '@all', '13800001111'],
  mentionsGroups: false,
});
