import type { TerminalStatus } from '../job.ts';
import type { DestinationBase, RouteFilter } from './destination.ts';

/** The job fields a route looks at: a DLI status response has them all (each may be missing). */
export interface RoutableJob {
  queue_name?: string | undefined;
  owner?: string | undefined;
  job_type?: string | undefined;
  tags?: readonly { key: string; value: string }[] | undefined;
}

/** What routing needs of an event: a stored `JobEvent` is one. */
export interface RoutableEvent {
  status: TerminalStatus;
  job: RoutableJob;
  /** dli-watch tracking labels. */
  labels: Record<string, string>;
}

/**
 * Whether `text` matches `pattern`, where `*` stands for any run of characters (including none) and every other
 * character is literal, case-sensitive. A hand-written matcher rather than a regex: nothing in a pattern can be
 * mistaken for regex syntax, and worst-case time stays proportional to the lengths multiplied, whatever the
 * number of stars (a regex with many `.*` can backtrack exponentially).
 */
export function wildcardMatches(pattern: string, text: string): boolean {
  let patternAt = 0;
  let textAt = 0;
  // Where to resume after the last star: the star's position, and the text position it has consumed up to.
  let starAt = -1;
  let starTextAt = 0;
  while (textAt < text.length) {
    if (patternAt < pattern.length && pattern[patternAt] === '*') {
      starAt = patternAt++;
      starTextAt = textAt;
    } else if (patternAt < pattern.length && pattern[patternAt] === text[textAt]) {
      patternAt++;
      textAt++;
    } else if (starAt >= 0) {
      // Let the last star swallow one more character and try the rest again.
      patternAt = starAt + 1;
      textAt = ++starTextAt;
    } else {
      return false;
    }
  }
  while (pattern[patternAt] === '*') patternAt++;
  return patternAt === pattern.length;
}

/** A `key=value` route entry, split at the first `=` (keys never hold one; values may). */
function splitPair(entry: string): { key: string; value: string } {
  const separator = entry.indexOf('=');
  return separator < 0
    ? { key: entry, value: '' }
    : { key: entry.slice(0, separator), value: entry.slice(separator + 1) };
}

function anyValueMatches(patterns: readonly string[], value: string | undefined): boolean {
  if (value === undefined) return false;
  return patterns.some((pattern) => wildcardMatches(pattern, value));
}

function anyPairMatches(
  patterns: readonly string[],
  pairs: readonly { key: string; value: string }[],
): boolean {
  return patterns.some((entry) => {
    const pattern = splitPair(entry);
    return pairs.some(
      (pair) => wildcardMatches(pattern.key, pair.key) && wildcardMatches(pattern.value, pair.value),
    );
  });
}

/**
 * Whether a job passes a destination's route: every non-null list needs at least one matching entry. Entries
 * use `*` wildcards ({@link wildcardMatches}); `tags` entries match a DLI job tag and `labels` entries a
 * dli-watch tracking label, key and value each against their side of `key=value`. A job that lacks the field a
 * list looks at (no queue, no tags) does not match that list.
 */
export function routeMatches(route: RouteFilter, job: RoutableJob, labels: Record<string, string>): boolean {
  if (route.queues !== null && !anyValueMatches(route.queues, job.queue_name)) return false;
  if (route.owners !== null && !anyValueMatches(route.owners, job.owner)) return false;
  if (route.jobTypes !== null && !anyValueMatches(route.jobTypes, job.job_type)) return false;
  if (route.tags !== null && !anyPairMatches(route.tags, job.tags ?? [])) return false;
  if (route.labels !== null) {
    const labelPairs = Object.entries(labels).map(([key, value]) => ({ key, value }));
    if (!anyPairMatches(route.labels, labelPairs)) return false;
  }
  return true;
}

/** Whether a destination wants an event: its status is in `events` and the job passes the route. */
export function wantsEvent(
  destination: Pick<DestinationBase, 'events' | 'route'>,
  event: RoutableEvent,
): boolean {
  return (
    destination.events.includes(event.status) && routeMatches(destination.route, event.job, event.labels)
  );
}

/** The names of the destinations that want an event, in configuration order. */
export function routeEvent(
  destinations: readonly Pick<DestinationBase, 'name' | 'events' | 'route'>[],
  event: RoutableEvent,
): string[] {
  return destinations.filter((destination) => wantsEvent(destination, event)).map(({ name }) => name);
}
