import { describeRecordInDetail } from '../job-view.ts';
import { formatDuration } from '../notify/render/duration-text.ts';
import { type RedeliverOutcome, redeliverDeadLettered } from '../store/redeliver.ts';
import { forEachBounded } from '../util/for-each-bounded.ts';
import { type CliIo, EXIT_FAILURE, EXIT_OK, parse, usage } from './cli-io.ts';
import { parseDuration } from './duration.ts';
import { abbreviatedList, shortTime, withStore } from './job-commands.ts';
import { isRecordId, readJobIds, recordIdRule } from './job-ids-input.ts';
import { createTextTable, printable } from './text-table.ts';

/** Jobs `redeliver` changes at once: hides a remote store's round trips without a burst of writes. */
const REDELIVER_CONCURRENCY = 8;

/** `dli-watch show <job-id>`: one job in full, for deciding what to do about it. */
export async function show(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, { json: { type: 'boolean' } });
  const [jobId] = positionals;
  if (jobId === undefined || positionals.length > 1) usage('give exactly one job id');
  if (!isRecordId(jobId, 'records'))
    usage(`${JSON.stringify(jobId.slice(0, 80))} is not a job id: a job id is ${recordIdRule('records')}`);
  const record = await withStore(io, (store) => store.get(jobId), { mustExist: true });
  if (record === null) {
    io.stderr(`dli-watch show: job ${jobId} is not tracked\n`);
    return EXIT_FAILURE;
  }
  const view = describeRecordInDetail(record);
  if (values.json) {
    io.stdout(`${JSON.stringify(view)}\n`);
    return EXIT_OK;
  }
  const labels = Object.entries(view.labels).map(([key, value]) => `${key}=${value}`);
  const { summary } = view;
  const routedTo = summary
    ? summary.destination
    : view.routed_to === null
      ? '- (not ended yet)'
      : view.routed_to.join(', ') || '(nobody: no destination wanted it)';
  const facts: [string, string][] = [
    ['job', view.job_id],
    ['status', view.status],
    ['phase', view.phase],
    ['labels', labels.join(', ') || '-'],
    ['tracked at', shortTime(view.tracked_at)],
    ['started at', shortTime(view.start_time)],
    // A poll that finds nothing new writes nothing: this is the last poll that changed something.
    ['last change at', shortTime(view.last_polled_at)],
    ['status changed at', shortTime(view.status_changed_at)],
    ['not found', `${view.not_found_count} poll(s) in a row`],
    ['routed to', routedTo],
    ...(summary
      ? [
          [
            'summary of',
            `${summary.day} (${summary.time_zone}): ${summary.counts.FINISHED} finished, ${summary.counts.FAILED} failed, ` +
              `${summary.counts.CANCELLED} cancelled, ${summary.running_long} running past their threshold`,
          ] as [string, string],
        ]
      : []),
    ['event id', view.event_id ?? '-'],
    [
      'run key',
      view.streak
        ? `${view.streak.run_key} (failure ${view.streak.failures_in_a_row} in a row)`
        : (view.key_from ?? '-'),
    ],
    [
      'warn after',
      view.warn_after_ms === null ? '- (the default, if any)' : formatDuration(view.warn_after_ms),
    ],
    ...view.notices.map((notice): [string, string] => [
      'notice',
      `${notice.event} at ${shortTime(notice.occurred_at)} → ${notice.routed_to.join(', ') || 'nobody'}`,
    ]),
  ];
  const width = Math.max(...facts.map(([name]) => name.length));
  io.stdout(facts.map(([name, value]) => `${name.padEnd(width)}  ${printable(value)}\n`).join(''));
  if (view.deliveries.length === 0) {
    io.stdout('\nno deliveries\n');
    return EXIT_OK;
  }
  io.stdout('\n');
  const table = createTextTable(
    ['DESTINATION', 'EVENT', 'STATE', 'ATTEMPTS', 'NEXT ATTEMPT', 'LAST ERROR'],
    io.stdout,
  );
  for (const delivery of view.deliveries) {
    table.row([
      delivery.destination,
      delivery.event ?? '-',
      delivery.state === 'dead_lettered' ? 'dead-lettered' : 'pending',
      String(delivery.attempts),
      delivery.state === 'pending' ? shortTime(delivery.next_attempt_at) : '-',
      delivery.last_error ?? '-',
    ]);
  }
  table.end();
  return EXIT_OK;
}

