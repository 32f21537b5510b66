import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobEvent } from '../../../lib/job.ts';
import { isPlatformResponse, sendOutgoing } from '../../../lib/notify/delivery/post-once.ts';
import {
  type ChatDestination,
  createChatDestination,
  type Mentions,
} from '../../../lib/notify/destination.ts';
import type { DeliveryOutcome, OutgoingRequest } from '../../../lib/notify/platforms/platform.ts';
import {
  renderTeamsMentions,
  TEAMS_PAYLOAD_MAX_BYTES,
  type TeamsElement,
  type TeamsMessage,
  type TeamsRichTextBlock,
  teamsPlatform,
} from '../../../lib/notify/platforms/teams.ts';
import { countJsonStringBytes } from '../../../lib/notify/render/text-fit.ts';
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
  manyTags,
  RENDER_TIME,
  smallDailySummary,
} from '../../support/events.ts';
import { createManualClock, type ManualClock } from '../../support/manual-clock.ts';
import { describePlatformContract } from '../../support/platform-contract.ts';
import { lastSentJson } from '../../support/platforms/platform-receiver.ts';
import {
  createTeamsReceiver,
  TEAMS_MESSAGE_LIMIT_BYTES,
  type TeamsReceiver,
} from '../../support/platforms/teams-receiver.ts';

const WORKFLOW_ID = '0a1b2c3d4e5f40718293a4b5c6d7e8f9';
const SIG = 'Sig-secret_AbCdEf0123456789';
const MENTIONS: Mentions = {
  users: ['alice@contoso.com', '87d349ed-44d7-43e1-9a83-5f2406dee5bd'],
  groups: ['S0ONCALL'],
  all: true,
};

/**
 * A FAILED job at its worst for a byte limit: 50 KB of SQL in 3-byte characters and quotes (JSON escapes them),
 * 10 KB of error with control characters (6 bytes each in JSON), enormous facts.
 */
function hugeFailedEvent(): JobEvent {
  const job = hugeFailedJob(
    hugeStatement('select "数据" from t', '数"'.repeat(25 * 1024)),
    hugeErrorText(
      'java.lang.RuntimeException: <at>boom</at>',
      '\tat org.apache.spark.Foo(Foo.scala:1)\u0001\n',
    ),
    { queue_name: '队'.repeat(5000), tags: manyTags(200, '"'.repeat(50)) },
  );
  return jobEvent(job, { labels: { owner: 'x'.repeat(3000) } });
}

function card(message: TeamsMessage) {
  return message.attachments[0].content;
}

function runs(element: TeamsElement | undefined): string {
  if (element?.type !== 'RichTextBlock') throw new Error(`not a RichTextBlock: ${JSON.stringify(element)}`);
  return element.inlines.map((inline) => inline.text).join('');
}

/** Every RichTextBlock's text, in order, containers flattened. */
function allRuns(elements: TeamsElement[]): string[] {
  return elements.flatMap((element) =>
    element.type === 'Container'
      ? allRuns(element.items)
      : element.type === 'RichTextBlock'
        ? [runs(element)]
        : [],
  );
}

let clock: ManualClock;
let receiver: TeamsReceiver;
let destination: ChatDestination;

/** Sends for real and judges the answer; then moves the clock past the throttle window. */
async function deliver(request: OutgoingRequest): Promise<DeliveryOutcome> {
  const outcome = await sendAndJudge(teamsPlatform, request);
  clock.advance(60_000);
  return outcome;
}

const sentMessage = () => lastSentJson<TeamsMessage>(receiver);

beforeEach(async () => {
  clock = createManualClock(RENDER_TIME);
  receiver = createTeamsReceiver({ workflowId: WORKFLOW_ID, sig: SIG, now: clock.now, requestsPerMinute: 3 });
  const url = await receiver.start();
  destination = createChatDestination({ name: 'ops', type: 'teams', url, mentions: MENTIONS });
});

afterEach(async () => {
  await receiver.close();
});

