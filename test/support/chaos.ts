/**
 * Randomized faults against real processes: jobs with random lifecycles on a DLI simulator that throttles, fails
 * and garbles its answers; two webhook receivers that fail, throttle and answer late; one to three `dli-watch run`
 * processes racing on one store (SQLite or DynamoDB on dynalite); and processes killed with SIGKILL at random
 * moments and started again. Seeded: the same seed makes the same choices (timings still vary with the machine).
 *
 * Every destination also wants a daily summary at 00:00 UTC, so the first cycles race to raise and send yesterday's
 * under the same kills and faults: it is counted like a job's end (one message per destination).
 *
 * Afterwards every job and destination is counted from what the receivers accepted: lost (never accepted, not
 * dead-lettered), doubled under distinct ids (never allowed), doubled after a kill (allowed only for a message in
 * flight at the kill: the last one its process sent that destination before dying), doubled after a send timeout
 * (the receiver accepted it after the sender gave up), and doubled with no such reason (never allowed).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { dueSummary, summaryRecordId } from '../../lib/daily-summary.ts';
import type { JobRecord } from '../../lib/job.ts';
import { createDliSimulator, type SimulatedFault } from '../../lib/simulator/dli-simulator.ts';
import {
  createWebhookReceiver,
  type ReceivedWebhookRequest,
  type WebhookResponse,
} from '../../lib/simulator/webhook-receiver.ts';
import { DynamoDbStore } from '../../lib/store/dynamodb-store.ts';
import type { JobStore } from '../../lib/store/job-store.ts';
import { SqliteStore } from '../../lib/store/sqlite-store.ts';
import { LOCAL_AWS, startDynalite } from './dynalite.ts';
import { createSeededRandom } from './seeded-random.ts';
import { ACCESS_KEY, PROJECT_ID, SECRET_KEY } from './watch-harness.ts';

const BIN = resolve(import.meta.dirname, '../../bin/dli-watch.js');
const DESTINATIONS = ['audit', 'ops'] as const;
/** The senders' timeout: short, so a killed cycle's lease soon runs out, yet far above the receivers' usual answers. */
const SEND_TIMEOUT_MS = 1_000;
/** Every destination's daily summary: at midnight UTC, so that it is owed from the first cycle of any run. */
const SUMMARY_SCHEDULE_FILE = { at: '00:00', timezone: 'UTC' };

export type ChaosBackend = 'sqlite' | 'dynamodb';

export interface ChaosOptions {
  seed: number;
  backend: ChaosBackend;
  /** Tracked jobs. Default 24. */
  jobs?: number;
  /** How long faults and kills go on, in ms; then everything is left to settle. Default 8000. */
  chaosMs?: number;
  /** Longest the settling may take before the run is declared stuck. Default 60000. */
  settleMs?: number;
}

export interface ChaosFigures {
  seed: number;
  backend: ChaosBackend;
  workers: number;
  jobs: number;
  /** Cycles the processes completed (a killed one's last cycle does not count). */
  cycles: number;
  kills: number;
  /** DLI faults injected, receiver failures (5xx, 429) and late answers (after the send timeout). */
  faults: { dli: number; receiver_failures: number; late_answers: number };
  /** Requests the receivers got, and how many of them they accepted. */
  requests: number;
  accepted: number;
  /** Job × destination pairs that were owed a message, and one daily summary per destination. */
  deliveries: number;
  lost: number;
  dead_lettered: number;
  doubled_distinct_ids: number;
  doubled_after_kill: number;
  /** Messages that were the last their killed process sent to a destination: the most a kill may repeat. */
  in_flight_at_kills: number;
  doubled_after_timeout: number;
  doubled_unexplained: number;
  /** Whether every job ended and every delivery settled within `settleMs`. */
  settled: boolean;
  duration_ms: number;
}

interface Received {
  request: ReceivedWebhookRequest;
  /** The receiver answered 2xx: as far as the platform knows, the message is posted. */
  accepted: boolean;
  destination: string;
  /** `w<worker>g<generation>`: which process sent it. */
  sender: string;
  eventId: string;
  jobId: string;
  /** The receiver answered only after the sender's timeout. */
  late: boolean;
}

interface Kill {
  sender: string;
  at: number;
}

