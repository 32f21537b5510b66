/** Whether `value` is an object with named fields: not null, not an array (what parsed JSON objects are). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