describe('teamsPlatform.render, delivered to a Teams-Workflows-like webhook', () => {
  it('posts a FINISHED job as an Adaptive Card 1.4 with a green band, the facts, the SQL and a console button', async () => {
    expect(
      await deliver(teamsPlatform.render(jobEvent(finishedJob), destination, contextAt(clock.now()))),
    ).toEqual({
      kind: 'delivered',
    });
    const message = sentMessage();
    expect(message.type).toBe('message');
    expect(message.attachments).toHaveLength(1);
    expect(message.attachments[0].contentType).toBe('application/vnd.microsoft.card.adaptive');
    const content = card(message);
    expect(content).toMatchObject({
      $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
      type: 'AdaptiveCard',
      version: '1.4',
      actions: [
        {
          type: 'Action.OpenUrl',
          title: 'Open in DLI console',
          url: 'https://console.huaweicloud.com/dli/?region=cn-north-4#/main/jobs/sql',
        },
      ],
      msteams: { width: 'Full', entities: [] },
    });
    const [band] = content.body;
    expect(band).toMatchObject({ type: 'Container', style: 'good', bleed: true });
    expect(band?.type === 'Container' && band.items[0]).toEqual({
      type: 'RichTextBlock',
      inlines: [
        {
          type: 'TextRun',
          text: '✅ DLI job FINISHED · 208b08d4…',
          size: 'Large',
          weight: 'Bolder',
          color: 'Good',
        },
      ],
    });
    expect(allRuns(content.body)).toEqual([
      '✅ DLI job FINISHED · 208b08d4…',
      'Job ID: 208b08d4-0dc2-4dd7-8879-ddd4c020d7aa',
      'Queue: default',
      'Type: QUERY',
      'Owner: test',
      'Started: 2017-10-30T03:45:08.918Z',
      'Duration: 2.5 s',
      'Result rows: 4',
      'Input size: 22 B',
      'Table: dbtest.tbtest',
      'SQL',
      'select * from t1',
      'project 0123456789abcdef0123456789abcdef · cn-north-4',
    ]);
    // No TextBlock at all: no Markdown is ever applied to user text, and nobody is mentioned.
    expect(content.body.some((element) => element.type === 'TextBlock')).toBe(false);
    expect(receiver.posted[0]?.mentioned).toEqual([]);
  });

  it('posts a FAILED job with 50 KB of SQL and 10 KB of error under 28 KB, mentioning the users in a TextBlock', async () => {
    const outcome = await deliver(
      teamsPlatform.render(hugeFailedEvent(), destination, contextAt(clock.now())),
    );
    expect(outcome).toEqual({ kind: 'delivered' });

    const body = receiver.http.requests[0]?.body ?? '';
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(TEAMS_PAYLOAD_MAX_BYTES);
    expect(TEAMS_PAYLOAD_MAX_BYTES).toBeLessThan(TEAMS_MESSAGE_LIMIT_BYTES);

    const content = card(sentMessage());
    expect(content.body[0]).toMatchObject({ type: 'Container', style: 'attention' });
    // Mentions: a TextBlock (where Teams resolves them) right under the title, bound by entities.
    expect(content.body[1]).toEqual({
      type: 'TextBlock',
      text: '🔔 <at>alice@contoso.com</at> <at>87d349ed-44d7-43e1-9a83-5f2406dee5bd</at>',
      wrap: true,
    });
    expect(content.msteams.entities).toEqual([
      {
        type: 'mention',
        text: '<at>alice@contoso.com</at>',
        mentioned: { id: 'alice@contoso.com', name: 'alice@contoso.com' },
      },
      {
        type: 'mention',
        text: '<at>87d349ed-44d7-43e1-9a83-5f2406dee5bd</at>',
        mentioned: {
          id: '87d349ed-44d7-43e1-9a83-5f2406dee5bd',
          name: '87d349ed-44d7-43e1-9a83-5f2406dee5bd',
        },
      },
    ]);
    expect(receiver.posted[0]?.mentioned).toEqual([
      'alice@contoso.com',
      '87d349ed-44d7-43e1-9a83-5f2406dee5bd',
    ]);

    const texts = allRuns(content.body);
    const errorText = texts[texts.indexOf('Error') + 1] ?? '';
    const sqlText = texts[texts.indexOf('SQL') + 1] ?? '';
    // The error text, cut; the "<at>" inside it is a TextRun, where Teams resolves no mention.
    expect(errorText.startsWith('java.lang.RuntimeException: <at>boom</at>\n\tat org')).toBe(true);
    expect(errorText.endsWith('…')).toBe(true);
    // Both are cut to 3000 characters: as much as anyone reads in a card.
    expect(errorText.length).toBe(3000);
    expect(sqlText.startsWith('select "数据" from t -- 数"')).toBe(true);
    expect(sqlText.endsWith('…')).toBe(true);
    expect(sqlText.length).toBe(3000);
    // Facts are capped at 600 bytes of JSON each; the title at 600.
    const queue = texts.find((text) => text.startsWith('Queue: ')) ?? '';
    expect(countJsonStringBytes(queue.slice('Queue: '.length))).toBeLessThanOrEqual(600);
    expect(queue).toMatch(/^Queue: 队+…$/);
    const tags = texts.find((text) => text.startsWith('Tags: ')) ?? '';
    expect(countJsonStringBytes(tags.slice('Tags: '.length))).toBeLessThanOrEqual(600);
    expect(tags).toMatch(/^Tags: tag0="+, tag1=.*…$/);
  });

  it('cuts the error and the SQL further when their JSON escapes would push the card over the byte limit', async () => {
    // Control characters cost 6 bytes each in JSON: 3000 of them in each text would make 36 KB.
    const swollen = {
      ...finishedJob,
      status: 'FAILED',
      message: '\u0001'.repeat(20_000),
      statement: `select 1 -- ${'\u0002'.repeat(20_000)}`,
    };
    expect(
      await deliver(teamsPlatform.render(jobEvent(swollen), destination, contextAt(clock.now()))),
    ).toEqual({
      kind: 'delivered',
    });
    const body = receiver.http.requests[0]?.body ?? '';
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(TEAMS_PAYLOAD_MAX_BYTES);
    // The room is used up close to the limit, not far below it.
    expect(Buffer.byteLength(body)).toBeGreaterThan(TEAMS_PAYLOAD_MAX_BYTES - 12);
    const texts = allRuns(card(sentMessage()).body);
    const errorText = texts[texts.indexOf('Error') + 1] ?? '';
    const sqlText = texts[texts.indexOf('SQL') + 1] ?? '';
    // The error gets at least half the room.
    expect(countJsonStringBytes(errorText)).toBeGreaterThanOrEqual(countJsonStringBytes(sqlText) - 6);
    expect(errorText).toBe(`${'\u0001'.repeat(errorText.length - 1)}…`);
    expect(sqlText).toBe(`select 1 -- ${'\u0002'.repeat(sqlText.length - 13)}…`);
  });

  it('keeps even an absurd mention list within its budget, whole mentions only', () => {
    const many = {
      users: Array.from({ length: 500 }, (_, i) => `user${i}@contoso.com`),
      groups: [],
      all: false,
    };
    const rendered = renderTeamsMentions(many);
    const entities = rendered?.entities ?? [];
    expect(entities.length).toBeGreaterThan(10);
    expect(entities.length).toBeLessThan(500);
    for (const entity of entities) expect(rendered?.block.text).toContain(entity.text);
    expect(rendered?.block.text.match(/<at>/g)).toHaveLength(entities.length);
  });

  it('posts a CANCELLED job in a grey band without mentions, although mentions are configured', async () => {
    expect(
      await deliver(teamsPlatform.render(jobEvent(cancelledJob), destination, contextAt(clock.now()))),
    ).toEqual({
      kind: 'delivered',
    });
    const content = card(sentMessage());
    expect(content.body[0]).toMatchObject({ type: 'Container', style: 'emphasis' });
    expect(allRuns(content.body)[0]).toBe('🚫 DLI job CANCELLED · 208b08d4…');
    expect(allRuns(content.body)).not.toContain('Error');
    expect(content.msteams.entities).toEqual([]);
    expect(receiver.posted[0]?.mentioned).toEqual([]);
  });

  it('puts user text only in TextRuns, so Markdown and <at> in a queue name stay plain text', async () => {
    const sneaky = {
      ...finishedJob,
      status: 'FAILED',
      queue_name: '**bold** [x](https://evil.example) <at>alice@contoso.com</at>',
    };
    expect(
      await deliver(teamsPlatform.render(jobEvent(sneaky), destination, contextAt(clock.now()))),
    ).toEqual({
      kind: 'delivered',
    });
    const content = card(sentMessage());
    expect(allRuns(content.body)).toContain(
      'Queue: **bold** [x](https://evil.example) <at>alice@contoso.com</at>',
    );
    // The only TextBlock is our mention line.
    const textBlocks = content.body.filter((element) => element.type === 'TextBlock');
    expect(textBlocks).toHaveLength(1);
  });
});

describe('teamsPlatform.judge, on what the Teams-like webhook answers', () => {
  it('counts 202 Accepted with an empty body as delivered', async () => {
    const answer = await sendOutgoing(
      teamsPlatform.render(jobEvent(finishedJob), destination, contextAt(clock.now())),
      {
        timeoutMs: 5000,
      },
    );
    expect(isPlatformResponse(answer) && answer.status).toBe(202);
    expect(isPlatformResponse(answer) && teamsPlatform.judge(answer)).toEqual({ kind: 'delivered' });
  });

  it('rejects a URL with the wrong sig for good (401), without repeating the URL', async () => {
    const wrong = { ...destination, url: destination.url.replace(SIG, 'not-the-sig') };
    const outcome = await deliver(teamsPlatform.render(jobEvent(finishedJob), wrong, contextAt(clock.now())));
    expect(outcome).toEqual({
      kind: 'reject',
      reason:
        '401 {"error":{"code":"DirectApiInvalidAuthorizationSignature","message":"The provided authorization signature is not valid."}} (the webhook URL\'s signature is not valid: copy the URL again from the workflow)',
    });
    expect(receiver.posted).toHaveLength(0);
  });

  it('rejects a URL without its sig for good (401)', async () => {
    const unsigned = { ...destination, url: destination.url.replace(/&sig=[^&]*/, '') };
    const outcome = await deliver(
      teamsPlatform.render(jobEvent(finishedJob), unsigned, contextAt(clock.now())),
    );
    expect(outcome.kind).toBe('reject');
    expect(outcome.kind === 'reject' && outcome.reason).toMatch(/^401 .*DirectApiAuthorizationRequired/);
  });

  it('rejects a deleted workflow for good (404)', async () => {
    const gone = {
      ...destination,
      url: destination.url.replace(WORKFLOW_ID, 'ffffffffffffffffffffffffffffffff'),
    };
    const outcome = await deliver(teamsPlatform.render(jobEvent(finishedJob), gone, contextAt(clock.now())));
    expect(outcome).toEqual({
      kind: 'reject',
      reason:
        '404 {"error":{"code":"WorkflowNotFound","message":"The workflow could not be found."}} (the workflow was deleted or turned off)',
    });
  });

  it('rejects a payload Teams cannot take (400) and one over 28 KB (413) for good', async () => {
    const post = (body: string): OutgoingRequest => ({
      url: destination.url,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    const noCard = await deliver(post(JSON.stringify({ type: 'message', attachments: [] })));
    expect(noCard.kind === 'reject' && noCard.reason).toMatch(/^400 .*TriggerInputSchemaMismatch/);

    const unbound = JSON.parse(
      teamsPlatform.render(jobEvent(finishedJob), destination, contextAt(clock.now())).body,
    );
    unbound.attachments[0].content.body.push({ type: 'TextBlock', text: '<at>bob</at>', wrap: true });
    const unboundMention = await deliver(post(JSON.stringify(unbound)));
    expect(unboundMention.kind === 'reject' && unboundMention.reason).toContain('has no mention entity');

    const huge = JSON.parse(
      teamsPlatform.render(jobEvent(finishedJob), destination, contextAt(clock.now())).body,
    );
    huge.attachments[0].content.body.push({ type: 'TextBlock', text: 'x'.repeat(30_000), wrap: true });
    const tooLarge = await deliver(post(JSON.stringify(huge)));
    expect(tooLarge.kind === 'reject' && tooLarge.reason).toMatch(/^413 /);
  });

  it('retries after Retry-After when the workflow is throttled (429)', async () => {
    const event = jobEvent(finishedJob);
    for (let i = 0; i < 3; i++) {
      const answer = await sendOutgoing(teamsPlatform.render(event, destination, contextAt(clock.now())), {
        timeoutMs: 5000,
      });
      expect(isPlatformResponse(answer) && teamsPlatform.judge(answer)).toEqual({ kind: 'delivered' });
      clock.advance(10_000);
    }
    const outcome = await deliver(teamsPlatform.render(event, destination, contextAt(clock.now())));
    expect(outcome).toMatchObject({ kind: 'retry', retryAfterMs: 30_000 });
    expect(outcome.kind === 'retry' && outcome.reason).toMatch(
      /^429 .*WorkflowRequestsThrottled.*\(rate limited\)$/,
    );
    expect(receiver.posted).toHaveLength(3);
  });
});

describe('teamsPlatform.renderDigest', () => {
  const ODD_QUEUE = `etl_nightly_队列_${'x'.repeat(100)}`;

  it('sums up 200 jobs in one card under 28 KB, failures first, with "… and N more"', async () => {
    const request = teamsPlatform.renderDigest?.(
      digestEvents(200, ODD_QUEUE),
      destination,
      contextAt(clock.now()),
    );
    if (!request) throw new Error('teams has a digest');
    expect(Buffer.byteLength(request.body)).toBeLessThanOrEqual(TEAMS_PAYLOAD_MAX_BYTES);
    expect(await deliver(request)).toEqual({ kind: 'delivered' });

    const content = card(sentMessage());
    expect(content.body[0]).toMatchObject({ type: 'Container', style: 'attention' });
    const texts = allRuns(content.body);
    expect(texts[0]).toBe('200 DLI jobs ended');
    expect(texts[1]).toBe('❌ 20 failed · ✅ 160 finished · 🚫 20 cancelled');
    const jobLines = texts.slice(2, -1);
    expect(jobLines[0]).toBe(`❌ 00000003… FAILED · etl_nightly_队列_${'x'.repeat(100)} · 2.5 s`);
    expect(jobLines.slice(0, 20).every((line) => line.startsWith('❌ '))).toBe(true);
    expect(jobLines.length).toBeGreaterThan(50);
    expect(texts.at(-1)).toBe(`… and ${200 - jobLines.length} more`);
    // The lines fill the card: the payload ends close to the limit.
    expect(Buffer.byteLength(request.body)).toBeGreaterThan(TEAMS_PAYLOAD_MAX_BYTES - 300);
    expect(receiver.posted[0]?.mentioned).toEqual(MENTIONS.users);
  });

  it('lists every job when they fit, and mentions nobody when none failed', async () => {
    const events = digestEvents(3, ODD_QUEUE).filter((event) => event.status !== 'FAILED');
    const request = teamsPlatform.renderDigest?.(events, destination, contextAt(clock.now()));
    if (!request) throw new Error('teams has a digest');
    expect(await deliver(request)).toEqual({ kind: 'delivered' });
    const content = card(sentMessage());
    expect(content.body[0]).toMatchObject({ type: 'Container', style: 'good' });
    expect(allRuns(content.body)).toEqual([
      '3 DLI jobs ended',
      '✅ 3 finished',
      '✅ 00000000… FINISHED · default · 2.5 s',
      `✅ 00000001… FINISHED · etl_nightly_队列_${'x'.repeat(100)} · 2.5 s`,
      '✅ 00000002… FINISHED · default · 2.5 s',
    ]);
    expect(content.msteams.entities).toEqual([]);
  });
});

describe('teamsPlatform.renderSummary', () => {
  it('delivers a daily summary that mentions nobody: each list under its bold heading, failures with their streaks', async () => {
    const summary = smallDailySummary();
    const request = teamsPlatform.renderSummary(summary, destination, contextAt(clock.now()));
    expect(await deliver(request)).toEqual({ kind: 'delivered' });

    const content = card(sentMessage());
    // Its worst news colours the band: a failure.
    expect(content.body[0]).toMatchObject({ type: 'Container', style: 'attention' });
    expect(allRuns(content.body)).toEqual([
      'DLI daily summary · 2026-12-03',
      '❌ 3 failed · ✅ 10 finished · ⏳ 1 still running past their threshold',
      'By queue',
      'etl: ✅ 10 finished · ❌ 3 failed',
      'Failures',
      '❌ 00000000… FAILED · etl · 1 min 1 s · first failure in a row',
      '❌ 00000001… FAILED · etl · 2 min 2 s · 2nd failure in a row since 2026-11-28',
      '… and 1 more',
      // No longest runs: that list is left out, heading and all.
      'Still running past their threshold',
      '⏳ 00002000… still RUNNING · etl · 3 h · warn after 2 h',
    ]);
    const headings = content.body.filter(
      (element) => element.type === 'RichTextBlock' && element.inlines[0]?.weight === 'Bolder',
    );
    expect(headings.map(runs)).toEqual(['By queue', 'Failures', 'Still running past their threshold']);
    // The destination mentions people, but yesterday's failures were told when they happened.
    expect(content.msteams.entities).toEqual([]);
    expect(textBlocks(content.body)).toEqual([]);
  });
});

describe('countJsonStringBytes', () => {
  it('counts what a text costs inside JSON: escapes and UTF-8 included', () => {
    expect(countJsonStringBytes('abc')).toBe(3);
    expect(countJsonStringBytes('"\\')).toBe(4);
    expect(countJsonStringBytes('\u0001')).toBe(6);
    expect(countJsonStringBytes('数')).toBe(3);
    expect(countJsonStringBytes('😀')).toBe(4);
    const sample: TeamsRichTextBlock = {
      type: 'RichTextBlock',
      inlines: [{ type: 'TextRun', text: '数"\n' }],
    };
    expect(JSON.stringify(sample).length).toBeGreaterThan(0);
  });
});

/** Every TextBlock's text, containers flattened: the only text in which Teams resolves `<at>` mentions. */
function textBlocks(elements: TeamsElement[]): string[] {
  return elements.flatMap((element) =>
    element.type === 'Container'
      ? textBlocks(element.items)
      : element.type === 'TextBlock'
        ? [element.text]
        : [],
  );
}

/** Who Teams notifies: the mention entities, and any `<at>` in a TextBlock (bound or not). */
function teamsMentionTokens(request: OutgoingRequest): string[] {
  const content = card(JSON.parse(request.body) as TeamsMessage);
  return [
    ...new Set([
      ...content.msteams.entities.map((entity) => entity.text),
      ...textBlocks(content.body).flatMap((text) => text.match(/<at>[^<]*<\/at>/g) ?? []),
    ]),
  ];
}

const logicAppsError = (status: number, code: string) => ({
  status,
  body: JSON.stringify({ error: { code, message: 'x' } }),
});

describePlatformContract({
  kind: 'chat',
  type: 'teams',
  platform: teamsPlatform,
  receiver: () => createTeamsReceiver({ workflowId: WORKFLOW_ID, sig: SIG, now: () => RENDER_TIME }),
  destination: (url) => createChatDestination({ name: 'ops', type: 'teams', url, mentions: MENTIONS }),
  limits: { maxBodyBytes: TEAMS_PAYLOAD_MAX_BYTES },
  // The workflow's trigger answers 202 once it has the request: that is all a webhook sender ever learns.
  proof: { kind: 'status' },
  permanentRefusals: [
    {
      name: '400 (a payload the trigger cannot take)',
      answer: logicAppsError(400, 'TriggerInputSchemaMismatch'),
      reason: '400 {"error":{"code":"TriggerInputSchemaMismatch","message":"x"}}',
    },
    {
      name: "401 (the URL's sig is wrong)",
      answer: logicAppsError(401, 'DirectApiInvalidAuthorizationSignature'),
      reason:
        '401 {"error":{"code":"DirectApiInvalidAuthorizationSignature","message":"x"}} (the webhook URL\'s signature is not valid: copy the URL again from the workflow)',
    },
    {
      name: '403',
      answer: logicAppsError(403, 'AuthorizationFailed'),
      reason: '403 {"error":{"code":"AuthorizationFailed","message":"x"}}',
    },
    {
      name: '404 (the workflow is gone)',
      answer: logicAppsError(404, 'WorkflowNotFound'),
      reason:
        '404 {"error":{"code":"WorkflowNotFound","message":"x"}} (the workflow was deleted or turned off)',
    },
    {
      name: '413 (over 28 KB)',
      answer: logicAppsError(413, 'MessageTooLarge'),
      reason: '413 {"error":{"code":"MessageTooLarge","message":"x"}}',
    },
  ],
  rateLimit: { perMinute: 30, perSecond: 4 },
  urls: [
    `https://prod-12.westus.logic.azure.com:443/workflows/${WORKFLOW_ID}/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=${SIG}`,
    `https://default0a1b2c3d.02.environment.api.powerplatform.com/powerautomate/automations/direct/workflows/${WORKFLOW_ID}/triggers/manual/paths/invoke?api-version=1&sig=${SIG}`,
  ],
  lookalikeUrls: [
    `https://logic.azure.com.evil.example/workflows/${WORKFLOW_ID}/triggers/manual/paths/invoke`,
  ],
  mentionTokens: teamsMentionTokens,
  expectedMentionTokens: ['<at>alice@contoso.com</at>', '<at>87d349ed-44d7-43e1-9a83-5f2406dee5bd</at>'],
  mentionsGroups: false,
});
