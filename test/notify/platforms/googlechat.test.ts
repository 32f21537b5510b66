import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type JobStatusResponse, jobStatusResponseSchema } from '../../../lib/dli/schemas.ts';
import { isPlatformResponse, sendOutgoing } from '../../../lib/notify/delivery/post-once.ts';
import {
  type ChatDestination,
  createChatDestination,
  type Mentions,
} from '../../../lib/notify/destination.ts';
import {
  escapeGoogleChatCardText,
  GOOGLE_CHAT_BODY_BUDGET_BYTES,
  GOOGLE_CHAT_MAX_BODY_BYTES,
  GOOGLE_CHAT_MAX_WIDGETS_PER_CARD,
  GOOGLE_CHAT_TEXT_MAX_CHARS,
  type GoogleChatMessage,
  type GoogleChatSection,
  googleChatMentionTokens,
  googleChatPlatform,
  googleChatRequestId,
  renderGoogleChatMessage,
  withRequestId,
} from '../../../lib/notify/platforms/googlechat.ts';
import type { OutgoingRequest } from '../../../lib/notify/platforms/platform.ts';
import { countJsonStringBytes } from '../../../lib/notify/render/text-fit.ts';
import { sendAndJudge } from '../../support/delivery.ts';
import {
  cancelledJob,
  finishedJob,
  hugeErrorText,
  hugeFailedJob,
  hugeStatement,
  jobEvent,
  manyTags,
  numberedEvents,
  RENDER_CONTEXT,
  smallDailySummary,
} from '../../support/events.ts';
import { createManualClock, type ManualClock } from '../../support/manual-clock.ts';
import { describePlatformContract } from '../../support/platform-contract.ts';
import {
  createGoogleChatReceiver,
  type GoogleChatReceiver,
} from '../../support/platforms/googlechat-receiver.ts';

const SPACE = 'AAAAbCdEfGh';
const KEY = 'AIzaSyDdI0hCZtE6vySjMm-WEfRq3CPzqKqqsHI';
// Real tokens end in "=" and arrive percent-encoded in the URL: the URL must survive adding requestId.
const TOKEN = 'y3nJpBMzJ6Yh3mPZnQ_lbd0p4jAP9kq3jBuXBfFaz9A=';
const MENTIONS: Mentions = {
  users: ['123456789', 'users/987654321', 'bad id<x>'],
  groups: ['g1'],
  all: true,
};
const UUID_V5 = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const bytes = (text: string) => Buffer.byteLength(text, 'utf8');

/** A FAILED job as bad as they come: a 50 KB statement and a 10 KB stack trace, with markup in both. */
function hugeGoogleChatFailure(): JobStatusResponse {
  const job = hugeFailedJob(
    hugeStatement("select '😀数据 <users/all> & <b>x</b>' from t where a > 1"),
    hugeErrorText('java.lang.RuntimeException: <users/all> & "quoted"'),
    { queue_name: 'etl <users/all>' },
  );
  // Google Chat counts its text limit in characters: the statement is over 50 K of them too.
  expect(job.statement?.length).toBeGreaterThan(50 * 1024);
  return job;
}

function card(message: GoogleChatMessage) {
  const [only, ...others] = message.cardsV2;
  if (only === undefined || others.length > 0) throw new Error('expected exactly one card');
  return only.card;
}

function section(message: GoogleChatMessage, header: string): GoogleChatSection | undefined {
  return card(message).sections.find((s) => s.header === header);
}

function paragraph(s: GoogleChatSection | undefined): string {
  const widget = s?.widgets[0];
  if (widget === undefined || !('textParagraph' in widget)) throw new Error('expected a text paragraph');
  return widget.textParagraph.text;
}

function decoratedTexts(message: GoogleChatMessage): { topLabel: string; text: string }[] {
  return card(message).sections.flatMap((s) =>
    s.widgets.flatMap((w) =>
      'decoratedText' in w ? [{ topLabel: w.decoratedText.topLabel, text: w.decoratedText.text }] : [],
    ),
  );
}

