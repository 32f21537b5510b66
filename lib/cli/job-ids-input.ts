import { isSummaryRecordId, SUMMARY_RECORD_ID_RULE } from '../daily-summary.ts';
import { isJobId, JOB_ID_RULE } from '../track-request.ts';
import { type CliIo, usage } from './cli-io.ts';

/**
 * The job ids a command was given: its positional arguments, then the lines of `--file` (one id a line; blank
 * lines and lines starting with `#` skipped; `-` reads standard input). All of them are checked before anything
 * is done, so one bad id changes nothing; duplicates are dropped, first occurrence kept. The one reader behind
 * every command that takes many ids (`track`, `untrack`, `redeliver`). With `records`, the ids of daily summary
 * records are taken too: a command about what is stored, not about DLI jobs.
 *
 * @throws UsageError when the file cannot be read or any id is invalid (every bad id is named, up to five).
 */
export async function readJobIds(
  positionals: string[],
  file: string | undefined,
  io: CliIo,
  accept: 'jobs' | 'records' = 'jobs',
): Promise<string[]> {
  const fromFile = file === undefined ? [] : await readIdFile(file, io);
  return checkedJobIds([...positionals, ...fromFile], accept);
}

/** Whether `text` names a stored record: a job, or (with `records`) a daily summary. */
export function isRecordId(text: string, accept: 'jobs' | 'records'): boolean {
  return isJobId(text) || (accept === 'records' && isSummaryRecordId(text));
}

/** What an id must look like, in words. */
export function recordIdRule(accept: 'jobs' | 'records'): string {
  return accept === 'records' ? `${JOB_ID_RULE}, or ${SUMMARY_RECORD_ID_RULE}` : JOB_ID_RULE;
}

/** Validates ids up front so that one bad id changes nothing. */
function checkedJobIds(values: string[], accept: 'jobs' | 'records'): string[] {
  const bad = values.filter((id) => !isRecordId(id, accept));
  if (bad.length > 0) {
    const shown = bad
      .slice(0, 5)
      .map((id) => JSON.stringify(id.length > 80 ? `${id.slice(0, 80)}…` : id))
      .join(', ');
    usage(
      `${bad.length} invalid job id(s): ${shown}${bad.length > 5 ? ', …' : ''}. ` +
        `A job id is ${recordIdRule(accept)}. Nothing was changed.`,
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
