import { DURATION_RULE, parseDurationMs } from '../util/duration.ts';
import { usage } from './cli-io.ts';

/**
 * A duration option's value in milliseconds ({@link parseDurationMs}).
 *
 * @throws UsageError naming `option` and the value when the text is not a duration.
 */
export function parseDuration(text: string, option: string): number {
  const ms = parseDurationMs(text);
  if (ms === null) usage(`${option} must be ${DURATION_RULE}; got ${JSON.stringify(text)}`);
  return ms;
}