/** Every limit we promise, checked one by one. */
function expectWithinGoogleChatLimits(body: string): void {
  expect(bytes(body)).toBeLessThanOrEqual(GOOGLE_CHAT_BODY_BUDGET_BYTES);
  expect(bytes(body)).toBeLessThanOrEqual(GOOGLE_CHAT_MAX_BODY_BYTES);
  const message = JSON.parse(body) as GoogleChatMessage;
  expect([...message.text].length).toBeLessThanOrEqual(GOOGLE_CHAT_TEXT_MAX_CHARS);
  const { header, sections } = card(message);
  expect([...header.title].length).toBeLessThanOrEqual(200);
  expect([...(header.subtitle ?? '')].length).toBeLessThanOrEqual(200);
  expect(sections.flatMap((s) => s.widgets).length).toBeLessThanOrEqual(GOOGLE_CHAT_MAX_WIDGETS_PER_CARD);
  for (const { text } of decoratedTexts(message))
    expect(countJsonStringBytes(text)).toBeLessThanOrEqual(1000);
  expect(body.isWellFormed()).toBe(true);
}

describe('Google Chat delivery to a Google Chat-like space', () => {
  let clock: ManualClock;
  let space: GoogleChatReceiver;
  let destination: ChatDestination;

  beforeEach(async () => {
    clock = createManualClock();
    space = createGoogleChatReceiver({ space: SPACE, key: KEY, token: TOKEN, now: clock.now });
    const url = await space.start();
    destination = createChatDestination({ name: 'ops-space', type: 'googlechat', url, mentions: MENTIONS });
  });

  afterEach(async () => {
    await space.close();
  });

  const deliver = (request: OutgoingRequest) => sendAndJudge(googleChatPlatform, request);

  it('delivers a FINISHED job as a card with every fact, the SQL and a console button, without mentions', async () => {
    const event = jobEvent(finishedJob);
    const request = googleChatPlatform.render(event, destination, RENDER_CONTEXT);

    expect(request.headers['content-type']).toBe('application/json; charset=UTF-8');
    const url = new URL(request.url);
    expect(url.pathname).toBe(`/v1/spaces/${SPACE}/messages`);
    expect(url.searchParams.get('key')).toBe(KEY);
    expect(url.searchParams.get('token')).toBe(TOKEN);
    expect(url.searchParams.get('requestId')).toMatch(UUID_V5);
    expect(await deliver(request)).toEqual({ kind: 'delivered' });

    const message = JSON.parse(request.body) as GoogleChatMessage;
    expect(Object.keys(message)).toEqual(['text', 'cardsV2']);
    expect(message.text).toBe('✅ DLI job 208b08d4… FINISHED on queue default after 2.5 s');
    expect(card(message).header).toEqual({
      title: '✅ DLI job FINISHED · 208b08d4…',
      subtitle: 'project 0123456789abcdef0123456789abcdef · cn-north-4',
    });
    expect(decoratedTexts(message)).toEqual([
      { topLabel: 'Job ID', text: '208b08d4-0dc2-4dd7-8879-ddd4c020d7aa' },
      { topLabel: 'Queue', text: 'default' },
      { topLabel: 'Type', text: 'QUERY' },
      { topLabel: 'Owner', text: 'test' },
      { topLabel: 'Started', text: '2017-10-30T03:45:08.918Z' },
      { topLabel: 'Duration', text: '2.5 s' },
      { topLabel: 'Result rows', text: '4' },
      { topLabel: 'Input size', text: '22 B' },
      { topLabel: 'Table', text: 'dbtest.tbtest' },
    ]);
    expect(section(message, 'Error')).toBeUndefined();
    expect(paragraph(section(message, 'SQL'))).toBe('select * from t1');
    expect(card(message).sections.at(-1)?.widgets).toEqual([
      {
        buttonList: {
          buttons: [
            {
              text: 'Open in DLI console',
              onClick: {
                openLink: { url: 'https://console.huaweicloud.com/dli/?region=cn-north-4#/main/jobs/sql' },
              },
            },
          ],
        },
      },
    ]);
    expectWithinGoogleChatLimits(request.body);
    expect(space.posted).toHaveLength(1);
    expect(space.posted[0]?.ignoredWidgets).toBe(0);
  });

  it('delivers a CANCELLED job with its emoji and without mentions or an error section', async () => {
    const request = googleChatPlatform.render(jobEvent(cancelledJob), destination, RENDER_CONTEXT);

    expect(await deliver(request)).toEqual({ kind: 'delivered' });
    const message = JSON.parse(request.body) as GoogleChatMessage;
    expect(message.text).toBe('🚫 DLI job 208b08d4… CANCELLED on queue default after 2.5 s');
    expect(card(message).header.title).toBe('🚫 DLI job CANCELLED · 208b08d4…');
    expect(section(message, 'Error')).toBeUndefined();
    expect(request.body).not.toContain('<users/');
  });

  it('delivers a huge FAILED job within 32,000 bytes, mentioning people in the text where Chat notifies them', async () => {
    const request = googleChatPlatform.render(jobEvent(hugeGoogleChatFailure()), destination, RENDER_CONTEXT);

    expect(await deliver(request)).toEqual({ kind: 'delivered' });
    expectWithinGoogleChatLimits(request.body);
    const message = JSON.parse(request.body) as GoogleChatMessage;
    // Mentions come first in `text`; an id that could break the markup is left out, groups have no webhook form.
    expect(message.text).toBe(
      '<users/123456789> <users/987654321> <users/all> ❌ DLI job 208b08d4… FAILED on queue etl <\u200busers/all> after 2.5 s',
    );
    expect(message.text.match(/<users\//g)).toHaveLength(3);
    expect(card(message).header.title).toBe('❌ DLI job FAILED · 208b08d4…');

    const error = paragraph(section(message, 'Error'));
    expect(
      error.startsWith('java.lang.RuntimeException: &lt;users/all&gt; &amp; "quoted"<br>at org.apache'),
    ).toBe(true);
    expect(error.endsWith('…')).toBe(true);
    expect(countJsonStringBytes(error)).toBeLessThanOrEqual(4000);
    expect(countJsonStringBytes(error)).toBeGreaterThan(3950);
    const sql = paragraph(section(message, 'SQL'));
    expect(sql).toMatch(
      /^select '😀数据 &lt;users\/all&gt; &amp; &lt;b&gt;x&lt;\/b&gt;' from t where a &gt; 1 -- x+…$/,
    );
    expect(countJsonStringBytes(sql)).toBeLessThanOrEqual(6000);
    expect(countJsonStringBytes(sql)).toBeGreaterThan(5990);
    expect(decoratedTexts(message)).toContainEqual({ topLabel: 'Queue', text: 'etl &lt;users/all&gt;' });

    expect(space.posted).toHaveLength(1);
  });

  it('keeps a job with hundreds of long tags and labels within the size budget', async () => {
    const crowded = {
      ...hugeGoogleChatFailure(),
      tags: manyTags(500, '"数据"'.repeat(40)),
      owner: '\\'.repeat(5000),
    };
    const request = googleChatPlatform.render(
      jobEvent(crowded, {
        labels: Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`l${i}`, 'v'.repeat(90)])),
      }),
      {
        ...destination,
        mentions: { users: Array.from({ length: 2000 }, (_, i) => String(1e9 + i)), groups: [], all: true },
      },
      RENDER_CONTEXT,
    );

    expectWithinGoogleChatLimits(request.body);
    const message = JSON.parse(request.body) as GoogleChatMessage;
    // Mentions are whole tokens up to the text limit, and the headline always follows them.
    expect(message.text).toMatch(/^(<users\/\d+> )+❌ DLI job 208b08d4… FAILED/);
    expect(paragraph(section(message, 'Error')).length).toBeGreaterThan(1000);
    expect(await deliver(request)).toEqual({ kind: 'delivered' });
  });

  it('posts a retried event once: the same requestId returns the message already created', async () => {
    const event = jobEvent({ ...finishedJob, status: 'FAILED', message: 'boom' });
    const first = googleChatPlatform.render(event, destination, RENDER_CONTEXT);
    // The retry is rendered later (another run), exactly as the outbox would.
    const retry = googleChatPlatform.render(event, destination, {
      ...RENDER_CONTEXT,
      now: RENDER_CONTEXT.now + 3_600_000,
    });

    expect(retry.url).toBe(first.url);
    expect(retry.body).toBe(first.body);
    const firstAnswer = await sendOutgoing(first, { timeoutMs: 5000 });
    const retryAnswer = await sendOutgoing(retry, { timeoutMs: 5000 });
    if (!isPlatformResponse(firstAnswer) || !isPlatformResponse(retryAnswer)) throw new Error('no answer');

    expect(googleChatPlatform.judge(firstAnswer)).toEqual({ kind: 'delivered' });
    expect(googleChatPlatform.judge(retryAnswer)).toEqual({ kind: 'delivered' });
    expect(JSON.parse(retryAnswer.body).name).toBe(JSON.parse(firstAnswer.body).name);
    expect(space.posted).toHaveLength(1);

    // A different event is a different message.
    const other = googleChatPlatform.render(
      jobEvent({ ...finishedJob, job_id: 'other' }),
      destination,
      RENDER_CONTEXT,
    );
    expect(await deliver(other)).toEqual({ kind: 'delivered' });
    expect(space.posted).toHaveLength(2);
  });

  it('rejects a wrong token for good, without the secret in the reason', async () => {
    const wrongToken = {
      ...destination,
      url: destination.url.replace(encodeURIComponent(TOKEN), 'wrong-token'),
    };
    const outcome = await deliver(
      googleChatPlatform.render(jobEvent(finishedJob), wrongToken, RENDER_CONTEXT),
    );

    expect(outcome).toEqual({
      kind: 'reject',
      reason:
        '401 UNAUTHENTICATED: Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
    });
    expect(JSON.stringify(outcome)).not.toContain('wrong-token');
    expect(space.posted).toHaveLength(0);
  });

  it('rejects a wrong key for good', async () => {
    const wrongKey = { ...destination, url: destination.url.replace(KEY, 'AIzaWrong') };
    const outcome = await deliver(googleChatPlatform.render(jobEvent(finishedJob), wrongKey, RENDER_CONTEXT));
    expect(outcome).toEqual({
      kind: 'reject',
      reason: '400 INVALID_ARGUMENT: API key not valid. Please pass a valid API key.',
    });
  });

  it('rejects a space that does not exist (404) for good', async () => {
    const gone = { ...destination, url: destination.url.replace(SPACE, 'GoneSpace') };
    const outcome = await deliver(googleChatPlatform.render(jobEvent(finishedJob), gone, RENDER_CONTEXT));
    expect(outcome).toEqual({ kind: 'reject', reason: '404 NOT_FOUND: Requested entity was not found.' });
  });

  it('retries the 61st write in a minute (429), then delivers once the minute has passed', async () => {
    for (let i = 0; i < 60; i++) {
      const event = jobEvent({ ...finishedJob, job_id: `job-${i}` });
      expect(await deliver(googleChatPlatform.render(event, destination, RENDER_CONTEXT))).toEqual({
        kind: 'delivered',
      });
      clock.advance(500);
    }
    const request = googleChatPlatform.render(
      jobEvent({ ...finishedJob, job_id: 'job-61' }),
      destination,
      RENDER_CONTEXT,
    );

    const outcome = await deliver(request);
    expect(outcome.kind).toBe('retry');
    expect(outcome.kind === 'retry' && outcome.reason).toMatch(/^429 .*\(rate limited\)$/);
    expect(space.posted).toHaveLength(60);

    clock.advance(60_000);
    expect(await deliver(request)).toEqual({ kind: 'delivered' });
    expect(googleChatPlatform.rateLimit).toEqual({ perMinute: 60, perSecond: 1 });
  });

  it('rejects a message over 32,000 bytes (400) for good', async () => {
    const request = googleChatPlatform.render(jobEvent(finishedJob), destination, RENDER_CONTEXT);
    const tooBig = { ...request, body: JSON.stringify({ text: 'x'.repeat(GOOGLE_CHAT_MAX_BODY_BYTES) }) };
    expect(await deliver(tooBig)).toEqual({
      kind: 'reject',
      reason: '400 INVALID_ARGUMENT: Message exceeds the maximum size of 32000 bytes.',
    });
  });

  it('rejects a payload with a field Google Chat does not know (400) for good', async () => {
    const request = googleChatPlatform.render(jobEvent(finishedJob), destination, RENDER_CONTEXT);
    const outcome = await deliver({ ...request, body: JSON.stringify({ text: 'hi', blocks: [] }) });
    expect(outcome).toEqual({
      kind: 'reject',
      reason: `400 INVALID_ARGUMENT: Invalid JSON payload received. Unknown name "blocks" at 'message': Cannot find field.`,
    });
  });

  it('delivers a digest of 200 events: counts, mentions for the failures, and every job listed, failures first', async () => {
    const events = numberedEvents(200, ['FINISHED', 'FAILED', 'CANCELLED', 'FINISHED']);
    const request = googleChatPlatform.renderDigest?.(events, destination, RENDER_CONTEXT);
    if (!request) throw new Error('Google Chat renders digests');

    expect(await deliver(request)).toEqual({ kind: 'delivered' });
    expectWithinGoogleChatLimits(request.body);
    const message = JSON.parse(request.body) as GoogleChatMessage;
    expect(message.text).toBe(
      '<users/123456789> <users/987654321> <users/all> 200 DLI jobs ended: ❌ 50 failed · ✅ 100 finished · 🚫 50 cancelled',
    );
    expect(card(message).header).toEqual({
      title: '200 DLI jobs ended',
      subtitle: '❌ 50 failed · ✅ 100 finished · 🚫 50 cancelled',
    });
    const lines = paragraph(card(message).sections[0]).split('<br>');
    expect(lines).toHaveLength(200);
    expect(lines[0]).toBe('❌ job-0001… FAILED · queue_1 · 2.5 s');
    expect(lines[50]).toBe('✅ job-0000… FINISHED · queue_0 · 2.5 s');
    expect(lines.at(-1)).toBe('🚫 job-0198… CANCELLED · queue_198 · 2.5 s');
    const { requestId } = Object.fromEntries(new URL(request.url).searchParams);
    expect(requestId).toMatch(UUID_V5);
  });

  it('cuts a digest too big for one message with "… and N more", within the budget', async () => {
    const events = numberedEvents(1000, ['FINISHED'], 'q<&>'.repeat(40));
    const request = googleChatPlatform.renderDigest?.(
      events,
      { ...destination, mentions: MENTIONS },
      RENDER_CONTEXT,
    );
    if (!request) throw new Error('Google Chat renders digests');

    expectWithinGoogleChatLimits(request.body);
    const message = JSON.parse(request.body) as GoogleChatMessage;
    // Nothing FAILED: nobody is mentioned.
    expect(message.text).toBe('1000 DLI jobs ended: ✅ 1000 finished');
    const lines = paragraph(card(message).sections[0]).split('<br>');
    const shown = lines.length - 1;
    expect(lines.at(-1)).toBe(`… and ${1000 - shown} more`);
    // The queue is cut so the line stays within 160 characters (128 and the "…"), before escaping, so no cut
    // lands inside an entity.
    expect(lines[0]).toBe(`✅ job-0000… FINISHED · ${escapeGoogleChatCardText('q<&>'.repeat(32))}… · 2.5 s`);
    // The lines fill the card: less room is left than one more line would take.
    expect(bytes(request.body)).toBeGreaterThan(
      GOOGLE_CHAT_BODY_BUDGET_BYTES - countJsonStringBytes(`<br>${lines[0]}`),
    );
    expect(await deliver(request)).toEqual({ kind: 'delivered' });
  });

  it('delivers a daily summary that mentions nobody: each list under its bold heading, failures with their streaks', async () => {
    const summary = smallDailySummary({ queue: 'etl <&>' });
    const request = googleChatPlatform.renderSummary(summary, destination, RENDER_CONTEXT);

    expect(await deliver(request)).toEqual({ kind: 'delivered' });
    const message = JSON.parse(request.body) as GoogleChatMessage;
    // The destination mentions people, but yesterday's failures were told when they happened.
    expect(message.text).toBe(
      'DLI daily summary · 2026-12-03: ❌ 3 failed · ✅ 10 finished · ⏳ 1 still running past their threshold',
    );
    expect(card(message).header.title).toBe('DLI daily summary · 2026-12-03');
    expect(paragraph(card(message).sections[0]).split('<br>')).toEqual([
      '<b>By queue</b>',
      'etl &lt;&amp;&gt;: ✅ 10 finished · ❌ 3 failed',
      '',
      '<b>Failures</b>',
      '❌ 00000000… FAILED · etl · 1 min 1 s · first failure in a row',
      '❌ 00000001… FAILED · etl · 2 min 2 s · 2nd failure in a row since 2026-11-28',
      '… and 1 more',
      '',
      // No longest runs: that list is left out, heading and all.
      '<b>Still running past their threshold</b>',
      '⏳ 00002000… still RUNNING · etl · 3 h · warn after 2 h',
    ]);
  });
});

