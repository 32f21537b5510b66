import { createHash } from 'node:crypto';
import { createChatDestination, createWebhookDestination } from '../notify/destination.ts';
import { type Destination, destinationTypeForUrl } from '../notify/platforms/registry.ts';
import { type Env, envValue } from '../util/env.ts';
import type { NameClaim } from './destinations.ts';
import type { Problems } from './problems.ts';
import { HTTPS_OR_LOOPBACK, isHttpsOrLoopbackHttp, parseUrl } from './url-rules.ts';

/** One `DLI_WATCH_WEBHOOKS` entry turned into a destination. */
interface WebhookShortcut {
  destination: Destination;
  /** 1-based among the non-empty entries, for messages (the URL itself is a secret). */
  position: number;
  host: string;
}

export function shortcutName(shortcut: WebhookShortcut): NameClaim {
  return {
    name: shortcut.destination.name,
    where: 'DLI_WATCH_WEBHOOKS',
    what: `URL ${shortcut.position} (host ${shortcut.host})`,
  };
}

/**
 * `DLI_WATCH_WEBHOOKS=url1,url2`: destinations without a file. Names derive from a hash of the URL so they
 * survive restarts and reorderings (stored deliveries refer to them) without revealing the URL.
 */
export function readWebhookShortcuts(env: Env, problems: Problems): WebhookShortcut[] {
  const entries = (envValue(env, 'DLI_WATCH_WEBHOOKS') ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  for (const entry of entries) problems.secret(entry);

  const shortcuts: WebhookShortcut[] = [];
  entries.forEach((entry, index) => {
    const position = index + 1;
    const url = parseUrl(entry);
    if (!url) {
      problems.add('DLI_WATCH_WEBHOOKS', `URL ${position}: must be an absolute URL`);
      return;
    }
    if (!isHttpsOrLoopbackHttp(url)) {
      problems.add('DLI_WATCH_WEBHOOKS', `URL ${position} (host ${url.host}): ${HTTPS_OR_LOOPBACK}`);
      return;
    }
    const type = destinationTypeForUrl(url);
    const name = `${type}-${createHash('sha256').update(entry).digest('hex').slice(0, 8)}`;
    const destination: Destination =
      type === 'webhook'
        ? createWebhookDestination({ name, url: entry })
        : createChatDestination({ name, type, url: entry });
    shortcuts.push({ destination, position, host: url.host });
  });
  return shortcuts;
}
