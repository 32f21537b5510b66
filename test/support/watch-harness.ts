import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../../lib/config/config.ts';
import { createChatDestination, createWebhookDestination } from '../../lib/notify/destination.ts';
import type { Destination } from '../../lib/notify/platforms/registry.ts';
import { DEFAULT_CONSOLE_URL_TEMPLATE } from '../../lib/notify/render/job-facts.ts';
import { createWatcher, type Watcher } from '../../lib/run/watcher.ts';
import {
  createDliSimulator,
  type DliSimulator,
  type DliSimulatorOptions,
} from '../../lib/simulator/dli-simulator.ts';
import { createWebhookReceiver, type WebhookReceiver } from '../../lib/simulator/webhook-receiver.ts';
import type { JobStore } from '../../lib/store/job-store.ts';
import { SqliteStore } from '../../lib/store/sqlite-store.ts';
import { createStderrLog, type Log } from '../../lib/util/log.ts';
import type { Watch } from '../../lib/watch.ts';
import { createManualClock, type ManualClock } from './manual-clock.ts';

export const PROJECT_ID = '0123456789abcdef0123456789abcdef';
/** Distinctive values, so a test can prove none of them ever reaches a log line. */
export const ACCESS_KEY = 'AKHARNESSEXAMPLE';
export const SECRET_KEY = `SK-${randomBytes(12).toString('hex')}-SECRET`;
export const WEBHOOK_SECRET = `whsec_${randomBytes(32).toString('base64')}`;
export const SLACK_PATH = `/services/T0HARNESS/B0HARNESS/${randomBytes(12).toString('hex')}`;

export interface WatchHarness {
  simulator: DliSimulator;
  slack: WebhookReceiver;
  webhook: WebhookReceiver;
  dliUrl: string;
  destinations: Destination[];
  storePath: string;
  store: SqliteStore;
  clock: ManualClock;
  /** Every log line written by every watcher of this harness. */
  logLines: string[];
  log: Log;
  config: Pick<Config, 'dli' | 'destinations' | 'consoleUrlTemplate'>;
  /** A watcher on its own store connection (as a second process would have), sharing clock and log. */
  newWatcher(options?: {
    store?: JobStore;
    concurrency?: number;
    timeoutMs?: number;
    watches?: Watch[];
    statusPlan?: 'auto' | 'per-job';
    /** Instead of the harness's Slack and webhook destinations (the receivers stay the same). */
    destinations?: Destination[];
    /** `DLI_WATCH_WARN_AFTER`, in ms. */
    warnAfterMs?: number;
  }): Watcher;
  close(): Promise<void>;
}

/**
 * A DLI simulator checking AK/SK signatures, a Slack-like and a Standard Webhooks receiver, and a SQLite store in
 * a temporary directory: everything a cycle talks to, real and on loopback.
 */
export async function startWatchHarness(
  options: {
    simulator?: Partial<DliSimulatorOptions>;
    concurrency?: number;
    timeoutMs?: number;
    statusPlan?: 'auto' | 'per-job';
    /** DLI's clock is the harness clock (by default it is the real one). */
    sharedClock?: boolean;
    /** Where the harness clock starts (default now). */
    clockStart?: number;
    /**
     * How far every DLI request moves the harness clock on (the simulator reads its clock once per request): for
     * tests of what a cycle does when its budget runs out. DLI itself keeps the real time.
     */
    dliRequestCostMs?: number;
  } = {},
): Promise<WatchHarness> {
  const clock = createManualClock(options.clockStart);
  const simulator = createDliSimulator({
    projectId: PROJECT_ID,
    credentials: { accessKey: ACCESS_KEY, secretKey: SECRET_KEY },
    ...(options.sharedClock ? { now: clock.now } : {}),
    ...(options.dliRequestCostMs === undefined
      ? {}
      : {
          now: () => {
            clock.advance(options.dliRequestCostMs ?? 0);
            return Date.now();
          },
        }),
    ...options.simulator,
  });
  const slack = createWebhookReceiver();
  const webhook = createWebhookReceiver({ defaultResponse: { status: 204 } });
  const [dliUrl, slackUrl, webhookUrl] = await Promise.all([
    simulator.start(),
    slack.start(),
    webhook.start(),
  ]);
  const directory = mkdtempSync(join(tmpdir(), 'dli-watch-test-'));
  const storePath = join(directory, 'state.db');
  const store = SqliteStore.open(storePath);
  const logLines: string[] = [];
  const log = createStderrLog({ level: 'debug', write: (line) => logLines.push(line), now: clock.now });
  const destinations: Destination[] = [
    createChatDestination({ name: 'alerts', type: 'slack', url: `${slackUrl}${SLACK_PATH}` }),
    createWebhookDestination({ name: 'audit', url: `${webhookUrl}/dli`, secret: WEBHOOK_SECRET }),
  ];
  const config = {
    dli: {
      region: 'cn-north-4',
      projectId: PROJECT_ID,
      endpoint: dliUrl,
      auth: { kind: 'aksk' as const, accessKey: ACCESS_KEY, secretKey: SECRET_KEY, securityToken: null },
      timeoutMs: options.timeoutMs ?? 2_000,
      concurrency: options.concurrency ?? 4,
      maxRequestsPerSecond: 10_000,
      statusPlan: options.statusPlan ?? ('auto' as const),
    },
    destinations,
    consoleUrlTemplate: DEFAULT_CONSOLE_URL_TEMPLATE,
  };
  const extraStores: SqliteStore[] = [];
  return {
    simulator,
    slack,
    webhook,
    dliUrl,
    destinations,
    storePath,
    store,
    clock,
    logLines,
    log,
    config,
    newWatcher(watcherOptions = {}) {
      const ownStore = watcherOptions.store ?? store;
      const dli = {
        ...config.dli,
        concurrency: watcherOptions.concurrency ?? config.dli.concurrency,
        timeoutMs: watcherOptions.timeoutMs ?? config.dli.timeoutMs,
        statusPlan: watcherOptions.statusPlan ?? config.dli.statusPlan,
      };
      return createWatcher(
        {
          ...config,
          dli,
          watches: watcherOptions.watches ?? [],
          destinations: watcherOptions.destinations ?? config.destinations,
          warnAfterMs: watcherOptions.warnAfterMs ?? null,
        },
        { store: ownStore, log, clock, random: () => 0.5, ...(options.sharedClock && { dliClock: clock }) },
      );
    },
    async close() {
      for (const extra of extraStores) await extra.close();
      await store.close();
      await Promise.all([simulator.close(), slack.close(), webhook.close()]);
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