describe('googleChatRequestId', () => {
  const url = `https://chat.googleapis.com/v1/spaces/${SPACE}/messages?key=${KEY}&token=${TOKEN}`;

  it('is the same for the same space and event, whatever the key and token', () => {
    const id = googleChatRequestId(url, ['evt_1']);
    expect(id).toMatch(UUID_V5);
    expect(googleChatRequestId(url.replace(KEY, 'other-key').replace(TOKEN, 'other'), ['evt_1'])).toBe(id);
  });

  it('differs between spaces, events and digests', () => {
    const id = googleChatRequestId(url, ['evt_1']);
    expect(googleChatRequestId(url.replace(SPACE, 'OtherSpace'), ['evt_1'])).not.toBe(id);
    expect(googleChatRequestId(url, ['evt_2'])).not.toBe(id);
    expect(googleChatRequestId(url, ['evt_1', 'evt_2'])).not.toBe(id);
  });

  it('is added to the URL without disturbing the key, the token or a thread key', () => {
    const threaded = `${url.replace(TOKEN, encodeURIComponent(TOKEN))}&threadKey=nightly`;
    const sent = new URL(withRequestId(threaded, 'abc'));
    expect(Object.fromEntries(sent.searchParams)).toEqual({
      key: KEY,
      token: TOKEN,
      threadKey: 'nightly',
      requestId: 'abc',
    });
  });
});

