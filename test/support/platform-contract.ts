/**
 * The behaviour every destination type (`lib/notify/platforms/registry.ts`) must have, checked the same way for
 * each: what proves a delivery, which refusals are worth a retry, how a huge event is cut to the platform's limits,
 * who gets mentioned, how a digest reads, and the traits the configuration relies on. Every delivery check goes over
 * HTTP to the platform's loopback receiver, so a verdict is reached on a real answer, headers and all.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DailySummary, JobEvent, TerminalStatus } from '../../lib/job.ts';
import { isPlatformResponse, sendOutgoing } from '../../lib/notify/delivery/post-once.ts';
import type { ChatDestination, WebhookDestination } from '../../lib/notify/destination.ts';
import type {
  ChatPlatform,
  DeliveryOutcome,
  OutgoingRequest,
  PlatformResponse,
  RateLimit,
  WebhookPlatform,
} from '../../lib/notify/platforms/platform.ts';
import {
  CHAT_PLATFORM_TYPES,
  type ChatPlatformType,
  destinationTypeForUrl,
  platforms,
} from '../../lib/notify/platforms/registry.ts';
import type { RenderContext } from '../../lib/notify/render/job-facts.ts';
import type { WebhookReceiver, WebhookResponse } from '../../lib/simulator/webhook-receiver.ts';
import { sendAndJudge } from './delivery.ts';
import {
  digestEvents,
  failedJob,
  finishedJob,
  hugeDailySummary,
  hugeErrorText,
  hugeFailedJob,
  hugeStatement,
  jobEvent,
  OVERSIZED_FACTS,
  RENDER_CONTEXT,
} from './events.ts';

/**
 * What the contract needs of a loopback receiver. A platform's receiver (`test/support/platforms`) fits as it is;
 * a bare `lib/simulator/webhook-receiver.ts` fits once `start` resolves to a webhook URL rather than its base URL.
 */
export interface ContractReceiver {
  /** Listens on 127.0.0.1; resolves to the webhook URL a destination is configured with. */
  start(): Promise<string>;
  close(): Promise<void>;
  /** Scripted answers go first: how the contract makes the receiver answer with trouble or a refusal. */
  readonly http: Pick<WebhookReceiver, 'respondNext'>;
}

/** An answer the receiver is scripted to give, named for the test title. */
export interface NamedAnswer {
  name: string;
  answer: WebhookResponse;
}

/** A permanent refusal and, where the platform words it in a particular way, the exact reason it gives. */
export interface PermanentRefusal extends NamedAnswer {
  /** Without one, the reason must still start with the HTTP status. */
  reason?: string;
}

/** Checks one rendered request against the platform's documented limits, with `expect`. */
export type LimitsCheck = (request: OutgoingRequest) => void;

/** What every destination type brings to the contract. */
interface ContractOptionsBase {
  /** A fresh receiver for each test, on a clock that agrees with `RENDER_CONTEXT` (signatures carry timestamps). */
  receiver(): ContractReceiver;
  /**
   * The platform's documented limits: a whole-body byte limit, or a check of its own (Block Kit's per-block
   * limits, Discord's embed totals). A huge event and a digest of 200 jobs must both pass it.
   */
  limits: { maxBodyBytes: number } | { check: LimitsCheck };
  /**
   * How the platform proves a delivery. `status`: any 2xx is the platform's own verdict (Teams Workflows, Standard
   * Webhooks). `marker`: the body must say so, and `unproven` lists answers that look like success but do not.
   */
  proof: { kind: 'status' } | { kind: 'marker'; unproven: readonly [NamedAnswer, ...NamedAnswer[]] };
  /** The platform's documented permanent failures (status codes, or body error codes on HTTP 200). */
  permanentRefusals: readonly [PermanentRefusal, ...PermanentRefusal[]];
  /** The platform's published send limit, `null` when it publishes none. */
  rateLimit: RateLimit | null;
  /** Webhook URLs of the platform's real shape: each must be recognised as this destination type. */
  urls: readonly [string, ...string[]];
  /** URLs that look like the platform's but are not its webhooks: none may be taken for this destination type. */
  lookalikeUrls?: readonly string[];
  /** Required exactly when the platform takes a signing secret: samples its rule must accept and refuse. */
  signingSecrets?: { valid: readonly [string, ...string[]]; invalid: readonly [string, ...string[]] };
  /**
   * How the platform writes a fact's value (its Markdown escaping), so the contract can find the job id in a
   * rendered request. As typed when absent.
   */
  writesText?: (text: string) => string;
}

