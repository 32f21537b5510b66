import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type JobStatusResponse, jobStatusResponseSchema } from '../../../lib/dli/schemas.ts';
import { type ChatDestination, createChatDestination } from '../../../lib/notify/destination.ts';
import {
  escapeLarkMd,
  type FeishuElement,
  type FeishuMessage,
  feishuPlatform,
  renderFeishuDigest,
  renderFeishuMessage,
} from '../../../lib/notify/platforms/feishu.ts';
import type { DeliveryOutcome, OutgoingRequest } from '../../../lib/notify/platforms/platform.ts';
import { fitLines, summarizeDigest } from '../../../lib/notify/render/digest.ts';
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
import { createFeishuReceiver } from '../../support/platforms/feishu-receiver.ts';
import { receiverStarter } from '../../support/platforms/platform-receiver.ts';

const SECRET = 'fs-secret-0123456789';
const MENTIONS = { users: ['ou_1a2b3c4d', 'ou_5e6f7a8b'], groups: ['g_not_used'], all: true };
/** Feishu's limit, read strictly: 20 KB as 20,000 bytes. */
const BODY_LIMIT = 20_000;

function destinationFor(url: string, overrides: Partial<ChatDestination> = {}): ChatDestination {
  return createChatDestination({
    name: 'team-feishu',
    type: 'feishu',
    url,
    mentions: MENTIONS,
    ...overrides,
  });
}

const offlineDestination = destinationFor('https://open.feishu.cn/open-apis/bot/v2/hook/abc');

/** A FAILED job carrying a 50 KB statement and a 10 KB error, both with markup and multi-byte characters. */
function hugeFeishuFailure(): JobStatusResponse {
  return hugeFailedJob(
    hugeStatement("select '😀数据 & <x>' from t where a > 1"),
    hugeErrorText('java.lang.RuntimeException: <boom> **bold** [x](https://evil.example)'),
    OVERSIZED_FACTS,
  );
}

function textDivs(message: FeishuMessage): string[] {
  return message.card.elements.flatMap((element) =>
    element.tag === 'div' && 'text' in element ? [element.text.content] : [],
  );
}

function fieldTexts(message: FeishuMessage): string[] {
  return message.card.elements.flatMap((element) =>
    element.tag === 'div' && 'fields' in element ? element.fields.map((field) => field.text.content) : [],
  );
}

function elementOf<T extends FeishuElement['tag']>(message: FeishuMessage, tag: T) {
  return message.card.elements.find((element) => element.tag === tag) as
    | Extract<FeishuElement, { tag: T }>
    | undefined;
}

function bodyBytes(request: OutgoingRequest): number {
  return Buffer.byteLength(request.body, 'utf8');
}