describe('renderGoogleChatMessage', () => {
  it('renders a job with only an id and a status, without "undefined" anywhere', () => {
    const bare = jobStatusResponseSchema.parse({ job_id: 'abc', status: 'FAILED' });
    const message = renderGoogleChatMessage(jobEvent(bare), MENTIONS, RENDER_CONTEXT);
    expect(message.text).toBe('<users/123456789> <users/987654321> <users/all> ❌ DLI job abc FAILED');
    expect(decoratedTexts(message)).toEqual([{ topLabel: 'Job ID', text: 'abc' }]);
    expect(section(message, 'Error')).toBeUndefined();
    expect(section(message, 'SQL')).toBeUndefined();
    expect(JSON.stringify(message)).not.toMatch(/undefined|NaN|null/);
  });

  it('uses the destination title template in the card header', () => {
    const message = renderGoogleChatMessage(jobEvent(finishedJob), MENTIONS, {
      ...RENDER_CONTEXT,
      titleTemplate: '{queue_name}: {status}',
    });
    expect(card(message).header.title).toBe('✅ default: FINISHED · 208b08d4…');
  });

  it('maps mentions to <users/…> tokens, dropping ids that could break the markup', () => {
    expect(
      googleChatMentionTokens({
        users: ['1', 'users/2', '1', '<users/all>', 'a b'],
        groups: ['g'],
        all: false,
      }),
    ).toEqual(['<users/1>', '<users/2>']);
  });
});