/** A chat platform: a message a person reads, with mentions and digests. */
export interface ChatPlatformContractOptions extends ContractOptionsBase {
  kind: 'chat';
  type: ChatPlatformType;
  platform: ChatPlatform;
  /** A destination at `url` with mentions configured (and a signing secret where the receiver checks one). */
  destination(url: string): ChatDestination;
  /** The mention tokens a rendered request carries where the platform notifies people; empty for none. */
  mentionTokens(request: OutgoingRequest): string[];
  /** What `mentionTokens` finds in a FAILED event's request to `destination`, in order. */
  expectedMentionTokens: readonly [string, ...string[]];
  /** Whether the platform can mention a group of people by id. */
  mentionsGroups: boolean;
  /** Whether a digest line links to its job when the console link names it (default true). */
  digestLinks?: boolean;
}

/** The generic webhook: event data for a program, one delivery per event. */
export interface WebhookPlatformContractOptions extends ContractOptionsBase {
  kind: 'webhook';
  type: 'webhook';
  platform: WebhookPlatform;
  destination(url: string): WebhookDestination;
}

/** What {@link describePlatformContract} needs to know about one destination type. */
export type PlatformContractOptions = ChatPlatformContractOptions | WebhookPlatformContractOptions;

/** A proxy's or captive portal's page: it answers 200 too, and proves nothing about the message. */
const PROXY_PAGE = '<html><body>Please log in to continue</body></html>';

/** `Retry-After` in both its forms; an HTTP-date is read against the answer's own `Date`, never our clock. */
const RETRY_AFTER_CASES: readonly { name: string; answer: WebhookResponse; expected: DeliveryOutcome }[] = [
  {
    name: 'delta-seconds 30',
    answer: { status: 429, body: 'rate_limited', headers: { 'retry-after': '30' } },
    expected: { kind: 'retry', reason: '429 rate_limited (rate limited)', retryAfterMs: 30_000 },
  },
  {
    name: 'delta-seconds 120',
    answer: { status: 429, body: 'slow down', headers: { 'retry-after': '120' } },
    expected: { kind: 'retry', reason: '429 slow down (rate limited)', retryAfterMs: 120_000 },
  },
  {
    name: "an HTTP-date, measured against the answer's Date",
    answer: {
      status: 429,
      body: '',
      headers: { date: 'Tue, 02 Jan 2024 03:04:05 GMT', 'retry-after': 'Tue, 02 Jan 2024 03:05:35 GMT' },
    },
    expected: { kind: 'retry', reason: '429 (rate limited)', retryAfterMs: 90_000 },
  },
];

/**
 * A FAILED job at its worst for any limit: 100 KB of SQL in multi-byte characters, quotes and control characters
 * (which grow when JSON-encoded), 10 KB of stack trace carrying every platform's markup and mention syntax, a
 * 5,000-character queue, 200 long tags and a 3,000-character label.
 */
function hugeEvent(): JobEvent {
  const job = hugeFailedJob(
    hugeStatement(`select '😀数据 & <x> "q" *b* _i_' from t`, '数"\u0001'.repeat(20 * 1024)),
    hugeErrorText(
      'java.lang.RuntimeException: <boom> & "more" @everyone <!channel> <at id=all></at> <users/all>',
      '\tat org.apache.spark.Foo(Foo.scala:1)\u0001\n',
    ),
    OVERSIZED_FACTS,
  );
  return jobEvent(job, { labels: { owner: 'x'.repeat(3000) } });
}

/** `text` as it appears inside a JSON string, quotes and escapes included: what to look for in a JSON body. */
function inJson(text: string): string {
  return JSON.stringify(text).slice(1, -1);
}

/**
 * Registers the platform contract for one destination type: call it at the top of the platform's test file. Each
 * test gets a fresh receiver from `options.receiver()`, closed afterwards. Chat platforms are also held to the
 * mention and digest checks; the generic webhook instead to having no digest at all.
 */
