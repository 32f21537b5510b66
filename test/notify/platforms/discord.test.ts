import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobEvent } from '../../../lib/job.ts';
import { isPlatformResponse, sendOutgoing } from '../../../lib/notify/delivery/post-once.ts';
import {
  type ChatDestination,
  createChatDestination,
  type Mentions,
} from '../../../lib/notify/destination.ts';
import {
  DISCORD_LIMITS,
  type DiscordMessage,
  discordPlatform,
  escapeDiscordMarkdown,
  renderDiscordMentions,
  withWait,
} from '../../../lib/notify/platforms/discord.ts';
import type { DeliveryOutcome, OutgoingRequest } from '../../../lib/notify/platforms/platform.ts';
import { sendAndJudge } from '../../support/delivery.ts';
import {
  cancelledJob,
  contextAt,
  digestEvents,
  finishedJob,
  hugeErrorText,
  hugeFailedJob,
  hugeStatement,
  jobEvent,
  OVERSIZED_FACTS,
  RENDER_TIME,
  smallDailySummary,
} from '../../support/events.ts';
import { createManualClock, type ManualClock } from '../../support/manual-clock.ts';
import { describePlatformContract } from '../../support/platform-contract.ts';
import { createDiscordReceiver, type DiscordReceiver } from '../../support/platforms/discord-receiver.ts';
import { lastSentJson } from '../../support/platforms/platform-receiver.ts';

const WEBHOOK_ID = '1200000000000000001';
const TOKEN = 'tOkEn-secret_0123456789';
const ALICE = '111111111111111111';
const BOB = '222222222222222222';
const ONCALL_ROLE = '333333333333333333';
const MENTIONS: Mentions = { users: [ALICE, BOB], groups: [ONCALL_ROLE], all: true };

/** A FAILED job at its worst: 50 KB of SQL, 10 KB of stack trace, Markdown and mentions in user text. */
function hugeFailedEvent(): JobEvent {
  const job = hugeFailedJob(
    hugeStatement("select '😀数据 **not bold** <@999999999999999999>' from t"),
    hugeErrorText('java.lang.RuntimeException: *boom* @everyone'),
    OVERSIZED_FACTS,
  );
  // Discord counts its limits in characters: the statement is over 50 K of them too.
  expect(job.statement?.length).toBeGreaterThan(50 * 1024);
  return jobEvent(job);
}

/** Every Discord limit from docs/platforms.md, checked one by one, in UTF-16 units (never fewer than Discord's). */
function expectWithinDiscordLimits(message: DiscordMessage): void {
  expect(message.content?.length ?? 0).toBeLessThanOrEqual(2000);
  expect(message.embeds.length).toBeLessThanOrEqual(10);
  let total = 0;
  for (const embed of message.embeds) {
    expect(embed.title.length).toBeLessThanOrEqual(256);
    expect(embed.description?.length ?? 0).toBeLessThanOrEqual(4096);
    expect(embed.fields?.length ?? 0).toBeLessThanOrEqual(25);
    for (const field of embed.fields ?? []) {
      expect(field.name.length).toBeGreaterThan(0);
      expect(field.name.length).toBeLessThanOrEqual(256);
      expect(field.value.length).toBeGreaterThan(0);
      expect(field.value.length).toBeLessThanOrEqual(1024);
      total += field.name.length + field.value.length;
    }
    expect(embed.footer?.text.length ?? 0).toBeLessThanOrEqual(2048);
    total += embed.title.length + (embed.description?.length ?? 0) + (embed.footer?.text.length ?? 0);
  }
  expect(total).toBeLessThanOrEqual(6000);
  expect(message.allowed_mentions.users?.length ?? 0).toBeLessThanOrEqual(100);
  expect(message.allowed_mentions.roles?.length ?? 0).toBeLessThanOrEqual(100);
  expect(JSON.stringify(message).isWellFormed()).toBe(true);
}

let clock: ManualClock;
let receiver: DiscordReceiver;
let destination: ChatDestination;

