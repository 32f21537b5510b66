/**
 * The system error code (`ECONNREFUSED`, `ENOTFOUND`, `UND_ERR_SOCKET`…) somewhere in an error's cause chain.
 * Used instead of the error's message, which for fetch failures can contain the URL — a credential for a
 * webhook.
 */
export function systemErrorCode(error: unknown): string {
  let current: unknown = error;
  while (current instanceof Error) {
    const code = (current as Error & { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = current.cause;
  }
  return 'network error';
}