describe('renderFeishuMessage', () => {
  it('renders the finished fixture as a green card with the facts, the SQL and a console button, mentioning nobody', () => {
    const message = renderFeishuMessage(jobEvent(finishedJob), offlineDestination, RENDER_CONTEXT);

    expect(message.msg_type).toBe('interactive');
    expect(message.card.header).toEqual({
      template: 'green',
      title: { tag: 'plain_text', content: '✅ DLI job FINISHED · 208b08d4…' },
    });
    expect(fieldTexts(message)).toEqual([
      '**Job ID**\n208b08d4-0dc2-4dd7-8879-ddd4c020d7aa',
      '**Queue**\ndefault',
      '**Type**\nQUERY',
      '**Owner**\ntest',
      '**Started**\n2017-10-30T03:45:08.918Z',
      '**Duration**\n2.5 s',
      '**Result rows**\n4',
      '**Input size**\n22 B',
      '**Table**\ndbtest.tbtest',
    ]);
    // Mentions are configured, but only a FAILED job notifies people.
    expect(textDivs(message)).toEqual(['**SQL**\nselect &#42; from t1']);
    expect(JSON.stringify(message)).not.toContain('<at');
    expect(elementOf(message, 'action')?.actions).toEqual([
      {
        tag: 'button',
        text: { tag: 'plain_text', content: 'Open in DLI console' },
        url: 'https://console.huaweicloud.com/dli/?region=cn-north-4#/main/jobs/sql',
        type: 'default',
      },
    ]);
    expect(elementOf(message, 'note')?.elements).toEqual([
      { tag: 'plain_text', content: 'project 0123456789abcdef0123456789abcdef · cn-north-4' },
    ]);
    // No secret: no signature fields.
    expect(message).not.toHaveProperty('sign');
    expect(message).not.toHaveProperty('timestamp');
  });

  it('renders a FAILED job red, with the mentions first in a lark_md div and the error before the SQL', () => {
    const message = renderFeishuMessage(jobEvent(failedJob), offlineDestination, RENDER_CONTEXT);

    expect(message.card.header.template).toBe('red');
    expect(message.card.header.title.content).toBe('❌ DLI job FAILED · 208b08d4…');
    expect(message.card.elements[0]).toEqual({
      tag: 'div',
      text: { tag: 'lark_md', content: '<at id=ou_1a2b3c4d></at> <at id=ou_5e6f7a8b></at> <at id=all></at>' },
    });
    expect(textDivs(message).slice(1)).toEqual([
      '**Error**\nDLI.0005: Table not found: tbtest',
      '**SQL**\nselect &#42; from t1',
    ]);
  });

  it('renders a CANCELLED job grey, without an error section or mentions', () => {
    const message = renderFeishuMessage(jobEvent(cancelledJob), offlineDestination, RENDER_CONTEXT);

    expect(message.card.header.template).toBe('grey');
    expect(message.card.header.title.content).toBe('🚫 DLI job CANCELLED · 208b08d4…');
    expect(textDivs(message)).toEqual(['**SQL**\nselect &#42; from t1']);
    expect(JSON.stringify(message)).not.toContain('<at');
  });

  it('keeps a FAILED job with a 50 KB statement and a 10 KB error within every limit', () => {
    const destination = destinationFor('https://open.feishu.cn/open-apis/bot/v2/hook/abc', {
      secret: SECRET,
    });
    const event = jobEvent(hugeFeishuFailure(), { labels: { owner: 'x'.repeat(3000) } });
    const request = feishuPlatform.render(event, destination, RENDER_CONTEXT);
    const message = JSON.parse(request.body) as FeishuMessage;

    // The whole body, signature included, within 20 KB — and filled close to it, not far below.
    expect(bodyBytes(request)).toBeLessThanOrEqual(BODY_LIMIT);
    expect(bodyBytes(request)).toBeGreaterThan(BODY_LIMIT - 200);
    expect(request.body.isWellFormed()).toBe(true);
    // Header title: at most 100 characters.
    expect([...message.card.header.title.content].length).toBeLessThanOrEqual(100);
    // Each field value: at most 500 bytes once escaped and serialized.
    for (const field of fieldTexts(message)) {
      const value = field.slice(field.indexOf('\n') + 1);
      expect(countJsonStringBytes(value)).toBeLessThanOrEqual(500);
    }
    expect(fieldTexts(message)).toContainEqual(expect.stringMatching(/^\*\*Queue\*\*\nq+…$/));
    expect(fieldTexts(message)).toContainEqual(expect.stringMatching(/^\*\*Tags\*\*\ntag0=v+, tag1=v+.*…$/));

    const [mentions, error, sql] = textDivs(message);
    expect(mentions).toBe('<at id=ou_1a2b3c4d></at> <at id=ou_5e6f7a8b></at> <at id=all></at>');
    // The error: first, escaped, cut to at most 8,000 bytes.
    expect(error).toMatch(
      /^\*\*Error\*\*\njava\.lang\.RuntimeException: &#60;boom&#62; &#42;&#42;bold&#42;&#42; &#91;x&#93;\(https:\/\/evil\.example\)\n/,
    );
    expect(error).toMatch(/…$/);
    expect(countJsonStringBytes(error?.slice('**Error**\n'.length) ?? '')).toBeLessThanOrEqual(8_000);
    expect(countJsonStringBytes(error?.slice('**Error**\n'.length) ?? '')).toBeGreaterThan(7_900);
    // The SQL: what is left, escaped, cut with a marker.
    expect(sql).toMatch(/^\*\*SQL\*\*\nselect '😀数据 &#38; &#60;x&#62;' from t where a &#62; 1 -- x+…$/);
  });

  it('escapes lark_md markup in user text, so it cannot mention @all, link or format', () => {
    const job = {
      ...finishedJob,
      status: 'FAILED',
      queue_name: 'q*_~`',
      message: 'bad <at id=all></at> & [click](https://evil.example) **loud** &#60;',
      statement: "select '<at id=all></at>' \\ 1",
      tags: [{ key: 'k', value: '<font color=red>x</font>' }],
    };
    const message = renderFeishuMessage(
      jobEvent(job),
      destinationFor('https://x', { mentions: NO_MENTIONS }),
      RENDER_CONTEXT,
    );
    const everything = JSON.stringify(message);

    expect(everything).not.toContain('<at');
    expect(everything).not.toContain('<font');
    expect(everything).not.toContain('[click]');
    expect(textDivs(message)).toEqual([
      '**Error**\nbad &#60;at id=all&#62;&#60;/at&#62; &#38; &#91;click&#93;(https://evil.example) &#42;&#42;loud&#42;&#42; &#38;#60;',
      "**SQL**\nselect '&#60;at id=all&#62;&#60;/at&#62;' &#92; 1",
    ]);
    expect(fieldTexts(message)).toContain('**Queue**\nq&#42;&#95;&#126;&#96;');
  });

  it('signs with the timestamp in seconds and an HMAC of an empty message keyed by timestamp + "\\n" + secret', () => {
    const now = RENDER_TIME + 999;
    const message = renderFeishuMessage(
      jobEvent(finishedJob),
      { ...offlineDestination, secret: SECRET },
      contextAt(now),
    );
    const timestamp = String(Math.floor(now / 1000));

    expect(message.timestamp).toBe(timestamp);
    expect(message.sign).toBe(
      createHmac('sha256', `${timestamp}\n${SECRET}`).update(Buffer.alloc(0)).digest('base64'),
    );
  });

  it("uses the destination's title template in the header", () => {
    const message = renderFeishuMessage(
      jobEvent(failedJob),
      offlineDestination,
      contextAt(RENDER_TIME, { titleTemplate: '[prod] {queue_name}: {status}' }),
    );
    expect(message.card.header.title.content).toBe('❌ [prod] default: FAILED · 208b08d4…');
  });

  it('leaves out mention ids that could break out of the <at> tag, and group mentions Feishu does not have', () => {
    const destination = destinationFor('https://x', {
      mentions: {
        users: ['ou_ok', 'ou_x></at><at id=all', 'all', 'ou_ok'],
        groups: ['oc_group'],
        all: false,
      },
    });
    const message = renderFeishuMessage(jobEvent(failedJob), destination, RENDER_CONTEXT);
    expect(textDivs(message)[0]).toBe('<at id=ou_ok></at>');
  });

  it('renders a job with only an id and a status, without "undefined" anywhere', () => {
    const bare = jobStatusResponseSchema.parse({ job_id: 'abc', status: 'FAILED' });
    const message = renderFeishuMessage(
      jobEvent(bare),
      destinationFor('https://x', { mentions: NO_MENTIONS }),
      RENDER_CONTEXT,
    );

    expect(fieldTexts(message)).toEqual(['**Job ID**\nabc']);
    expect(textDivs(message)).toEqual([]);
    expect(JSON.stringify(message)).not.toMatch(/undefined|NaN|null/);
  });
});

describe('escapeLarkMd', () => {
  it('turns every markup character into the numeric entity Feishu documents', () => {
    expect(escapeLarkMd('&<>*_~`[]\\')).toBe('&#38;&#60;&#62;&#42;&#95;&#126;&#96;&#91;&#93;&#92;');
    expect(escapeLarkMd('plain 数据 😀 a:b (c) #1')).toBe('plain 数据 😀 a:b (c) #1');
  });
});

describe('renderFeishuDigest', () => {
  const queues = ['default', 'etl', 'adhoc'];

  it('summarizes 200 events: title, counts by status, one line per job with failures first, mentions', () => {
    const events = timedDigestEvents(200, (i) => queues[i % 3] ?? 'default');
    const request = feishuPlatform.renderDigest?.(
      events,
      { ...offlineDestination, secret: SECRET },
      RENDER_CONTEXT,
    );
    if (!request) throw new Error('feishu has digests');
    const message = JSON.parse(request.body) as FeishuMessage;

    expect(bodyBytes(request)).toBeLessThanOrEqual(BODY_LIMIT);
    expect(message.card.header).toEqual({
      template: 'red',
      title: { tag: 'plain_text', content: '200 DLI jobs ended' },
    });
    expect(message.sign).toBeDefined();
    const [mentions, counts, list] = textDivs(message);
    expect(mentions).toBe('<at id=ou_1a2b3c4d></at> <at id=ou_5e6f7a8b></at> <at id=all></at>');
    expect(counts).toBe('**❌ 40 failed · ✅ 120 finished · 🚫 40 cancelled**');
    const lines = list?.split('\n') ?? [];
    // Short lines: all 200 fit in 20 KB.
    expect(lines).toHaveLength(200);
    expect(lines[0]).toBe('❌ 00000001… FAILED · etl · 2 s');
    expect(lines.slice(0, 40).every((line) => line.startsWith('❌ '))).toBe(true);
    expect(lines.slice(40, 160).every((line) => line.startsWith('✅ '))).toBe(true);
    expect(lines.slice(160).every((line) => line.startsWith('🚫 '))).toBe(true);
  });

  it('cuts the job lines to 20 KB with "… and N more" when they do not all fit', () => {
    const events = timedDigestEvents(200, (i) => `queue_${i}_${'q'.repeat(200)}`);
    const request = feishuPlatform.renderDigest?.(events, offlineDestination, RENDER_CONTEXT);
    if (!request) throw new Error('feishu has digests');
    const message = JSON.parse(request.body) as FeishuMessage;
    const lines = textDivs(message)[2]?.split('\n') ?? [];

    expect(bodyBytes(request)).toBeLessThanOrEqual(BODY_LIMIT);
    expect(bodyBytes(request)).toBeGreaterThan(BODY_LIMIT - 300);
    const more = lines.at(-1) ?? '';
    expect(more).toMatch(/^… and \d+ more$/);
    expect(lines.length - 1 + Number(more.match(/\d+/)?.[0])).toBe(200);
    // A queue name is cut to 64 characters in a line, and escaped.
    expect(lines[0]).toMatch(/^❌ 00000001… FAILED · queue&#95;1&#95;q+… · 2 s$/);
  });

  it('is green without mentions when nothing failed, grey when everything was cancelled', () => {
    const finished = [jobEvent(finishedJob), jobEvent({ ...finishedJob, job_id: 'other' })];
    const green = renderFeishuDigest(finished, offlineDestination, RENDER_CONTEXT);
    expect(green.card.header.template).toBe('green');
    expect(textDivs(green)[0]).toBe('**✅ 2 finished**');
    expect(JSON.stringify(green)).not.toContain('<at');

    const grey = renderFeishuDigest([jobEvent(cancelledJob)], offlineDestination, RENDER_CONTEXT);
    expect(grey.card.header).toEqual({
      template: 'grey',
      title: { tag: 'plain_text', content: '1 DLI job ended' },
    });
  });
});

describe('feishuPlatform.renderSummary', () => {
  it('signs one red card for the day: the counts, then each list under its bold heading in order, mentioning nobody', () => {
    const summary = smallDailySummary({ finished: 40, failureQueue: 'etl_1' });
    const request = feishuPlatform.renderSummary(
      summary,
      { ...offlineDestination, secret: SECRET },
      RENDER_CONTEXT,
    );
    const message = JSON.parse(request.body) as FeishuMessage;

    expect(message.sign).toBeDefined();
    expect(message.card.header).toEqual({
      template: 'red',
      title: { tag: 'plain_text', content: 'DLI daily summary · 2026-12-03' },
    });
    // Mentions are configured, but yesterday's failures were told when they happened.
    expect(request.body).not.toContain('<at');
    const [counts, lists] = textDivs(message);
    expect(counts).toBe('**❌ 3 failed · ✅ 40 finished · ⏳ 1 still running past their threshold**');
    // No "Longest runs": an empty list is left out. The failure counted but not listed is in "… and 1 more".
    expect(lists?.split('\n')).toEqual([
      '**By queue**',
      'etl: ✅ 40 finished · ❌ 3 failed',
      '',
      '**Failures**',
      '❌ 00000000… FAILED · etl&#95;1 · 1 min 1 s · first failure in a row',
      '❌ 00000001… FAILED · etl&#95;1 · 2 min 2 s · 2nd failure in a row since 2026-11-28',
      '… and 1 more',
      '',
      '**Still running past their threshold**',
      '⏳ 00002000… still RUNNING · etl · 3 h · warn after 2 h',
    ]);
  });
});

describe('fitLines', () => {
  it('keeps every line that fits and says how many were left out', () => {
    const lines = ['aaaa', 'bbbb', 'cccc', 'dddd'];
    // Four lines of 4 bytes and three separators of 2 (a line break is "\n" in JSON): 22 bytes.
    const fitted = (max: number) => fitLines(lines, max, countJsonStringBytes, '\n', (n) => `+${n}`);
    expect(fitted(22).split('\n')).toEqual(['aaaa', 'bbbb', 'cccc', 'dddd']);
    expect(fitted(21).split('\n')).toEqual(['aaaa', 'bbbb', 'cccc', '+1']);
    // 'aaaa\nbbbb' (10 bytes incl. the JSON "\n") + '\n+2' (4) = 14 ≤ 15.
    expect(fitted(15).split('\n')).toEqual(['aaaa', 'bbbb', '+2']);
    expect(fitted(3).split('\n')).toEqual(['+4']);
    // Not even "+4" fits: nothing is shown.
    expect(fitted(1)).toBe('');
  });
});

describe('summarizeDigest', () => {
  it('counts only the statuses present, failures first', () => {
    const digest = summarizeDigest([jobEvent(cancelledJob), jobEvent(failedJob)], RENDER_CONTEXT);
    expect(digest).toMatchObject({
      title: '2 DLI jobs ended',
      counts: '❌ 1 failed · 🚫 1 cancelled',
      anyFailed: true,
    });
    expect(digest.sections[0]?.lines.map((line) => line.after.trim().split(' ')[0])).toEqual([
      'FAILED',
      'CANCELLED',
    ]);
  });
});

describe('feishuPlatform against a Feishu-like bot', () => {
  const startBot = receiverStarter(createFeishuReceiver, RENDER_TIME);
  const deliver = (request: OutgoingRequest) => sendAndJudge(feishuPlatform, request);

  it('delivers signed FINISHED, FAILED (50 KB SQL, 10 KB error, mentions) and CANCELLED cards', async () => {
    const { receiver, clock, url } = await startBot({ secret: SECRET, keywords: ['DLI'] });
    const destination = destinationFor(url, { secret: SECRET });
    const events = [jobEvent(finishedJob), jobEvent(hugeFeishuFailure()), jobEvent(cancelledJob)];

    for (const event of events) {
      const request = feishuPlatform.render(event, destination, contextAt(clock.now()));
      expect(await deliver(request)).toEqual({ kind: 'delivered' });
      clock.advance(1000);
    }

    expect(receiver.posted).toHaveLength(3);
    // Mentions notify only for the FAILED job, and they sit in a lark_md text, where Feishu notifies.
    expect(receiver.posted.map((message) => message.mentioned)).toEqual([
      [],
      ['ou_1a2b3c4d', 'ou_5e6f7a8b', 'all'],
      [],
    ]);
    expect(
      receiver.posted.map((message) => (message.body.card as FeishuMessage['card']).header.template),
    ).toEqual(['green', 'red', 'grey']);
    for (const request of receiver.http.requests)
      expect(Buffer.byteLength(request.body)).toBeLessThanOrEqual(BODY_LIMIT);
  });

  it('is refused with 19021 for a wrong secret, judged never to retry', async () => {
    const { receiver, url } = await startBot({ secret: SECRET });
    const request = feishuPlatform.render(
      jobEvent(finishedJob),
      destinationFor(url, { secret: 'wrong' }),
      RENDER_CONTEXT,
    );

    const outcome = await deliver(request);
    expect(outcome.kind).toBe('reject');
    expect(outcome.kind === 'reject' && outcome.reason).toMatch(
      /^200 .*"code":19021.*\(signature or timestamp rejected/,
    );
    expect(receiver.posted).toHaveLength(0);
    // No secret at all, when the bot wants one, is the same refusal.
    expect(
      (await deliver(feishuPlatform.render(jobEvent(finishedJob), destinationFor(url), RENDER_CONTEXT))).kind,
    ).toBe('reject');
  });

  it('is refused for a timestamp more than an hour off the bot’s clock, accepted within the hour', async () => {
    const { receiver, url } = await startBot({ secret: SECRET });
    const destination = destinationFor(url, { secret: SECRET });

    const stale = await deliver(
      feishuPlatform.render(jobEvent(finishedJob), destination, contextAt(RENDER_TIME - 3601_000)),
    );
    expect(stale.kind).toBe('reject');
    const ahead = await deliver(
      feishuPlatform.render(jobEvent(finishedJob), destination, contextAt(RENDER_TIME + 3601_000)),
    );
    expect(ahead.kind).toBe('reject');
    const skewed = await deliver(
      feishuPlatform.render(jobEvent(finishedJob), destination, contextAt(RENDER_TIME - 3599_000)),
    );
    expect(skewed).toEqual({ kind: 'delivered' });
    expect(receiver.posted).toHaveLength(1);
  });

  it.each([
    ['19024 (keyword missing)', { keywords: ['deploy'] }, 19024],
    ['19022 (IP not allowed)', { ipAllowed: false }, 19022],
  ])('is refused with %s, judged never to retry', async (_name, options, code) => {
    const { url } = await startBot(options);
    const outcome = await deliver(
      feishuPlatform.render(jobEvent(finishedJob), destinationFor(url), RENDER_CONTEXT),
    );
    expect(outcome.kind).toBe('reject');
    expect(outcome.kind === 'reject' && outcome.reason).toContain(`"code":${code}`);
  });

  it('is refused with 9499 for a body over 20 KB or a card Feishu cannot read, judged never to retry', async () => {
    const { url } = await startBot();
    const tooBig = JSON.stringify({ msg_type: 'text', content: { text: 'x'.repeat(BODY_LIMIT) } });
    const post = (body: string): OutgoingRequest => ({
      url,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });

    for (const body of [
      tooBig,
      '{"msg_type":"interactive","card":{"elements":[{"tag":"bogus"}]}}',
      'not json',
    ]) {
      const outcome = await deliver(post(body));
      expect(outcome.kind).toBe('reject');
      expect(outcome.kind === 'reject' && outcome.reason).toContain('"code":9499');
    }
  });

  it('answers 11232 past 5 messages a second, judged retry; the next second is accepted', async () => {
    const { receiver, clock, url } = await startBot();
    const destination = destinationFor(url);
    const outcomes: DeliveryOutcome[] = [];
    for (let i = 0; i < 6; i++) {
      outcomes.push(
        await deliver(feishuPlatform.render(jobEvent(finishedJob), destination, contextAt(clock.now()))),
      );
    }
    expect(outcomes.slice(0, 5).every((outcome) => outcome.kind === 'delivered')).toBe(true);
    expect(outcomes[5]).toMatchObject({ kind: 'retry', reason: expect.stringContaining('"code":11232') });

    clock.advance(1000);
    expect(
      await deliver(feishuPlatform.render(jobEvent(finishedJob), destination, contextAt(clock.now()))),
    ).toEqual({
      kind: 'delivered',
    });
    expect(receiver.posted).toHaveLength(6);
  });

  it('answers 11232 past 100 messages a minute', async () => {
    const { clock, url } = await startBot();
    const destination = destinationFor(url);
    for (let i = 0; i < 100; i++) {
      expect(
        await deliver(feishuPlatform.render(jobEvent(finishedJob), destination, contextAt(clock.now()))),
      ).toEqual({
        kind: 'delivered',
      });
      clock.advance(500);
    }
    const outcome = await deliver(
      feishuPlatform.render(jobEvent(finishedJob), destination, contextAt(clock.now())),
    );
    expect(outcome.kind).toBe('retry');
  });

  it('accepts the older success body {"StatusCode":0,"StatusMessage":"success"}', async () => {
    const { url } = await startBot({ legacySuccessBody: true });
    const outcome = await deliver(
      feishuPlatform.render(jobEvent(finishedJob), destinationFor(url), RENDER_CONTEXT),
    );
    expect(outcome).toEqual({ kind: 'delivered' });
  });

  it('delivers a signed digest of 200 events', async () => {
    const { receiver, url } = await startBot({ secret: SECRET, keywords: ['DLI jobs'] });
    const request = feishuPlatform.renderDigest?.(
      everySeventhFailed(200),
      destinationFor(url, { secret: SECRET }),
      RENDER_CONTEXT,
    );
    if (!request) throw new Error('feishu has digests');

    expect(await deliver(request)).toEqual({ kind: 'delivered' });
    expect(receiver.posted[0]?.mentioned).toEqual(['ou_1a2b3c4d', 'ou_5e6f7a8b', 'all']);
  });
});

describe('feishuPlatform.judge', () => {
  it('counts only HTTP 200 with code 0 (or the older StatusCode 0) as delivered', () => {
    expect(feishuPlatform.judge(platformResponse(200, '{"code":0,"data":{},"msg":"success"}'))).toEqual({
      kind: 'delivered',
    });
    expect(
      feishuPlatform.judge(platformResponse(200, '{"Extra":null,"StatusCode":0,"StatusMessage":"success"}')),
    ).toEqual({
      kind: 'delivered',
    });
  });

  it('retries code 11232 (rate limited), whatever the HTTP status', () => {
    expect(feishuPlatform.judge(platformResponse(200, '{"code":11232,"msg":"frequency limited"}'))).toEqual({
      kind: 'retry',
      reason: '200 {"code":11232,"msg":"frequency limited"} (rate limited by Feishu)',
    });
    expect(feishuPlatform.judge(platformResponse(400, '{"code":11232,"msg":"frequency limited"}')).kind).toBe(
      'retry',
    );
  });
});

/** Every Feishu limit we promise: the whole body within 20 KB, a title of 100 characters, fields of 500 bytes. */
function expectWithinFeishuLimits(request: OutgoingRequest): void {
  expect(bodyBytes(request)).toBeLessThanOrEqual(BODY_LIMIT);
  const message = JSON.parse(request.body) as FeishuMessage;
  expect([...message.card.header.title.content].length).toBeLessThanOrEqual(100);
  for (const field of fieldTexts(message)) {
    expect(countJsonStringBytes(field.slice(field.indexOf('\n') + 1))).toBeLessThanOrEqual(500);
  }
}

/** Feishu's refusals come as HTTP 200 (or 400) with a code in the body, in its current and its older form. */
const FEISHU_REFUSALS = (
  [
    [200, 19021],
    [200, 19022],
    [200, 19024],
    [200, 9499],
    [400, 9499],
    [200, 2200],
    [200, 19001],
  ] as const
).flatMap(([status, code]) => [
  { name: `HTTP ${status} with code ${code}`, answer: { status, body: `{"code":${code},"msg":"x"}` } },
  {
    name: `HTTP ${status} with StatusCode ${code}`,
    answer: { status, body: `{"StatusCode":${code},"StatusMessage":"x"}` },
  },
]);

describePlatformContract({
  kind: 'chat',
  type: 'feishu',
  platform: feishuPlatform,
  receiver: () => createFeishuReceiver({ secret: SECRET, now: () => RENDER_TIME }),
  destination: (url) => destinationFor(url, { secret: SECRET }),
  limits: { check: expectWithinFeishuLimits },
  proof: {
    kind: 'marker',
    unproven: [
      { name: 'a 200 with a proxy page', answer: { status: 200, body: '<html>captive portal</html>' } },
      { name: 'a 204', answer: { status: 204, body: '' } },
      { name: 'a 202 with code 0: Feishu answers 200', answer: { status: 202, body: '{"code":0}' } },
    ],
  },
  permanentRefusals: [
    {
      name: 'a 404 without a Feishu body',
      answer: { status: 404, body: 'not found' },
      reason: '404 not found',
    },
    ...FEISHU_REFUSALS,
  ],
  rateLimit: { perMinute: 100, perSecond: 5 },
  urls: [
    'https://open.feishu.cn/open-apis/bot/v2/hook/0a1b2c3d-4e5f-6789-abcd-ef0123456789',
    'https://open.larksuite.com/open-apis/bot/v2/hook/0a1b2c3d-4e5f-6789-abcd-ef0123456789',
  ],
  lookalikeUrls: ['https://open.feishu.cn.evil.example/open-apis/bot/v2/hook/abc'],
  signingSecrets: { valid: [SECRET], invalid: [''] },
  // As broad as can be: even half an <at> tag would be one too many where nobody is to be mentioned.
  mentionTokens: (request) => [...new Set(request.body.match(/<at[^>]*>(?:<\/at>)?/g))],
  expectedMentionTokens: ['<at id=ou_1a2b3c4d></at>', '<at id=ou_5e6f7a8b></at>', '<at id=all></at>'],
  mentionsGroups: false,
});