/** Sends for real and judges the answer; then moves the clock past the rate-limit window. */
async function deliver(request: OutgoingRequest): Promise<DeliveryOutcome> {
  const outcome = await sendAndJudge(discordPlatform, request);
  clock.advance(2000);
  return outcome;
}

const sentPayload = () => lastSentJson<DiscordMessage>(receiver);

beforeEach(async () => {
  clock = createManualClock(RENDER_TIME);
  receiver = createDiscordReceiver({ webhookId: WEBHOOK_ID, token: TOKEN, now: clock.now });
  const url = await receiver.start();
  destination = createChatDestination({ name: 'ops', type: 'discord', url, mentions: MENTIONS });
});

afterEach(async () => {
  await receiver.close();
});

describe('discordPlatform.render, delivered to a Discord-like webhook', () => {
  it('posts a FINISHED job as a green embed with the facts, the SQL and a console link, pinging nobody', async () => {
    expect(
      await deliver(discordPlatform.render(jobEvent(finishedJob), destination, contextAt(clock.now()))),
    ).toEqual({
      kind: 'delivered',
    });

    const [request] = receiver.http.requests;
    expect(new URL(request?.path ?? '', 'http://x').searchParams.get('wait')).toBe('true');
    const message = sentPayload();
    expect(message.content).toBeUndefined();
    expect(message.allowed_mentions).toEqual({ parse: [] });
    const [embed] = message.embeds;
    expect(embed).toMatchObject({
      title: '✅ DLI job FINISHED · 208b08d4…',
      url: 'https://console.huaweicloud.com/dli/?region=cn-north-4#/main/jobs/sql',
      color: 0x57f287,
      description: '**SQL**\n```sql\nselect * from t1\n```',
      footer: { text: 'project 0123456789abcdef0123456789abcdef · cn-north-4' },
      timestamp: '2024-01-02T03:04:00.000Z',
    });
    expect(embed?.fields).toEqual([
      { name: 'Job ID', value: '208b08d4\\-0dc2\\-4dd7\\-8879\\-ddd4c020d7aa', inline: false },
      { name: 'Queue', value: 'default', inline: true },
      { name: 'Type', value: 'QUERY', inline: true },
      { name: 'Owner', value: 'test', inline: true },
      { name: 'Started', value: '2017\\-10\\-30T03:45:08.918Z', inline: true },
      { name: 'Duration', value: '2.5 s', inline: true },
      { name: 'Result rows', value: '4', inline: true },
      { name: 'Input size', value: '22 B', inline: true },
      { name: 'Table', value: 'dbtest.tbtest', inline: true },
    ]);
    expectWithinDiscordLimits(message);
    expect(receiver.posted[0]?.pinged).toEqual({ users: [], roles: [], everyone: false });
  });

  it('posts a FAILED job with 50 KB of SQL and 10 KB of error within every limit, pinging exactly the mentions', async () => {
    const outcome = await deliver(
      discordPlatform.render(hugeFailedEvent(), destination, contextAt(clock.now())),
    );
    expect(outcome).toEqual({ kind: 'delivered' });

    const message = sentPayload();
    expectWithinDiscordLimits(message);
    const [embed] = message.embeds;
    expect(embed?.color).toBe(0xed4245);
    // Mentions go in content (embeds notify nobody), and allowed_mentions names exactly them.
    expect(message.content).toMatch(
      new RegExp(
        `^@everyone <@${ALICE}> <@${BOB}> <@&${ONCALL_ROLE}> ❌ DLI job 208b08d4… FAILED on queue q+…$`,
      ),
    );
    expect(message.content?.length).toBe(2000);
    expect(message.allowed_mentions).toEqual({
      parse: ['everyone'],
      users: [ALICE, BOB],
      roles: [ONCALL_ROLE],
    });
    // What the receiver worked out: the mention inside the SQL pinged nobody.
    expect(receiver.posted[0]?.pinged).toEqual({ users: [ALICE, BOB], roles: [ONCALL_ROLE], everyone: true });

    // The error first, cut; then the SQL, cut; both still closed code blocks.
    const description = embed?.description ?? '';
    expect(description).toMatch(
      /^\*\*Error\*\*\n```\njava\.lang\.RuntimeException: \*boom\* @everyone\nat org/,
    );
    expect(description).toMatch(
      /…\n```\n\*\*SQL\*\*\n```sql\nselect '😀数据 \*\*not bold\*\* <@999999999999999999>' from t -- x+…\n```$/,
    );
    expect(description.match(/```/g)).toHaveLength(4);
    // Cut close to the description limit, not far below it.
    expect(description.length).toBeGreaterThan(4000);
    expect(description.length).toBeLessThanOrEqual(4096);
    // Long field values are cut to our own 200-character cap.
    const queue = embed?.fields?.find((f) => f.name === 'Queue');
    expect(queue?.value).toBe(`${'q'.repeat(199)}…`);
    const tags = embed?.fields?.find((f) => f.name === 'Tags');
    expect(tags?.value.length).toBeLessThanOrEqual(200);
    expect(tags?.value).toMatch(/^tag0=v+, tag1=v+.*…$/);
  });

  it('keeps the embed within 6000 in total when every fact, the title and the footer are long too', async () => {
    const long = (c: string) => c.repeat(5000);
    const event = hugeFailedEvent();
    const job = {
      ...event.job,
      job_type: long('t'),
      owner: long('_'),
      database_name: long('d'),
      table_name: long('t'),
    };
    const request = discordPlatform.render(
      jobEvent(job, { labels: { team: long('l') }, projectId: long('p') }),
      destination,
      { ...contextAt(clock.now()), titleTemplate: long('T') },
    );
    expect(await deliver(request)).toEqual({ kind: 'delivered' });
    const message = sentPayload();
    expectWithinDiscordLimits(message);
    const [embed] = message.embeds;
    expect(embed?.title.length).toBe(256);
    expect(embed?.footer?.text).toMatch(/^project p+…$/);
    expect(embed?.footer?.text.length).toBe(200);
    expect(embed?.fields?.find((f) => f.name === 'Owner')?.value).toBe(`${'\\_'.repeat(99)}…`);
    const used =
      (embed?.title.length ?? 0) +
      (embed?.footer?.text.length ?? 0) +
      (embed?.fields ?? []).reduce((sum, f) => sum + f.name.length + f.value.length, 0);
    // The description takes what the rest leaves, up to its own limit, and no less.
    expect(embed?.description?.length).toBe(Math.min(4096, 6000 - used));
  });

  it('posts a CANCELLED job as a grey embed without mentions, although mentions are configured', async () => {
    expect(
      await deliver(discordPlatform.render(jobEvent(cancelledJob), destination, contextAt(clock.now()))),
    ).toEqual({
      kind: 'delivered',
    });
    const message = sentPayload();
    expect(message.content).toBeUndefined();
    expect(message.allowed_mentions).toEqual({ parse: [] });
    expect(message.embeds[0]?.title).toBe('🚫 DLI job CANCELLED · 208b08d4…');
    expect(message.embeds[0]?.color).toBe(0x95a5a6);
    expect(message.embeds[0]?.description).not.toContain('Error');
    expect(receiver.posted[0]?.pinged).toEqual({ users: [], roles: [], everyone: false });
  });

  it('never mentions anyone for a FINISHED job', async () => {
    await deliver(discordPlatform.render(jobEvent(finishedJob), destination, contextAt(clock.now())));
    expect(sentPayload().content).toBeUndefined();
    expect(receiver.posted[0]?.message.mention_everyone).toBe(false);
  });

  it('escapes Markdown and mentions in user text, so a queue name can neither format, link nor ping', async () => {
    const sneaky = {
      ...finishedJob,
      status: 'FAILED',
      queue_name: '**bold** [x](https://evil.example) <@999999999999999999> @here',
      message: 'no',
    };
    const quiet = { ...destination, mentions: { users: [ALICE], groups: [], all: false } };
    expect(await deliver(discordPlatform.render(jobEvent(sneaky), quiet, contextAt(clock.now())))).toEqual({
      kind: 'delivered',
    });
    const message = sentPayload();
    const queue = message.embeds[0]?.fields?.find((f) => f.name === 'Queue');
    expect(queue?.value).toBe(
      '\\*\\*bold\\*\\* \\[x\\](https://evil.example) \\<\\@999999999999999999\\> \\@here',
    );
    expect(message.content).toContain('\\<\\@999999999999999999\\> \\@here');
    expect(message.allowed_mentions).toEqual({ parse: [], users: [ALICE] });
    expect(receiver.posted[0]?.pinged).toEqual({ users: [ALICE], roles: [], everyone: false });
  });

  it('leaves out mention ids that are not snowflakes rather than have Discord refuse the message', () => {
    const rendered = renderDiscordMentions({ users: ['alice', ALICE, ALICE], groups: ['<@&1>'], all: false });
    expect(rendered).toEqual({ text: `<@${ALICE}>`, allowed: { parse: [], users: [ALICE] } });
  });

  it('adds wait=true to a URL that already has a query, and overrides wait=false', () => {
    const base = `https://discord.com/api/webhooks/${WEBHOOK_ID}/${TOKEN}`;
    expect(withWait(`${base}?thread_id=42`)).toBe(`${base}?thread_id=42&wait=true`);
    expect(withWait(`${base}?wait=false`)).toBe(`${base}?wait=true`);
    const request = discordPlatform.render(
      jobEvent(finishedJob),
      { ...destination, url: `${base}?thread_id=42` },
      contextAt(clock.now()),
    );
    expect(request.url).toBe(`${base}?thread_id=42&wait=true`);
  });

  it('posts into a thread when the URL names one, still waiting for the message', async () => {
    const inThread = { ...destination, url: `${destination.url}?thread_id=1300000000000000001` };
    expect(
      await deliver(discordPlatform.render(jobEvent(finishedJob), inThread, contextAt(clock.now()))),
    ).toEqual({
      kind: 'delivered',
    });
    expect(receiver.posted[0]?.query.get('thread_id')).toBe('1300000000000000001');
    expect(receiver.posted[0]?.query.get('wait')).toBe('true');
  });
});

describe('discordPlatform.judge, on what the Discord-like webhook answers', () => {
  it('rejects a wrong token for good (401 Invalid Webhook Token)', async () => {
    const wrong = { ...destination, url: destination.url.replace(TOKEN, 'not-the-token') };
    const outcome = await deliver(
      discordPlatform.render(jobEvent(finishedJob), wrong, contextAt(clock.now())),
    );
    expect(outcome).toEqual({
      kind: 'reject',
      reason:
        '401 {"message":"Invalid Webhook Token","code":50027} (the webhook token is wrong: copy the URL again)',
    });
    expect(outcome.kind === 'reject' && outcome.reason).not.toContain('not-the-token');
    expect(receiver.posted).toHaveLength(0);
  });

  it('rejects a deleted webhook for good (404 Unknown Webhook)', async () => {
    const deleted = { ...destination, url: destination.url.replace(WEBHOOK_ID, '1299999999999999999') };
    const outcome = await deliver(
      discordPlatform.render(jobEvent(finishedJob), deleted, contextAt(clock.now())),
    );
    expect(outcome).toEqual({
      kind: 'reject',
      reason: '404 {"message":"Unknown Webhook","code":10015} (the webhook was deleted: stop using it)',
    });
  });

  it('rejects an invalid form body (400, code 50035) for good', async () => {
    const request: OutgoingRequest = {
      url: withWait(destination.url),
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ embeds: [{ title: 't'.repeat(257) }] }),
    };
    const outcome = await deliver(request);
    expect(outcome.kind).toBe('reject');
    expect(outcome.kind === 'reject' && outcome.reason).toMatch(
      /^400 \{"message":"Invalid Form Body","code":50035/,
    );
    expect(outcome.kind === 'reject' && outcome.reason).toContain('BASE_TYPE_MAX_LENGTH');
  });

  it('the receiver refuses an embed total over 6000 that each field alone would allow', async () => {
    const fields = Array.from({ length: 7 }, (_, i) => ({ name: `f${i}`, value: 'v'.repeat(1000) }));
    const request: OutgoingRequest = {
      url: withWait(destination.url),
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ embeds: [{ title: 't', fields }] }),
    };
    const outcome = await deliver(request);
    expect(outcome.kind === 'reject' && outcome.reason).toContain('MAX_EMBED_SIZE_EXCEEDED');
  });

  it('retries after the body retry_after when the webhook bucket is empty (429)', async () => {
    const event = jobEvent(finishedJob);
    for (let i = 0; i < 5; i++) {
      const answer = await sendOutgoing(discordPlatform.render(event, destination, contextAt(clock.now())), {
        timeoutMs: 5000,
      });
      expect(isPlatformResponse(answer) && discordPlatform.judge(answer)).toEqual({ kind: 'delivered' });
      clock.advance(100);
    }
    const answer = await sendOutgoing(discordPlatform.render(event, destination, contextAt(clock.now())), {
      timeoutMs: 5000,
    });
    if (!isPlatformResponse(answer)) throw new Error('no answer');
    expect(answer.status).toBe(429);
    expect(JSON.parse(answer.body)).toEqual({
      message: 'You are being rate limited.',
      code: 0,
      retry_after: 1.5,
      global: false,
    });
    expect(answer.headers.get('retry-after')).toBe('2');
    // The body's 1.5 s, more precise than the header's rounded 2 s.
    expect(discordPlatform.judge(answer)).toEqual({
      kind: 'retry',
      reason:
        '429 {"message":"You are being rate limited.","code":0,"retry_after":1.5,"global":false} (rate limited)',
      retryAfterMs: 1500,
    });
    // Once the window has passed, the same message goes through.
    clock.advance(1500);
    expect(await deliver(discordPlatform.render(event, destination, contextAt(clock.now())))).toEqual({
      kind: 'delivered',
    });
  });

  it('retries a 429 that has only a Retry-After header (Cloudflare in front of Discord)', async () => {
    receiver.http.respondNext({
      status: 429,
      body: '<html>error code: 1015</html>',
      headers: { 'content-type': 'text/html', 'retry-after': '30' },
    });
    const outcome = await deliver(
      discordPlatform.render(jobEvent(finishedJob), destination, contextAt(clock.now())),
    );
    expect(outcome).toEqual({
      kind: 'retry',
      reason: '429 <html>error code: 1015</html> (rate limited)',
      retryAfterMs: 30_000,
    });
  });

  it('rejects 204: without ?wait=true Discord would not report a message it failed to save', async () => {
    const request = discordPlatform.render(jobEvent(finishedJob), destination, contextAt(clock.now()));
    const outcome = await deliver({ ...request, url: destination.url });
    expect(outcome).toEqual({
      kind: 'reject',
      reason: '204 (no message in the answer: ?wait=true did not reach Discord)',
    });
  });
});