export function describePlatformContract(options: PlatformContractOptions): void {
  describe(`Platform contract: ${options.type}`, () => {
    let receiver: ContractReceiver;
    let url: string;

    beforeEach(async () => {
      receiver = options.receiver();
      url = await receiver.start();
    });

    afterEach(async () => {
      await receiver.close();
    });

    const render = (event: JobEvent): OutgoingRequest =>
      options.kind === 'chat'
        ? options.platform.render(event, options.destination(url), RENDER_CONTEXT)
        : options.platform.render(event, options.destination(url), RENDER_CONTEXT);

    /** Makes the receiver give `answer` to the next request, sends a FINISHED event and judges what came back. */
    const judgeAnswer = (answer: WebhookResponse): Promise<DeliveryOutcome> => {
      receiver.http.respondNext(answer);
      return sendAndJudge(options.platform, render(jobEvent(finishedJob)));
    };

    const checkLimits = (request: OutgoingRequest): void => {
      // Every platform takes JSON, and text that is not valid Unicode is refused or garbled.
      expect(() => JSON.parse(request.body)).not.toThrow();
      expect(request.body.isWellFormed()).toBe(true);
      if ('maxBodyBytes' in options.limits) {
        expect(Buffer.byteLength(request.body, 'utf8')).toBeLessThanOrEqual(options.limits.maxBodyBytes);
      } else {
        options.limits.check(request);
      }
    };

    describe('success', () => {
      it("judges its receiver's real success answer as delivered", async () => {
        const answer = await sendOutgoing(render(jobEvent(finishedJob)), { timeoutMs: 5000 });
        if (!isPlatformResponse(answer)) throw new Error(`no answer: ${answer.reason}`);
        expect(options.platform.judge(answer)).toEqual({ kind: 'delivered' });
        if (options.proof.kind === 'marker') {
          // The same status from a proxy in the way: only the platform's own body proves the message arrived.
          const proxied: PlatformResponse = { ...answer, body: PROXY_PAGE };
          expect(options.platform.judge(proxied)).toMatchObject({
            kind: 'retry',
            reason: expect.stringMatching(new RegExp(`^${answer.status} .*not proven`)),
          });
        } else {
          expect(answer.status).toBeGreaterThanOrEqual(200);
          expect(answer.status).toBeLessThan(300);
        }
      });

      if (options.proof.kind === 'marker') {
        it.each(options.proof.unproven)('retries $name: it does not prove delivery', async ({ answer }) => {
          const outcome = await judgeAnswer(answer);
          expect(outcome).toMatchObject({
            kind: 'retry',
            reason: expect.stringMatching(new RegExp(`^${answer.status}\\b.*not proven`)),
          });
        });
      } else {
        it.each([200, 201, 202, 204])('counts %d as delivered, whatever its body', async (status) => {
          expect(await judgeAnswer({ status, body: '' })).toEqual({ kind: 'delivered' });
          // 204 carries no body by definition.
          if (status !== 204)
            expect(await judgeAnswer({ status, body: PROXY_PAGE })).toEqual({ kind: 'delivered' });
        });
      }
    });

    describe('transient refusals', () => {
      it.each(RETRY_AFTER_CASES)(
        'retries a 429 after its Retry-After, as $name',
        async ({ answer, expected }) => {
          expect(await judgeAnswer(answer)).toEqual(expected);
        },
      );

      it('retries a 429 without Retry-After, leaving the wait to the backoff', async () => {
        expect(await judgeAnswer({ status: 429, body: 'rate_limited' })).toEqual({
          kind: 'retry',
          reason: '429 rate_limited (rate limited)',
        });
      });

      it.each([500, 502, 503, 504, 408])(
        'retries %d: server trouble or a timeout on the way',
        async (status) => {
          expect(await judgeAnswer({ status, body: 'upstream trouble' })).toEqual({
            kind: 'retry',
            reason: `${status} upstream trouble`,
          });
        },
      );

      it.each([301, 302, 307, 308])('rejects redirect %d: the configured URL is wrong', async (status) => {
        const answer = { status, body: '', headers: { location: 'https://elsewhere.example.com/' } };
        expect(await judgeAnswer(answer)).toEqual({
          kind: 'reject',
          reason: `${status} (redirect: check the webhook URL)`,
        });
      });
    });

    describe('permanent refusals', () => {
      it.each(options.permanentRefusals)('rejects $name for good', async ({ answer, reason }) => {
        const outcome = await judgeAnswer(answer);
        expect(outcome.kind).toBe('reject');
        if (outcome.kind !== 'reject') return;
        if (reason === undefined) expect(outcome.reason).toMatch(new RegExp(`^${answer.status}\\b`));
        else expect(outcome.reason).toBe(reason);
      });

      it('keeps a long refusal short in the reason', async () => {
        const outcome = await judgeAnswer({ status: 400, body: `invalid_blocks ${'x'.repeat(5000)}` });
        expect(outcome.kind).toBe('reject');
        if (outcome.kind !== 'reject') return;
        expect(outcome.reason.startsWith('400 invalid_blocks x')).toBe(true);
        expect(outcome.reason.length).toBeLessThanOrEqual(210);
      });
    });

    describe('limits', () => {
      it('cuts a FAILED job with 100 KB of SQL, 10 KB of error and oversized facts to its limits, keeping the job id', async () => {
        const event = hugeEvent();
        const request = render(event);

        checkLimits(request);
        const writes = options.writesText ?? ((text: string) => text);
        expect(request.body).toContain(inJson(writes(event.job.job_id)));
        // A person acts on the error, so a chat message keeps its start. A webhook may cut it to the marker when
        // tags and labels alone take the room: its receiver can fetch the job, a person cannot.
        if (options.kind === 'chat') expect(request.body).toContain('java.lang.RuntimeException');
        // The receiver holds the platform's limits too: it takes the message.
        expect(await sendAndJudge(options.platform, request)).toEqual({ kind: 'delivered' });
      });
    });

    describe('warnings and recoveries', () => {
      const writes = options.writesText ?? ((text: string) => text);
      /** A huge job still running past its threshold, and a huge run that recovered after three failures. */
      const longRunning = (): JobEvent => {
        const huge = hugeEvent();
        return {
          ...huge,
          type: 'LONG_RUNNING',
          status: 'RUNNING',
          job: { ...huge.job, status: 'RUNNING' },
          warning: { thresholdMs: 2 * 3_600_000, runningForMs: 2 * 3_600_000 + 5 * 60_000 },
        };
      };
      const recovered = (): JobEvent => {
        const huge = hugeEvent();
        return {
          ...huge,
          type: 'RECOVERED',
          status: 'FINISHED',
          job: { ...huge.job, status: 'FINISHED' },
          streak: { key: `tag:pipeline=${'p'.repeat(300)}`, failures: 3, since: Date.UTC(2026, 10, 28, 6) },
        };
      };

      it('renders a long-running warning within its limits, saying how long the job has run and the threshold', async () => {
        const request = render(longRunning());
        checkLimits(request);
        const writes = options.writesText ?? ((text: string) => text);
        expect(request.body).toContain(inJson(writes(longRunning().job.job_id)));
        if (options.kind === 'chat') {
          expect(request.body).toContain('2 h 5 min');
          expect(request.body).toContain('running long');
        } else {
          expect(JSON.parse(request.body)).toMatchObject({
            type: 'dli.job.long_running',
            data: { warning: { threshold_ms: 7_200_000, running_for_ms: 7_500_000 } },
          });
        }
        expect(await sendAndJudge(options.platform, request)).toEqual({ kind: 'delivered' });
      });

      it('renders a recovery and a failure streak within its limits, saying how many failures came before', async () => {
        const recovery = render(recovered());
        checkLimits(recovery);
        const failure = render({
          ...hugeEvent(),
          streak: { key: 'sql:0123456789abcdef', failures: 3, since: Date.UTC(2026, 10, 28, 6) },
        });
        checkLimits(failure);
        const writes = options.writesText ?? ((text: string) => text);
        if (options.kind === 'chat') {
          expect(recovery.body).toContain('RECOVERED');
          expect(recovery.body).toContain(inJson(writes('after 3 failures in a row since 2026-11-28')));
          expect(failure.body).toContain(inJson(writes('3rd failure in a row since 2026-11-28')));
        } else {
          expect(JSON.parse(recovery.body)).toMatchObject({
            type: 'dli.job.recovered',
            data: { streak: { failures: 3, since: '2026-11-28T06:00:00.000Z' } },
          });
          expect(JSON.parse(failure.body)).toMatchObject({
            type: 'dli.job.failed',
            data: { streak: { failures: 3 } },
          });
        }
        expect(await sendAndJudge(options.platform, recovery)).toEqual({ kind: 'delivered' });
      });

      it('renders every kind of message in Chinese within its limits, with no English words of its own', async () => {
        const zh = { ...RENDER_CONTEXT, language: 'zh-CN' as const };
        const renderZh = (event: JobEvent): OutgoingRequest =>
          options.kind === 'chat'
            ? options.platform.render(event, options.destination(url), zh)
            : options.platform.render(event, options.destination(url), zh);
        const failure = {
          ...hugeEvent(),
          streak: { key: 'sql:0123456789abcdef', failures: 3, since: Date.UTC(2026, 10, 28) },
        };
        const requests = [renderZh(failure), renderZh(longRunning()), renderZh(recovered())];
        if (options.kind === 'chat') {
          const digest = options.platform.renderDigest?.(
            [...digestEvents(150, 'etl'), ...Array.from({ length: 50 }, longRunning), recovered()],
            options.destination(url),
            zh,
          );
          if (digest) requests.push(digest);
        }
        for (const request of requests) checkLimits(request);
        if (options.kind === 'chat') {
          const [failed, warning, recovery, digest] = requests.map((request) => request.body);
          expect(failed).toContain(inJson(writes('连续第 3 次失败（自 2026-11-28 起）')));
          expect(failed).toContain('错误信息');
          expect(warning).toContain(inJson(writes('2小时5分钟')));
          expect(warning).toContain('运行时间过长');
          expect(recovery).toContain(inJson(writes('此前连续失败 3 次（自 2026-11-28 起）')));
          expect(digest).toContain(inJson(writes('个 DLI 作业已结束')));
          for (const body of [failed, warning, recovery, digest]) {
            for (const english of ['Open in DLI console', 'DLI job', 'Job ID', 'project ', ' more"']) {
              expect(body).not.toContain(english);
            }
          }
        } else {
          // A webhook's receiver is a program: its event types and fields stay the same in every language.
          expect(JSON.parse(requests[1]?.body ?? '{}').type).toBe('dli.job.long_running');
        }
        expect(await sendAndJudge(options.platform, requests[0] as OutgoingRequest)).toEqual({
          kind: 'delivered',
        });
      });

      if (options.kind === 'chat') {
        const chat = options;
        it('mentions nobody for a warning or a recovery', () => {
          for (const event of [longRunning(), recovered()]) {
            expect(
              chat.mentionTokens(chat.platform.render(event, chat.destination(url), RENDER_CONTEXT)),
            ).toEqual([]);
          }
        });

        it('digests warnings and recoveries with ends, within its limits', () => {
          const events = [
            ...digestEvents(150, 'etl'),
            ...Array.from({ length: 50 }, longRunning),
            recovered(),
          ];
          const request = chat.platform.renderDigest?.(events, chat.destination(url), RENDER_CONTEXT);
          if (request === undefined) throw new Error(`${chat.type} renders no digest`);
          checkLimits(request);
          expect(request.body).toContain('running long');
        });
      }
    });

    if (options.kind === 'chat') {
      const chat = options;
      const renderChat = (event: JobEvent) =>
        chat.platform.render(event, chat.destination(url), RENDER_CONTEXT);
      const renderDigest = (events: readonly JobEvent[]): OutgoingRequest => {
        const request = chat.platform.renderDigest?.(events, chat.destination(url), RENDER_CONTEXT);
        if (request === undefined) throw new Error(`${chat.type} renders no digest`);
        return request;
      };

      describe('mentions', () => {
        it('mentions the configured people for a FAILED job', () => {
          expect(chat.mentionTokens(renderChat(jobEvent(failedJob)))).toEqual(chat.expectedMentionTokens);
        });

        it.each<TerminalStatus>(['FINISHED', 'CANCELLED'])(
          'mentions nobody for a %s job, although mentions are configured',
          (status) => {
            expect(chat.mentionTokens(renderChat(jobEvent({ ...finishedJob, status })))).toEqual([]);
          },
        );
      });

      describe('digest', () => {
        it('sums up 200 jobs in one request within its limits: how many ended, failures first', async () => {
          const events = digestEvents(200, 'etl');
          const request = renderDigest(events);

          checkLimits(request);
          expect(request.body).toContain('200 DLI jobs ended');
          for (const count of ['❌ 20 failed', '✅ 160 finished', '🚫 20 cancelled']) {
            expect(request.body).toContain(count);
          }
          const listed = [...request.body.matchAll(/(\d{8})… (FAILED|FINISHED|CANCELLED)/g)].map(
            (match) => `${match[1]} ${match[2]}`,
          );
          const failures = events
            .filter((event) => event.status === 'FAILED')
            .map((event) => `${event.job.job_id.slice(0, 8)} FAILED`);
          // Every failure, in the order the jobs ended, before any other job: a list cut short still shows them.
          expect(listed.slice(0, failures.length)).toEqual(failures);
          expect(listed.slice(failures.length).filter((line) => line.endsWith('FAILED'))).toEqual([]);
          expect(listed.length).toBeGreaterThan(failures.length);
          expect(new Set(listed).size).toBe(listed.length);
          if (listed.length < events.length) {
            expect(request.body).toContain(`… and ${events.length - listed.length} more`);
          } else {
            expect(request.body).not.toMatch(/… and \d+ more/);
          }
          expect(await sendAndJudge(chat.platform, request)).toEqual({ kind: 'delivered' });
        });

        it('links each line to its own job when the console link names the job, and stays within its limits', async () => {
          const context = {
            ...RENDER_CONTEXT,
            consoleUrlTemplate: 'https://console.example.com/dli/jobs/{job_id}?region={region}',
          };
          const events = digestEvents(200, 'etl');
          const request = chat.platform.renderDigest?.(events, chat.destination(url), context);
          if (request === undefined) throw new Error(`${chat.type} renders no digest`);
          checkLimits(request);
          const linked = events.filter((event) => request.body.includes(`dli/jobs/${event.job.job_id}`));
          if (chat.digestLinks === false) {
            expect(linked).toEqual([]);
          } else {
            // The first jobs listed (failures first) each carry their own link; the rest may be cut for room.
            const firstFailure = events.find((event) => event.status === 'FAILED');
            expect(linked.map((event) => event.job.job_id)).toContain(firstFailure?.job.job_id);
            expect(linked.length).toBeGreaterThan(10);
          }
          // With the default link, the same for every job, lines carry none.
          const plain = renderDigest(events);
          expect(plain.body).not.toContain(`jobs/${events[0]?.job.job_id}`);
          expect(await sendAndJudge(chat.platform, request)).toEqual({ kind: 'delivered' });
        });

        it('mentions the configured people when a job in it failed, nobody when none did', () => {
          expect(chat.mentionTokens(renderDigest(digestEvents(200, 'etl')))).toEqual(
            chat.expectedMentionTokens,
          );
          const noFailure = digestEvents(10, 'etl').filter((event) => event.status !== 'FAILED');
          expect(noFailure.map((event) => event.status)).toContain('CANCELLED');
          expect(chat.mentionTokens(renderDigest(noFailure))).toEqual([]);
        });
      });
    } else {
      describe('digest', () => {
        it('has none: a program gets one delivery per event', () => {
          expect(options.platform.renderDigest).toBeUndefined();
        });
      });
    }

    describe('daily summary', () => {
      const renderSummary = (summary: DailySummary, context: RenderContext = RENDER_CONTEXT) =>
        options.kind === 'chat'
          ? options.platform.renderSummary(summary, options.destination(url), context)
          : options.platform.renderSummary(summary, options.destination(url), context);
      const writes = options.writesText ?? ((text: string) => text);

      it('renders the largest summary within its limits in both languages, and its receiver takes the Chinese one', async () => {
        const summary = hugeDailySummary();
        const english = renderSummary(summary);
        const chinese = renderSummary(summary, { ...RENDER_CONTEXT, language: 'zh-CN' });
        checkLimits(english);
        checkLimits(chinese);
        if (options.kind === 'chat') {
          expect(english.body).toContain('DLI daily summary · 2026-12-03');
          expect(english.body).toContain('❌ 120 failed');
          expect(english.body).toContain(inJson(writes('60 still running past their threshold')));
          // Failures come first among the job lists, each with its key's streak; the rest are counted.
          expect(english.body).toContain(summary.failures[0]?.jobId.slice(0, 8));
          expect(english.body).toContain(inJson(writes('first failure in a row')));
          expect(english.body).toMatch(/… and \d+ more/);
          expect(chinese.body).toContain('DLI 每日摘要');
          expect(chinese.body).toContain('失败作业');
          for (const word of [
            'Failures',
            'By queue',
            'Longest runs',
            'DLI daily',
            ' more"',
            'still running',
          ]) {
            expect(chinese.body).not.toContain(word);
          }
          // Yesterday's failures were told when they happened: the summary wakes nobody.
          expect(options.mentionTokens(english)).toEqual([]);
        } else {
          const body = JSON.parse(english.body);
          expect(body.type).toBe('dli.summary.daily');
          expect(body.data.day).toBe('2026-12-03');
          expect(body.data.counts).toEqual({ FINISHED: 3000, FAILED: 120, CANCELLED: 7 });
          expect(body.data.failures).toHaveLength(50);
          // A program reads the same fields in every language.
          expect(JSON.parse(chinese.body).data).toEqual(body.data);
        }
        // One request: some receivers answer a second within a second with 429, as their platform does.
        expect(await sendAndJudge(options.platform, chinese)).toEqual({ kind: 'delivered' });
      });

      it('says so when no job ended, and lists the jobs still running long', () => {
        const summary = hugeDailySummary({
          counts: { FINISHED: 0, FAILED: 0, CANCELLED: 0 },
          queues: [],
          otherQueues: 0,
          failures: [],
          longest: [],
          runningLongCount: 1,
          runningLong: [
            {
              jobId: 'a1b2c3d4-0000-4000-8000-000000000000',
              status: 'RUNNING',
              queue: 'etl',
              runningForMs: 3 * 3_600_000,
              thresholdMs: 7_200_000,
            },
          ],
        });
        const request = renderSummary(summary);
        checkLimits(request);
        if (options.kind === 'chat') {
          expect(request.body).toContain('No DLI job ended');
          expect(request.body).toContain('a1b2c3d4');
          expect(request.body).toContain(inJson(writes('warn after 2 h')));
          expect(request.body).not.toContain('Failures');
        } else {
          expect(JSON.parse(request.body).data.running_long).toEqual([
            expect.objectContaining({
              job_id: 'a1b2c3d4-0000-4000-8000-000000000000',
              running_for_ms: 10_800_000,
            }),
          ]);
        }
      });

      if (options.kind === 'chat' && options.digestLinks !== false) {
        it('links a listed job to its console page when the console link names the job', () => {
          const summary = hugeDailySummary();
          const request = renderSummary(summary, {
            ...RENDER_CONTEXT,
            consoleUrlTemplate: 'https://console.example.com/dli/jobs/{job_id}?region={region}',
          });
          checkLimits(request);
          expect(request.body).toContain(`dli/jobs/${summary.failures[0]?.jobId}`);
        });
      }
    });

    describe('traits', () => {
      it(`is registered as ${options.type}, a ${options.kind} platform`, () => {
        expect(platforms[options.type]).toBe(options.platform);
        expect(options.platform.kind).toBe(options.kind);
        expect((CHAT_PLATFORM_TYPES as readonly string[]).includes(options.type)).toBe(
          options.kind === 'chat',
        );
        if (options.kind === 'chat') {
          expect(options.platform.mentionsGroups ?? false).toBe(options.mentionsGroups);
          // A chat platform's URLs are told from generic webhooks by host.
          expect(options.platform.webhookHosts).toBeDefined();
        } else {
          expect(options.platform.webhookHosts).toBeUndefined();
        }
      });

      it(`takes a destination URL of its real shape for ${options.type}`, () => {
        for (const real of options.urls)
          expect(destinationTypeForUrl(new URL(real)), real).toBe(options.type);
        for (const lookalike of options.lookalikeUrls ?? []) {
          expect(destinationTypeForUrl(new URL(lookalike)), lookalike).not.toBe(options.type);
        }
      });

      it('publishes its send limit', () => {
        expect(options.platform.rateLimit).toEqual(options.rateLimit);
      });

      it('accepts a valid signing secret and refuses an invalid one, where it takes one', () => {
        const rule = options.platform.signingSecret;
        expect(rule !== undefined).toBe(options.signingSecrets !== undefined);
        if (rule === undefined || options.signingSecrets === undefined) return;
        expect(rule.rule).not.toBe('');
        for (const secret of options.signingSecrets.valid) expect(rule.accepts(secret), secret).toBe(true);
        for (const secret of options.signingSecrets.invalid) expect(rule.accepts(secret), secret).toBe(false);
      });
    });
  });
}
