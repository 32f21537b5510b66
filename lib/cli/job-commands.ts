import { loadStoreConfig } from '../config/env-settings.ts';
import type { JobRecord } from '../job.ts';
import { describeRecord, type JobView } from '../job-view.ts';
import type { PrunableJobStore } from '../store/job-store.ts';
import { openStore } from '../store/open-store.ts';
import { isLabelKey, LABEL_KEY_RULE, parseKeySource, RUN_KEY_RULE } from '../track-request.ts';
import { type CliIo, EXIT_OK, parse, usage } from './cli-io.ts';
import { parseDuration } from './duration.ts';
import { readJobIds } from './job-ids-input.ts';
import { createTextTable } from './text-table.ts';

/**
 * Runs `use` with the store `DLI_WATCH_STORE` (or `--store`) names and closes it after. With `mustExist`, a store
 * that is not there is a `MissingStoreError` and nothing is created: every command but `track` reads or changes
 * jobs already tracked, so a new, empty store would only hide a wrong path.
 */
export async function withStore<T>(
  io: CliIo,
  use: (store: PrunableJobStore) => Promise<T>,
  options: { mustExist?: boolean } = {},
): Promise<T> {
  const config = loadStoreConfig(io.env, { cwd: io.cwd });
  const store = await openStore(config.store, options);
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

/** Every tracked job, page by page, without holding more than a page. */
export async function* allRecords(store: PrunableJobStore): AsyncGenerator<JobRecord> {
  let cursor: string | null = null;
  do {
    const page = await store.list({ limit: 500, cursor });
    yield* page.items;
    cursor = page.cursor;
  } while (cursor);
}

function parseLabels(values: string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const value of values) {
    const separator = value.indexOf('=');
    const key = value.slice(0, separator);
    if (separator <= 0 || !isLabelKey(key)) {
      usage(`--label ${JSON.stringify(value)}: expected key=value, the key ${LABEL_KEY_RULE}`);
    }
    labels[key] = value.slice(separator + 1);
  }
  return labels;
}

export async function track(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, {
    label: { type: 'string', short: 'l', multiple: true },
    file: { type: 'string', short: 'f' },
    'warn-after': { type: 'string' },
    key: { type: 'string' },
  });
  const ids = await readJobIds(positionals, values.file, io);
  if (ids.length === 0) usage('give at least one job id');
  const labels = parseLabels(values.label ?? []);
  const warnAfter = values['warn-after'];
  const warnAfterMs = warnAfter === undefined ? undefined : parseDuration(warnAfter, '--warn-after');
  const keyFrom = values.key === undefined ? undefined : parseKeySource(values.key);
  if (keyFrom === null) usage(`--key ${JSON.stringify(values.key)}: expected ${RUN_KEY_RULE}`);
  const options = {
    ...(warnAfterMs !== undefined && { warnAfterMs }),
    ...(keyFrom !== undefined && { keyFrom }),
  };
  const result = await withStore(io, (store) =>
    store.track(
      ids.map((jobId) => ({ jobId, labels, ...options })),
      Date.now(),
    ),
  );
  io.stdout(
    `tracking ${result.added} new job(s)${result.existing ? `, ${result.existing} already tracked` : ''}\n`,
  );
  return EXIT_OK;
}

export async function untrack(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, { file: { type: 'string', short: 'f' } });
  const ids = await readJobIds(positionals, values.file, io, 'records');
  if (ids.length === 0) usage('give at least one job id');
  const removed = await withStore(io, (store) => store.untrack(ids), { mustExist: true });
  const removedIds = new Set(removed);
  const missing = ids.filter((id) => !removedIds.has(id));
  io.stdout(`untracked ${removed.length} job(s)\n`);
  // Named, since an id that was not tracked is most often a typo the user wants to see.
  if (missing.length > 0) io.stdout(`not tracked (left alone): ${abbreviatedList(missing)}\n`);
  return EXIT_OK;
}

/** At most `shown` items, then how many more: bounded output for a call with thousands of ids. */
export function abbreviatedList(items: string[], shown = 20): string {
  const more = items.length - shown;
  return `${items.slice(0, shown).join(', ')}${more > 0 ? `, … and ${more} more` : ''}`;
}

/** `2025-06-15T15:06:40Z`: an instant as the tables show it, to the second. */
export function shortTime(iso: string | null): string {
  return iso?.replace(/\.\d{3}Z$/, 'Z') ?? '-';
}

/**
 * Which jobs `list` shows. The options combine with AND; `--status` takes several statuses (repeated or
 * comma-separated), any of which matches.
 */
function listFilter(values: { status?: string[]; 'dead-lettered'?: boolean; active?: boolean }) {
  const statuses = (values.status ?? []).flatMap((value) => value.split(',')).map((value) => value.trim());
  if (statuses.some((status) => status === '')) usage('--status needs a status, e.g. --status FAILED');
  // Statuses are shown in capitals (DLI's own, LOST, NOT_POLLED); typing them in lower case is no mistake.
  const wanted = new Set(statuses.map((status) => status.toUpperCase()));
  return (view: JobView): boolean =>
    (wanted.size === 0 || wanted.has(view.status.toUpperCase())) &&
    (!values['dead-lettered'] || view.dead_lettered_deliveries.length > 0) &&
    (!values.active || view.phase === 'active');
}

export async function list(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, {
    json: { type: 'boolean' },
    status: { type: 'string', multiple: true },
    'dead-lettered': { type: 'boolean' },
    active: { type: 'boolean' },
  });
  if (positionals.length) usage('list takes no job ids');
  const wanted = listFilter(values);
  await withStore(
    io,
    async (store) => {
      let first = true;
      const table = values.json
        ? null
        : createTextTable(
            ['JOB ID', 'STATUS', 'LAST CHANGE', 'ROUTED TO', 'PENDING', 'DEAD-LETTERED'],
            io.stdout,
          );
      if (values.json) io.stdout('[');
      // Streamed page by page: the output can be as long as the store without the memory growing with it.
      for await (const record of allRecords(store)) {
        const described = describeRecord(record);
        if (!wanted(described)) continue;
        if (table === null) {
          io.stdout(`${first ? '\n' : ',\n'}${JSON.stringify(described)}`);
        } else {
          table.row([
            described.job_id,
            described.status,
            shortTime(described.last_polled_at),
            described.routed_to === null ? '-' : described.routed_to.join(',') || '(nobody)',
            described.pending_deliveries.map((delivery) => delivery.destination).join(',') || '-',
            described.dead_lettered_deliveries.map((delivery) => delivery.destination).join(',') || '-',
          ]);
        }
        first = false;
      }
      if (table === null) io.stdout(first ? ']\n' : '\n]\n');
      else table.end();
    },
    { mustExist: true },
  );
  return EXIT_OK;
}
