import * as z from 'zod';
import { type Env, envValue } from '../util/env.ts';

/**
 * Everything wrong with the configuration at once, so a user fixes it in one go rather than one restart per
 * typo. Problems name the variable or file key; they never contain a secret or the value of a
 * secret-bearing setting.
 */
export class ConfigError extends Error {
  readonly problems: string[];

  constructor(problems: string[], options?: ErrorOptions) {
    super(problems.join('\n'), options);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Accumulates problems; redacts known secret values as a last line of defence. */
export class Problems {
  private readonly list: string[] = [];
  private readonly secrets = new Set<string>();
  private cause: unknown;

  add(where: string, message: string): void {
    this.list.push(`${where}: ${message}`);
  }

  /** Remembers a value that must never be shown, should some message ever carry it. */
  secret(value: string | undefined): void {
    // Very short values would blank out ordinary words; real secrets are long.
    if (value !== undefined && value.length >= 6) this.secrets.add(value);
  }

  setCause(cause: unknown): void {
    this.cause ??= cause;
  }

  any(): boolean {
    return this.list.length > 0;
  }

  count(): number {
    return this.list.length;
  }

  toError(): ConfigError {
    const redacted = this.list.map((problem) => {
      let text = problem;
      for (const secret of this.secrets) text = text.replaceAll(secret, '[redacted]');
      return text;
    });
    return new ConfigError(redacted, this.cause === undefined ? undefined : { cause: this.cause });
  }
}

/**
 * Parses one variable with its schema (given `fallback` text when unset, as if the user had written it).
 * Returns undefined when it is invalid, after recording why under the variable's name.
 */
export function readVariable<T>(
  env: Env,
  name: string,
  schema: z.ZodType<T>,
  problems: Problems,
  fallback?: string,
): T | undefined {
  const result = schema.safeParse(envValue(env, name) ?? fallback);
  if (result.success) return result.data;
  for (const message of new Set(result.error.issues.map((issue) => issue.message)))
    problems.add(name, message);
  return undefined;
}

/** A schema turning text into a value with one check function, so each bad value gets exactly one message. */
export function textSetting<T>(convert: (text: string) => T | undefined, message: string) {
  return z.string({ error: message }).transform((text, context): T => {
    const value = convert(text);
    if (value === undefined) {
      context.addIssue({ code: 'custom', message });
      return z.NEVER;
    }
    return value;
  });
}

export function integerSetting(min: number, max: number) {
  return textSetting((text) => {
    const value = /^\d{1,9}$/.test(text) ? Number(text) : Number.NaN;
    return value >= min && value <= max ? value : undefined;
  }, `must be an integer from ${min} to ${max}`);
}
