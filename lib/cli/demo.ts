import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../config/config.ts';
import { DEFAULT_EVENT_TYPES } from '../job.ts';
import { createChatDestination, createWebhookDestination } from '../notify/destination.ts';
import { DEFAULT_CONSOLE_URL_TEMPLATE } from '../notify/render/job-facts.ts';
import { runLoop } from '../run/run-loop.ts';
import { createWatcher } from '../run/watcher.ts';
import { createDliSimulator, type SimulatedJob } from '../simulator/dli-simulator.ts';
import { createWebhookReceiver, type ReceivedWebhookRequest } from '../simulator/webhook-receiver.ts';
import { SqliteStore } from '../store/sqlite-store.ts';
import { createStderrLog } from '../util/log.ts';
import { createWatch } from '../watch.ts';
import type { CliIo } from './cli-io.ts';

const PROJECT_ID = '0123456789abcdef0123456789abcdef';
const DEMO_JOBS: Record<string, SimulatedJob> = {
  '6d2146a0-c2d5-41bd-8ca0-ca9694ada992': {
    lifecycle: ['LAUNCHING', 'RUNNING', 'FINISHED'],
    fields: {
      job_type: 'QUERY',
      queue_name: 'bi_reports',
      owner: 'alice',
      database_name: 'sales',
      table_name: 'orders',
      result_count: 1842,
      input_size: 734_003_200,
      statement:
        'SELECT region, sum(amount) FROM sales.orders WHERE order_date >= date_sub(current_date, 7) GROUP BY region',
      tags: [{ key: 'team', value: 'finance' }],
    },
  },
  '9f3c0b2e-41aa-4c7e-9d2a-5b8e7f1c2d3e': {
    lifecycle: ['RUNNING', 'RUNNING', 'FAILED'],
    fields: {
      job_type: 'INSERT',
      queue_name: 'etl_queue',
      owner: 'etl_service',
      statement: 'INSERT INTO sales.daily_summary SELECT * FROM sales.orders_2024 WHERE dt = "2026-11-24"',
      message: 'DLI.0005: AnalysisException: Table or view not found: sales.orders_2024; line 1 pos 52',
    },
  },
  'c41e8a77-0b5d-4e9a-a3f1-2d6c8b9e0f14': {
    lifecycle: ['LAUNCHING', 'CANCELLED'],
    fields: {
      job_type: 'QUERY',
      queue_name: 'default',
      owner: 'bob',
      statement: 'SELECT * FROM logs.raw_events',
    },
  },
};

const MINUTE = 60_000;

/** A job that started more than two hours ago and is still running: tracked with a 2 h threshold, it is warned about. */
const LONG_JOB_ID = '5a8e1f30-7c2b-4d9e-8f61-3b0c9d2e7a45';
/** Two runs of the nightly load (tag `pipeline=nightly_load`): the first failed, the second recovers. */
const FAILED_RUN_ID = 'e0b7c3d1-2f4a-4b8e-9c65-1d7f0a3b5c82';
const RECOVERING_RUN_ID = 'f3c9a2e8-6d1b-4e7f-a084-9b2d5c1e7f36';

/** The demo jobs that show warnings and streaks: their start times are relative to when the demo runs. */
function alertingJobs(now: number): Record<string, SimulatedJob> {
  const nightly = {
    job_type: 'INSERT',
    queue_name: 'batch',
    owner: 'etl_service',
    tags: [{ key: 'pipeline', value: 'nightly_load' }],
  };
  return {
    [LONG_JOB_ID]: {
      lifecycle: ['RUNNING', 'RUNNING', 'RUNNING', 'FINISHED'],
      fields: {
        job_type: 'QUERY',
        queue_name: 'bi_reports',
        owner: 'dave',
        start_time: now - 2 * 60 * MINUTE - 5 * MINUTE,
        duration: 2 * 60 * MINUTE + 6 * MINUTE,
        statement: 'SELECT customer_id, count(*) FROM sales.orders_history GROUP BY customer_id',
      },
    },
    [FAILED_RUN_ID]: {
      lifecycle: ['FAILED'],
      fields: {
        ...nightly,
        start_time: now - 30 * MINUTE,
        duration: 4 * MINUTE,
        statement: 'INSERT INTO dw.daily SELECT * FROM staging.daily WHERE dt = "2026-12-01"',
        message: 'DLI.0003: The queue batch has insufficient CUs',
      },
    },
    [RECOVERING_RUN_ID]: {
      lifecycle: ['RUNNING', 'RUNNING', 'FINISHED'],
      fields: {
        ...nightly,
        start_time: now - 10 * MINUTE,
        duration: 6 * MINUTE,
        statement: 'INSERT INTO dw.daily SELECT * FROM staging.daily WHERE dt = "2026-12-02"',
      },
    },
  };
}