describe('discordPlatform.renderDigest', () => {
  const digestRequest = (events: JobEvent[]) =>
    discordPlatform.renderDigest?.(events, destination, contextAt(clock.now())) as OutgoingRequest;

  it('sums up 200 jobs in one embed within every limit, failures first, with "… and N more"', async () => {
    const events = digestEvents(200, 'etl_*nightly*');
    expect(await deliver(digestRequest(events))).toEqual({
      kind: 'delivered',
    });
    const message = sentPayload();
    expectWithinDiscordLimits(message);
    const [embed] = message.embeds;
    expect(embed?.title).toBe('200 DLI jobs ended');
    expect(embed?.color).toBe(0xed4245);
    const lines = (embed?.description ?? '').split('\n');
    expect(lines[0]).toBe('❌ 20 failed · ✅ 160 finished · 🚫 20 cancelled');
    expect(lines[1]).toBe('');
    const jobLines = lines.slice(2, -1);
    expect(jobLines[0]).toBe('❌ 00000003… FAILED · etl\\_\\*nightly\\* · 2.5 s');
    expect(jobLines.slice(0, 20).every((line) => line.startsWith('❌'))).toBe(true);
    expect(lines.at(-1)).toBe(`… and ${200 - jobLines.length} more`);
    expect(jobLines.length).toBeGreaterThan(50);
    expect(embed?.description?.length).toBeGreaterThan(4000);
    expect(message.content).toBe(
      `@everyone <@${ALICE}> <@${BOB}> <@&${ONCALL_ROLE}> 200 DLI jobs ended: ❌ 20 failed · ✅ 160 finished · 🚫 20 cancelled`,
    );
    expect(receiver.posted[0]?.pinged).toEqual({ users: [ALICE, BOB], roles: [ONCALL_ROLE], everyone: true });
  });

  it('lists every job when they fit, and mentions nobody when none failed', async () => {
    const events = digestEvents(3, 'etl_*nightly*').filter((event) => event.status !== 'FAILED');
    expect(await deliver(digestRequest(events))).toEqual({
      kind: 'delivered',
    });
    const message = sentPayload();
    expect(message.content).toBeUndefined();
    expect(message.allowed_mentions).toEqual({ parse: [] });
    expect(message.embeds[0]?.color).toBe(0x57f287);
    expect(message.embeds[0]?.description).toBe(
      '✅ 3 finished\n\n✅ 00000000… FINISHED · default · 2.5 s\n✅ 00000001… FINISHED · etl\\_\\*nightly\\* · 2.5 s\n✅ 00000002… FINISHED · default · 2.5 s',
    );
  });
});