export async function runChaos(options: ChaosOptions): Promise<ChaosFigures> {
  const startedAt = Date.now();
  const random = createSeededRandom(options.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const jobCount = options.jobs ?? 24;
  const chaosMs = options.chaosMs ?? 8_000;
  const workerCount = 1 + Math.floor(random() * 3);
  const directory = mkdtempSync(join(tmpdir(), 'dli-watch-chaos-'));
  const simulator = createDliSimulator({
    projectId: PROJECT_ID,
    credentials: { accessKey: ACCESS_KEY, secretKey: SECRET_KEY },
  });
  let calm = false;
  const faults = { dli: 0, receiver_failures: 0, late_answers: 0 };
  const received: Received[] = [];
  const receivers = DESTINATIONS.map((destination) =>
    createWebhookReceiver({
      respond: (request) => {
        const answer = chooseAnswer();
        const body = JSON.parse(request.body) as { data: { job_id?: string } };
        received.push({
          request,
          accepted: answer.status < 300,
          destination,
          sender: request.path.split('/')[1] ?? '',
          eventId: request.headers['webhook-id'] ?? '',
          // A summary is about no job: its record id, which is its webhook-id, stands for one.
          jobId: body.data.job_id ?? request.headers['webhook-id'] ?? '',
          late: (answer.delayMs ?? 0) >= SEND_TIMEOUT_MS,
        });
        return answer;
      },
    }),
  );
  function chooseAnswer(): WebhookResponse {
    if (calm) return { status: 204 };
    const roll = random();
    if (roll < 0.15) {
      faults.receiver_failures += 1;
      return { status: pick([500, 502, 503]) };
    }
    if (roll < 0.25) {
      faults.receiver_failures += 1;
      return { status: 429, headers: { 'retry-after': '1' } };
    }
    if (roll < 0.28) {
      faults.late_answers += 1;
      return { status: 204, delayMs: SEND_TIMEOUT_MS + 200 };
    }
    return { status: 204, delayMs: Math.floor(random() * 40) };
  }

  const dynalite = options.backend === 'dynamodb' ? await startDynalite() : undefined;
  const workers: { child: ChildProcess; sender: string; exited: Promise<void> }[] = [];
  let store: JobStore | undefined;
  try {
    const [dliUrl, ...receiverUrls] = await Promise.all([
      simulator.start(),
      ...receivers.map((receiver) => receiver.start()),
    ]);
    const table = dynalite ? await dynalite.createJobTable() : undefined;
    store =
      dynalite && table
        ? new DynamoDbStore({ table, client: dynalite.client })
        : SqliteStore.open(join(directory, 'state.db'));

    const jobIds = Array.from({ length: jobCount }, (_, index) => `chaos-${options.seed}-${index + 1}`);
    // The summaries owed from the start: of yesterday (UTC), one per destination.
    const day = dueSummary({ atMinute: 0, timeZone: 'UTC' }, Date.now())?.day ?? '';
    const summaryIds = DESTINATIONS.map((destination) => summaryRecordId(destination, day));
    const recordIds = [...jobIds, ...summaryIds];
    for (const jobId of jobIds) {
      const running = Array.from({ length: Math.floor(random() * 5) }, () => pick(['LAUNCHING', 'RUNNING']));
      simulator.addJob(jobId, {
        lifecycle: [...running, pick(['FINISHED', 'FAILED', 'CANCELLED'])],
        fields: { queue_name: pick(['etl', 'bi', 'default']), owner: 'chaos' },
      });
    }
    await store.track(
      jobIds.map((jobId) => ({ jobId })),
      Date.now(),
    );

    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      DLI_REGION: 'cn-north-4',
      DLI_PROJECT_ID: PROJECT_ID,
      DLI_ENDPOINT: dliUrl ?? '',
      HUAWEICLOUD_SDK_AK: ACCESS_KEY,
      HUAWEICLOUD_SDK_SK: SECRET_KEY,
      DLI_WATCH_DLI_TIMEOUT_MS: '1000',
      DLI_WATCH_SEND_TIMEOUT_MS: String(SEND_TIMEOUT_MS),
      // Info: each finished cycle logs a line, which is how cycles are counted.
      DLI_WATCH_LOG_LEVEL: 'info',
      DLI_WATCH_STORE: table ? `dynamodb:${table}` : `sqlite:${join(directory, 'state.db')}`,
      ...(dynalite
        ? {
            AWS_REGION: LOCAL_AWS.region,
            AWS_ACCESS_KEY_ID: LOCAL_AWS.credentials.accessKeyId,
            AWS_SECRET_ACCESS_KEY: LOCAL_AWS.credentials.secretAccessKey,
            AWS_ENDPOINT_URL_DYNAMODB: dynalite.endpoint,
          }
        : {}),
    };
    let generation = 0;
    let cycles = 0;
    function startWorker(index: number): void {
      generation += 1;
      const sender = `w${index}g${generation}`;
      const config = join(directory, `${sender}.json`);
      // Each process posts under a path of its own, so the receivers know who sent what.
      writeFileSync(
        config,
        JSON.stringify({
          destinations: DESTINATIONS.map((name, at) => ({
            name,
            type: 'webhook',
            url: `${receiverUrls[at]}/${sender}/events`,
            summary: SUMMARY_SCHEDULE_FILE,
          })),
        }),
      );
      const child = spawn(process.execPath, [BIN, 'run', '--interval', '1'], {
        cwd: directory,
        env: { ...env, DLI_WATCH_CONFIG: config },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
        cycles += chunk.split('"message":"cycle finished"').length - 1;
      });
      const exited = new Promise<void>((resolveExit) => child.on('close', () => resolveExit()));
      workers[index] = { child, sender, exited };
    }
    for (let index = 0; index < workerCount; index += 1) startWorker(index);

    const kills: Kill[] = [];
    const chaosEnds = Date.now() + chaosMs;
    while (Date.now() < chaosEnds) {
      await sleep(200 + Math.floor(random() * 1_200));
      if (random() < 0.5) {
        const fault: SimulatedFault = pick<SimulatedFault>([
          { kind: 'throttle', retryAfterSeconds: 1 },
          { kind: 'server-error', status: 503 },
          { kind: 'dli-server-error-400' },
          { kind: 'malformed' },
          { kind: 'wrong-shape' },
          { kind: 'timeout' },
        ]);
        const times = 1 + Math.floor(random() * 4);
        simulator.injectFault(fault, { times });
        faults.dli += times;
      }
      if (random() < 0.6) {
        const index = Math.floor(random() * workerCount);
        const victim = workers[index];
        if (victim) {
          victim.child.kill('SIGKILL');
          kills.push({ sender: victim.sender, at: Date.now() });
          await victim.exited;
          startWorker(index);
        }
      }
    }

    calm = true;
    const settleEnds = Date.now() + (options.settleMs ?? 60_000);
    let settled = false;
    while (Date.now() < settleEnds) {
      if (await allSettled(store, recordIds)) {
        settled = true;
        break;
      }
      await sleep(500);
    }
    for (const worker of workers) worker.child.kill('SIGTERM');
    await Promise.all(workers.map((worker) => worker.exited));

    const records = await Promise.all(recordIds.map((jobId) => store?.get(jobId) ?? null));
    return {
      seed: options.seed,
      backend: options.backend,
      workers: workerCount,
      jobs: jobCount,
      cycles,
      kills: kills.length,
      faults,
      requests: received.length,
      accepted: received.filter((item) => item.accepted).length,
      ...countDeliveries(records, summaryIds, received, kills),
      settled,
      duration_ms: Date.now() - startedAt,
    };
  } finally {
    for (const worker of workers) worker.child.kill('SIGKILL');
    await store?.close();
    await Promise.all([simulator.close(), ...receivers.map((receiver) => receiver.close())]);
    await dynalite?.close();
    rmSync(directory, { recursive: true, force: true });
  }
}