/**
 * `dli-watch redeliver <job-id>...`: dead-lettered deliveries back to pending, due at once, with the event (and so
 * the Standard Webhooks `webhook-id`) they had. Exits 1 when a job was not tracked or kept changing under it.
 */
export async function redeliver(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, {
    destination: { type: 'string', short: 'd' },
    file: { type: 'string', short: 'f' },
  });
  if (values.destination === '') usage('--destination needs a destination name');
  const ids = await readJobIds(positionals, values.file, io, 'records');
  if (ids.length === 0) usage('give at least one job id');
  const outcomes = new Map<string, RedeliverOutcome>();
  await withStore(
    io,
    (store) =>
      forEachBounded(ids, REDELIVER_CONCURRENCY, async (jobId) => {
        const now = Date.now();
        const options = values.destination === undefined ? { now } : { now, destination: values.destination };
        outcomes.set(jobId, await redeliverDeadLettered(store, jobId, options));
      }),
    { mustExist: true },
  );
  let redelivered = 0;
  const idle: string[] = [];
  const notTracked: string[] = [];
  const contended: string[] = [];
  for (const jobId of ids) {
    const outcome = outcomes.get(jobId);
    if (outcome?.kind === 'not-tracked') notTracked.push(jobId);
    else if (outcome?.kind === 'contended') contended.push(jobId);
    else if (outcome?.kind === 'redelivered' && outcome.destinations.length === 0) idle.push(jobId);
    else if (outcome?.kind === 'redelivered') {
      redelivered += outcome.destinations.length;
      io.stdout(`${jobId}: back to pending: ${outcome.destinations.join(', ')}\n`);
    }
  }
  const jobs = ids.length - idle.length - notTracked.length - contended.length;
  io.stdout(`redelivering ${redelivered} delivery(ies) of ${jobs} job(s); the next cycle sends them\n`);
  if (idle.length > 0) {
    const what = values.destination === undefined ? 'nothing' : `nothing to ${values.destination}`;
    io.stdout(`${what} dead-lettered (left alone): ${abbreviatedList(idle)}\n`);
  }
  if (notTracked.length > 0) io.stderr(`dli-watch redeliver: not tracked: ${abbreviatedList(notTracked)}\n`);
  if (contended.length > 0) {
    io.stderr(
      `dli-watch redeliver: kept changing while being updated, nothing done (try again): ${abbreviatedList(contended)}\n`,
    );
  }
  return notTracked.length + contended.length > 0 ? EXIT_FAILURE : EXIT_OK;
}

/**
 * `dli-watch prune --older-than <duration>`: removes jobs that finished (ended, or were lost) longer ago than that
 * and owe nothing pending. Jobs holding a dead-lettered delivery stay unless `--include-dead-lettered`: that
 * delivery is the only trace of a notification never sent, and `redeliver` needs it.
 */
export async function prune(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, {
    'older-than': { type: 'string' },
    'include-dead-lettered': { type: 'boolean' },
  });
  if (positionals.length) usage('prune takes no arguments');
  if (values['older-than'] === undefined) usage('say how old with --older-than, e.g. --older-than 30d');
  const olderThanMs = parseDuration(values['older-than'], '--older-than');
  const finishedBefore = Date.now() - olderThanMs;
  const result = await withStore(
    io,
    (store) => store.prune({ finishedBefore, includeDeadLettered: values['include-dead-lettered'] ?? false }),
    { mustExist: true },
  );
  const cutoff = shortTime(new Date(finishedBefore).toISOString());
  io.stdout(`pruned ${result.removed} job(s) that finished before ${cutoff}\n`);
  if (result.keptDeadLettered > 0) {
    io.stdout(
      `kept ${result.keptDeadLettered} that hold dead-lettered deliveries ` +
        `('dli-watch list --dead-lettered' shows them; --include-dead-lettered removes them too)\n`,
    );
  }
  return EXIT_OK;
}