describe('discordPlatform.renderSummary', () => {
  it('posts the day as one embed: the counts, then each list under its bold heading in order, pinging nobody', async () => {
    const summary = smallDailySummary({ finished: 40 });
    const request = discordPlatform.renderSummary(summary, destination, contextAt(clock.now()));
    expect(await deliver(request)).toEqual({ kind: 'delivered' });

    const message = sentPayload();
    expectWithinDiscordLimits(message);
    const [embed] = message.embeds;
    expect(embed?.title).toBe('DLI daily summary · 2026-12-03');
    expect(embed?.color).toBe(0xed4245);
    // No "Longest runs": an empty list is left out. The failure counted but not listed is in "… and 1 more".
    expect(embed?.description?.split('\n')).toEqual([
      '❌ 3 failed · ✅ 40 finished · ⏳ 1 still running past their threshold',
      '',
      '**By queue**',
      'etl: ✅ 40 finished · ❌ 3 failed',
      '',
      '**Failures**',
      '❌ 00000000… FAILED · etl · 1 min 1 s · first failure in a row',
      '❌ 00000001… FAILED · etl · 2 min 2 s · 2nd failure in a row since 2026\\-11\\-28',
      '… and 1 more',
      '',
      '**Still running past their threshold**',
      '⏳ 00002000… still RUNNING · etl · 3 h · warn after 2 h',
    ]);
    // Mentions are configured, but yesterday's failures were told when they happened.
    expect(message.allowed_mentions).toEqual({ parse: [] });
    expect(receiver.posted[0]?.pinged).toEqual({ users: [], roles: [], everyone: false });
  });
});

