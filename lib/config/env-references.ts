import { type Env, envValue } from '../util/env.ts';
import { isRecord } from '../util/is-record.ts';

const ENV_REFERENCE_PATTERN = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Replaces `${NAME}` in every string value (keys are left alone) with environment variable NAME. */
export function substituteEnvReferences(
  value: unknown,
  path: PropertyKey[],
  env: Env,
  onMissing: (path: PropertyKey[], variable: string) => void,
): unknown {
  if (typeof value === 'string') {
    return value.replace(ENV_REFERENCE_PATTERN, (reference, variable: string) => {
      const replacement = envValue(env, variable);
      if (replacement !== undefined) return replacement;
      onMissing(path, variable);
      return reference;
    });
  }
  if (Array.isArray(value)) {
    return value.map((item, index) => substituteEnvReferences(item, [...path, index], env, onMissing));
  }
  if (isRecord(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [
        key,
        substituteEnvReferences(item, [...path, key], env, onMissing),
      ]),
    );
  }
  return value;
}
