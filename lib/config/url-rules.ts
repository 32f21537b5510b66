import * as z from 'zod';

export const HTTPS_OR_LOOPBACK = 'must be https (or http on a loopback host)';

/**
 * Whether plain http is acceptable for this host: only this machine (a local simulator or test server), where
 * nothing travels over a network. Accepts a WHATWG `URL.hostname`, so IPv6 may come bracketed.
 */
export function isLoopbackHost(hostname: string): boolean {
  return ['127.0.0.1', 'localhost', '::1', '[::1]'].includes(hostname.toLowerCase());
}

export function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

export function isHttpsOrLoopbackHttp(url: URL): boolean {
  return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname));
}

/** Where dli-watch may send a message or link: an absolute https URL, or http on this machine. */
export function checkDestinationUrl(text: string, context: z.RefinementCtx): void {
  const url = parseUrl(text);
  if (!url) context.addIssue({ code: 'custom', message: 'must be an absolute URL' });
  else if (!isHttpsOrLoopbackHttp(url)) context.addIssue({ code: 'custom', message: HTTPS_OR_LOOPBACK });
}

export const destinationUrlSchema = z.string({ error: 'must be a string' }).superRefine(checkDestinationUrl);