/** Every job ended and every record (the summaries too, once raised) owes nothing pending. */
async function allSettled(store: JobStore, recordIds: readonly string[]): Promise<boolean> {
  for (const jobId of recordIds) {
    const record = await store.get(jobId);
    if (!record || record.phase === 'active') return false;
    if (record.deliveries.some((delivery) => delivery.state === 'pending')) return false;
  }
  return true;
}

/** The figures per job and destination, from what the receivers accepted and what the store holds. */
function countDeliveries(
  records: readonly (JobRecord | null)[],
  summaryIds: readonly string[],
  received: readonly Received[],
  kills: Kill[],
) {
  const figures = {
    deliveries: 0,
    lost: 0,
    dead_lettered: 0,
    doubled_distinct_ids: 0,
    doubled_after_kill: 0,
    in_flight_at_kills: 0,
    doubled_after_timeout: 0,
    doubled_unexplained: 0,
  };
  // A killed process's last message to each destination: the only ones the kill may repeat (every earlier one was
  // recorded before that one went out).
  const inFlight = new Set<ReceivedWebhookRequest>();
  for (const kill of kills) {
    for (const destination of DESTINATIONS) {
      const last = received
        .filter((item) => item.sender === kill.sender && item.destination === destination)
        .at(-1);
      if (last?.accepted) inFlight.add(last.request);
    }
  }
  figures.in_flight_at_kills = inFlight.size;
  const accepted = received.filter((item) => item.accepted);
  // A summary never raised is a message lost, with no record to show for it.
  const raised = new Set(records.flatMap((record) => (record?.summary ? [record.jobId] : [])));
  figures.deliveries += summaryIds.filter((id) => !raised.has(id)).length;
  figures.lost += summaryIds.filter((id) => !raised.has(id)).length;
  for (const record of records) {
    if (!record) continue;
    const owedTo = record.summary ? [record.summary.destination] : (record.event?.routedTo ?? []);
    for (const destination of owedTo) {
      figures.deliveries += 1;
      const copies = accepted.filter(
        (item) => item.jobId === record.jobId && item.destination === destination,
      );
      if (copies.length === 0) {
        const dead = record.deliveries.some(
          (delivery) => delivery.destination === destination && delivery.state === 'dead',
        );
        if (dead) figures.dead_lettered += 1;
        else figures.lost += 1;
        continue;
      }
      if (new Set(copies.map((copy) => copy.eventId)).size > 1) figures.doubled_distinct_ids += 1;
      // Every copy but the last needs a reason to have been sent again.
      for (const copy of copies.slice(0, -1)) {
        if (inFlight.has(copy.request)) figures.doubled_after_kill += 1;
        else if (copy.late) figures.doubled_after_timeout += 1;
        else figures.doubled_unexplained += 1;
      }
    }
  }
  return figures;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolveSleep) => setTimeout(resolveSleep, ms));
}