/** Google's error body, as the API sends it. */
function googleError(code: number, status: string, message: string): { status: number; body: string } {
  return { status: code, body: JSON.stringify({ error: { code, message, status } }, null, 2) };
}

describePlatformContract({
  kind: 'chat',
  type: 'googlechat',
  platform: googleChatPlatform,
  receiver: () =>
    createGoogleChatReceiver({ space: SPACE, key: KEY, token: TOKEN, now: createManualClock().now }),
  destination: (url) =>
    createChatDestination({ name: 'ops-space', type: 'googlechat', url, mentions: MENTIONS }),
  limits: { check: (request) => expectWithinGoogleChatLimits(request.body) },
  proof: {
    kind: 'marker',
    unproven: [
      { name: 'a 200 with a proxy page', answer: { status: 200, body: '<html>captive portal</html>' } },
      {
        name: 'a 200 that is not a created message',
        answer: { status: 200, body: `{"name":"spaces/${SPACE}"}` },
      },
      { name: 'a 204', answer: { status: 204, body: '' } },
    ],
  },
  permanentRefusals: [
    {
      name: '400 INVALID_ARGUMENT (a wrong key)',
      answer: googleError(400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.'),
      reason: '400 INVALID_ARGUMENT: API key not valid. Please pass a valid API key.',
    },
    {
      name: '401 UNAUTHENTICATED (a wrong token)',
      answer: googleError(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.'),
      reason: '401 UNAUTHENTICATED: Request had invalid authentication credentials.',
    },
    {
      name: '403 PERMISSION_DENIED',
      answer: googleError(403, 'PERMISSION_DENIED', 'The caller does not have permission'),
      reason: '403 PERMISSION_DENIED: The caller does not have permission',
    },
    {
      name: '404 NOT_FOUND (the space is gone)',
      answer: googleError(404, 'NOT_FOUND', 'Requested entity was not found.'),
      reason: '404 NOT_FOUND: Requested entity was not found.',
    },
    {
      name: 'a 400 without a Google body',
      answer: { status: 400, body: 'Bad Request' },
      reason: '400 Bad Request',
    },
  ],
  rateLimit: { perMinute: 60, perSecond: 1 },
  urls: [
    `https://chat.googleapis.com/v1/spaces/${SPACE}/messages?key=${KEY}&token=${encodeURIComponent(TOKEN)}`,
  ],
  lookalikeUrls: [`https://chat.googleapis.com.evil.example/v1/spaces/${SPACE}/messages?key=${KEY}`],
  // As broad as can be: even half a <users/…> token would be one too many where nobody is to be mentioned.
  mentionTokens: (request) => [...new Set(request.body.match(/<users\/[^>]*>?/g))],
  expectedMentionTokens: ['<users/123456789>', '<users/987654321>', '<users/all>'],
  mentionsGroups: false,
});