/** A job submitted from the console while the demo runs: nobody tracks it, the `etl` watch finds it. */
const CONSOLE_JOB_ID = '2b7d9e41-8c3a-4f6e-b1d0-7a5c3e9f8b62';

/** The demo's watch: every job on an `etl_*` queue, whoever submitted it. */
const DEMO_WATCH = createWatch('etl', { queues: ['etl_*'], labels: { team: 'data' } });

/**
 * `dli-watch demo`: the whole product on one machine in a few seconds — a DLI simulator, a Slack-like and a
 * Standard Webhooks receiver, a throwaway store, the real watch loop — printing each message as it arrives.
 */
export async function runDemo(io: CliIo): Promise<number> {
  const accessKey = 'DEMOACCESSKEY';
  const secretKey = randomBytes(20).toString('hex');
  const simulator = createDliSimulator({ projectId: PROJECT_ID, credentials: { accessKey, secretKey } });
  const slack = createWebhookReceiver();
  const webhook = createWebhookReceiver({ defaultResponse: { status: 204 } });
  const directory = await mkdtemp(join(tmpdir(), 'dli-watch-demo-'));
  const store = SqliteStore.open(join(directory, 'state.db'));
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  io.signal?.addEventListener('abort', onSignal, { once: true });
  try {
    const alerting = alertingJobs(Date.now());
    for (const [jobId, job] of Object.entries({ ...DEMO_JOBS, ...alerting })) simulator.addJob(jobId, job);
    const [dliUrl, slackUrl, webhookUrl] = await Promise.all([
      simulator.start(),
      slack.start(),
      webhook.start(),
    ]);
    slack.onRequest((request) => io.stdout(formatSlackArrival(request)));
    webhook.onRequest((request) => io.stdout(formatWebhookArrival(request)));

    const config: Pick<Config, 'dli' | 'destinations' | 'consoleUrlTemplate' | 'watches'> = {
      dli: {
        region: 'cn-north-4',
        projectId: PROJECT_ID,
        endpoint: dliUrl,
        auth: { kind: 'aksk', accessKey, secretKey, securityToken: null },
        timeoutMs: 5_000,
        concurrency: 4,
        maxRequestsPerSecond: 50,
        statusPlan: 'auto',
      },
      destinations: [
        // Both ask for recoveries too: a FINISHED run after failures reaches them as RECOVERED.
        createChatDestination({
          name: 'data-alerts',
          type: 'slack',
          url: `${slackUrl}/services/T0DEMO/B0DEMO/demo`,
          events: [...DEFAULT_EVENT_TYPES, 'RECOVERED'],
        }),
        createWebhookDestination({
          name: 'audit',
          url: `${webhookUrl}/dli-events`,
          secret: `whsec_${randomBytes(32).toString('base64')}`,
          events: [...DEFAULT_EVENT_TYPES, 'RECOVERED'],
        }),
      ],
      consoleUrlTemplate: DEFAULT_CONSOLE_URL_TEMPLATE,
      watches: [DEMO_WATCH],
    };
    // Submitted a moment after the watch's first cycle, which starts it: it is news, not history.
    const submittedAt = Date.now() + 1_500;
    simulator.addJob(CONSOLE_JOB_ID, {
      timeline: [
        { at: submittedAt, status: 'RUNNING' },
        { at: submittedAt + 2_500, status: 'FINISHED' },
      ],
      fields: {
        job_type: 'INSERT',
        queue_name: 'etl_nightly',
        owner: 'carol',
        statement: 'INSERT OVERWRITE TABLE sales.customers SELECT * FROM staging.customers',
      },
    });
    const jobIds = [...Object.keys(DEMO_JOBS), ...Object.keys(alerting)];
    const options = (jobId: string) =>
      jobId === LONG_JOB_ID
        ? { warnAfterMs: 2 * 60 * MINUTE }
        : jobId in alerting
          ? { keyFrom: { from: 'tag', name: 'pipeline' } as const }
          : {};
    await store.track(
      jobIds.map((jobId) => ({ jobId, labels: { source: 'demo' }, ...options(jobId) })),
      Date.now(),
    );
    io.stdout(
      `dli-watch demo: DLI simulator at ${dliUrl}, Slack-like receiver at ${slackUrl}, webhook receiver at ${webhookUrl}\n` +
        `tracking ${jobIds.length} jobs (one running for over 2 h with a 2 h threshold, and two runs of a nightly ` +
        'pipeline, the first of which failed), and watching the etl_* queues, where a job nobody tracked is about ' +
        'to be submitted from the console;\npolling every second until each has ended and been delivered…\n',
    );

    const log = createStderrLog({ level: 'warn', write: io.stderr });
    const watcher = createWatcher(config, { store, log });
    const giveUp = setTimeout(() => stop.abort(), 45_000);
    let cycles = 0;
    await runLoop(watcher, {
      intervalMs: 1_000,
      log,
      signal: stop.signal,
      onCycle: () => {
        cycles += 1;
        void allDelivered(store, [...jobIds, CONSOLE_JOB_ID]).then((done) => done && stop.abort());
      },
    });
    clearTimeout(giveUp);
    const done = await allDelivered(store, [...jobIds, CONSOLE_JOB_ID]);
    io.stdout(
      done
        ? `\nThe etl watch found ${CONSOLE_JOB_ID}, which nobody had tracked; ${LONG_JOB_ID} was warned about once ` +
            `when seen past its threshold, and ${RECOVERING_RUN_ID} recovered the nightly pipeline. ` +
            `All ${jobIds.length + 1} jobs ended and every message was delivered (${cycles} cycles, ${slack.requests.length} Slack + ${webhook.requests.length} webhook messages).\n` +
            'Next: set DLI_REGION, DLI_PROJECT_ID, HUAWEICLOUD_SDK_AK/SK and DLI_WATCH_WEBHOOKS, `dli-watch check` them, then `dli-watch track <job-id>` (or set DLI_WATCH_QUEUES) and `dli-watch run`.\n'
        : '\nThe demo stopped before every message was delivered.\n',
    );
    return done ? 0 : 1;
  } finally {
    io.signal?.removeEventListener('abort', onSignal);
    await store.close();
    await Promise.all([simulator.close(), slack.close(), webhook.close()]);
    await rm(directory, { recursive: true, force: true });
  }
}