describe('escapeDiscordMarkdown', () => {
  it('escapes each Markdown character on its own, so lengths add up', () => {
    expect(escapeDiscordMarkdown('a_b *c* ~d~ `e` ||f|| [g](h) <@1> # - > \\')).toBe(
      'a\\_b \\*c\\* \\~d\\~ \\`e\\` \\|\\|f\\|\\| \\[g\\](h) \\<\\@1\\> \\# \\- \\> \\\\',
    );
    expect(DISCORD_LIMITS.embedTotal).toBe(6000);
  });
});

/** Who a Discord message may ping: the mentions in `content` and what `allowed_mentions` lets through. */
function discordMentionTokens(request: OutgoingRequest): string[] {
  const message = JSON.parse(request.body) as DiscordMessage;
  const allowed = message.allowed_mentions;
  return [
    ...new Set([
      ...(message.content?.match(/@everyone|@here|<@[^>]*>?/g) ?? []),
      ...allowed.parse.map((kind) => `@${kind}`),
      ...(allowed.users ?? []).map((id) => `<@${id}>`),
      ...(allowed.roles ?? []).map((id) => `<@&${id}>`),
    ]),
  ];
}

const discordAnswer = (status: number, message: string, code: number) => ({
  status,
  body: JSON.stringify({ message, code }),
});

