/** Environment variables, as `process.env` holds them. */
export type Env = Record<string, string | undefined>;

/** An environment variable's value; an empty string counts as unset. */
export function envValue(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}
