import { loadStoreConfig } from '../config/env-settings.ts';
import { describeRecord } from '../job-view.ts';
import type { JobStore } from '../store/job-store.ts';
import { openStore } from '../store/open-store.ts';
import { isJobId, isLabelKey, JOB_ID_RULE, LABEL_KEY_RULE } from '../track-request.ts';
import { type CliIo, EXIT_OK, parse, usage } from './cli-io.ts';

export async function withStore<T>(io: CliIo, use: (store: JobStore) => Promise<T>): Promise<T> {
  const config = loadStoreConfig(io.env, { cwd: io.cwd });
  const store = await openStore(config.store);
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

/** Validates ids up front so that one bad id changes nothing. */
function jobIds(values: string[]): string[] {
  const bad = values.filter((id) => !isJobId(id));
  if (bad.length > 0) {
    const shown = bad
      .slice(0, 5)
      .map((id) => JSON.stringify(id.length > 80 ? `${id.slice(0, 80)}…` : id))
      .join(', ');
    usage(
      `${bad.length} invalid job id(s): ${shown}${bad.length > 5 ? ', …' : ''}. ` +
        `A job id is ${JOB_ID_RULE}. Nothing was changed.`,
    );
  }
  return [...new Set(values)];
}

async function readIdFile(path: string, io: CliIo): Promise<string[]> {
  const { readFile } = await import('node:fs/promises');
  const { resolve } = await import('node:path');
  let text: string;
  try {
    text = path === '-' ? await readStdin() : await readFile(resolve(io.cwd, path), 'utf8');
  } catch (error) {
    return usage(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
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
  });
  const fromFile = values.file === undefined ? [] : await readIdFile(values.file, io);
  const ids = jobIds([...positionals, ...fromFile]);
  if (ids.length === 0) usage('give at least one job id');
  const labels = parseLabels(values.label ?? []);
  const result = await withStore(io, (store) =>
    store.track(
      ids.map((jobId) => ({ jobId, labels })),
      Date.now(),
    ),
  );
  io.stdout(
    `tracking ${result.added} new job(s)${result.existing ? `, ${result.existing} already tracked` : ''}\n`,
  );
  return EXIT_OK;
}

export async function untrack(args: string[], io: CliIo): Promise<number> {
  const { positionals } = parse(args, {});
  const ids = jobIds(positionals);
  if (ids.length === 0) usage('give at least one job id');
  const removed = await withStore(io, (store) => store.untrack(ids));
  const removedIds = new Set(removed);
  const missing = ids.filter((id) => !removedIds.has(id));
  io.stdout(`untracked ${removed.length} job(s)\n`);
  // Named, since an id that was not tracked is most often a typo the user wants to see.
  if (missing.length > 0) io.stdout(`not tracked (left alone): ${abbreviatedList(missing)}\n`);
  return EXIT_OK;
}

/** At most `shown` items, then how many more: bounded output for a call with thousands of ids. */
function abbreviatedList(items: string[], shown = 20): string {
  const more = items.length - shown;
  return `${items.slice(0, shown).join(', ')}${more > 0 ? `, … and ${more} more` : ''}`;
}

export async function list(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, { json: { type: 'boolean' } });
  if (positionals.length) usage('list takes no job ids');
  await withStore(io, async (store) => {
    let cursor: string | null = null;
    let first = true;
    if (values.json) io.stdout('[');
    else io.stdout(`${row('JOB ID', 'STATUS', 'LAST POLLED', 'ROUTED TO', 'PENDING', 'DEAD-LETTERED')}\n`);
    // Streamed page by page: the output can be as long as the store without the memory growing with it.
    do {
      const page = await store.list({ limit: 500, cursor });
      for (const record of page.items) {
        const described = describeRecord(record);
        if (values.json) {
          io.stdout(`${first ? '\n' : ',\n'}${JSON.stringify(described)}`);
        } else {
          io.stdout(
            `${row(
              described.job_id,
              described.status,
              described.last_polled_at?.replace(/\.\d{3}Z$/, 'Z') ?? '-',
              described.routed_to === null ? '-' : described.routed_to.join(',') || '(nobody)',
              described.pending_deliveries.map((delivery) => delivery.destination).join(',') || '-',
              described.dead_lettered_deliveries.map((delivery) => delivery.destination).join(',') || '-',
            )}\n`,
          );
        }
        first = false;
      }
      cursor = page.cursor;
    } while (cursor);
    if (values.json) io.stdout(first ? ']\n' : '\n]\n');
  });
  return EXIT_OK;
}

function row(
  id: string,
  status: string,
  polled: string,
  routed: string,
  pending: string,
  dead: string,
): string {
  return `${id.padEnd(38)} ${status.padEnd(12)} ${polled.padEnd(21)} ${routed.padEnd(24)} ${pending.padEnd(20)} ${dead}`.trimEnd();
}