async function allDelivered(store: SqliteStore, jobIds: string[]): Promise<boolean> {
  for (const jobId of jobIds) {
    const record = await store.get(jobId);
    if (!record || record.phase === 'active' || record.deliveries.length > 0) return false;
  }
  return true;
}

interface SlackPayload {
  text?: string;
  blocks?: {
    type: string;
    text?: { text: string };
    fields?: { text: string }[];
    elements?: { text: string }[];
  }[];
}

/** Shows a Slack message roughly as the channel would: header, fields, sections, context. */
function formatSlackArrival(request: ReceivedWebhookRequest): string {
  const payload = JSON.parse(request.body) as SlackPayload;
  const lines = [
    `\n── Slack (${request.path.split('/').slice(0, 3).join('/')}/…) ── notification: ${payload.text ?? ''}`,
  ];
  for (const block of payload.blocks ?? []) {
    if (block.text) lines.push(block.type === 'header' ? `  ${block.text.text}` : indent(block.text.text));
    for (const field of block.fields ?? []) lines.push(indent(field.text));
    for (const element of block.elements ?? []) lines.push(indent(element.text));
  }
  return `${lines.join('\n')}\n`;
}

function formatWebhookArrival(request: ReceivedWebhookRequest): string {
  const signature = request.headers['webhook-signature'] ?? '(unsigned)';
  const body = JSON.parse(request.body) as { type: string; data: { job_id: string; status: string } };
  return (
    `\n── Standard Webhook ${request.method} ${request.path} ── ${body.type} for ${body.data.job_id}\n` +
    `  webhook-id: ${request.headers['webhook-id']}\n  webhook-timestamp: ${request.headers['webhook-timestamp']}\n` +
    `  webhook-signature: ${signature.slice(0, 24)}…\n${indent(JSON.stringify(body, null, 2).split('\n').slice(0, 14).join('\n'))}\n  …\n`
  );
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
}
