import { type ParseArgsOptionsConfig, parseArgs } from 'node:util';
import { createStderrLog, type Log, type LogLevel } from '../util/log.ts';

/** What a command may touch of the process: injected so tests run commands in-process. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Record<string, string | undefined>;
  cwd: string;
  /** Aborted on SIGINT/SIGTERM by the bin script. */
  signal?: AbortSignal;
}

/** Bad usage: exit code 2, like a bad configuration. */
export class UsageError extends Error {}

/**
 * Exit codes, chosen so a supervisor can tell what a restart would do (README, "Exit codes"): 1 may pass with time
 * (a failed cycle, a destination that refused), 2, 3 and 4 need a person (bad usage or configuration, rejected
 * credentials — retrying them can lock the key — and a store that cannot be used).
 */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
export const EXIT_CREDENTIALS = 3;
export const EXIT_STORE = 4;

export function usage(message: string): never {
  throw new UsageError(message);
}

export function parse<const T extends ParseArgsOptionsConfig>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true } as const);
  } catch (error) {
    // parseArgs explains well ("Unknown option '--x'"); only its code prefix is noise.
    return usage((error as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, ''));
  }
}

export function seconds(value: string | undefined, name: string, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < min || parsed > 86_400)
    usage(`--${name} must be a number of seconds from ${min} to 86400`);
  return parsed;
}

/** The CLI's log: JSON lines on stderr, so stdout carries only a command's own output. */
export function logFor(io: CliIo, level: LogLevel): Log {
  return createStderrLog({ level, write: io.stderr });
}
