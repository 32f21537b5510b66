/**
 * The logging surface `lib/` needs. Powertools' `Logger` satisfies it as it is (the Lambda handler passes
 * one); the CLI passes {@link createStderrLog} so stdout carries only a command's own output.
 */
export interface Log {
  debug(message: string, ...attributes: Record<string, unknown>[]): void;
  info(message: string, ...attributes: Record<string, unknown>[]): void;
  warn(message: string, ...attributes: Record<string, unknown>[]): void;
  error(message: string, ...attributes: Record<string, unknown>[]): void;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

const LEVEL_RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/**
 * A JSON-lines logger writing to a stream (stderr by default), in the schema of the Lambda's Powertools logger
 * (`level` in capitals, `message`, `timestamp`, `service`, then the attributes), so one query reads both.
 */
export function createStderrLog(
  options: { level?: LogLevel; write?: (line: string) => void; now?: () => number; service?: string } = {},
): Log {
  const threshold = LEVEL_RANK[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const now = options.now ?? Date.now;
  const service = options.service ?? 'dli-watch';
  const emit =
    (level: Exclude<LogLevel, 'silent'>) =>
    (message: string, ...attributes: Record<string, unknown>[]) => {
      if (LEVEL_RANK[level] < threshold) return;
      const line = Object.assign(
        { level: level.toUpperCase(), message, timestamp: new Date(now()).toISOString(), service },
        ...attributes,
      );
      write(`${JSON.stringify(line)}\n`);
    };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}

/** Discards everything: for callers that have nowhere to log. */
export const silentLog: Log = createStderrLog({ level: 'silent' });