describePlatformContract({
  kind: 'chat',
  type: 'discord',
  platform: discordPlatform,
  receiver: () => createDiscordReceiver({ webhookId: WEBHOOK_ID, token: TOKEN, now: () => RENDER_TIME }),
  destination: (url) => createChatDestination({ name: 'ops', type: 'discord', url, mentions: MENTIONS }),
  limits: { check: (request) => expectWithinDiscordLimits(JSON.parse(request.body)) },
  proof: {
    kind: 'marker',
    unproven: [
      { name: 'a 200 with a proxy page', answer: { status: 200, body: '<html>captive portal</html>' } },
      { name: 'a 200 without a message id', answer: { status: 200, body: '{"content":"hi"}' } },
      { name: 'a 200 with an empty message id', answer: { status: 200, body: '{"id":""}' } },
    ],
  },
  permanentRefusals: [
    {
      name: '400 Invalid Form Body (50035)',
      answer: discordAnswer(400, 'Invalid Form Body', 50035),
      reason: '400 {"message":"Invalid Form Body","code":50035}',
    },
    {
      name: '401 Invalid Webhook Token (50027)',
      answer: discordAnswer(401, 'Invalid Webhook Token', 50027),
      reason:
        '401 {"message":"Invalid Webhook Token","code":50027} (the webhook token is wrong: copy the URL again)',
    },
    {
      name: '403 Missing Access (50001)',
      answer: discordAnswer(403, 'Missing Access', 50001),
      reason: '403 {"message":"Missing Access","code":50001}',
    },
    {
      name: '404 Unknown Webhook (10015)',
      answer: discordAnswer(404, 'Unknown Webhook', 10015),
      reason: '404 {"message":"Unknown Webhook","code":10015} (the webhook was deleted: stop using it)',
    },
    {
      name: 'a 204: ?wait=true was lost on the way',
      answer: { status: 204, body: '' },
      reason: '204 (no message in the answer: ?wait=true did not reach Discord)',
    },
  ],
  rateLimit: { perMinute: 30, perSecond: 2 },
  urls: [
    `https://discord.com/api/webhooks/${WEBHOOK_ID}/${TOKEN}`,
    `https://discordapp.com/api/webhooks/${WEBHOOK_ID}/${TOKEN}?thread_id=1300000000000000001`,
  ],
  // The same hosts serve the rest of Discord: only the webhook path is a webhook.
  lookalikeUrls: [
    'https://discord.com/channels/1100000000000000001/1200000000000000001',
    `https://discord.com.evil.example/api/webhooks/${WEBHOOK_ID}/${TOKEN}`,
  ],
  // Discord escapes Markdown in fact values, the hyphens of a job id included.
  writesText: escapeDiscordMarkdown,
  mentionTokens: discordMentionTokens,
  expectedMentionTokens: ['@everyone', `<@${ALICE}>`, `<@${BOB}>`, `<@&${ONCALL_ROLE}>`],
  mentionsGroups: true,
});
