import type { EventType, StreakFacts } from '../job.ts';
import { anyPairMatches, anyValueMatches } from '../util/wildcard.ts';
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
  type: EventType;
  /** A failure's place in its key's streak, for `only_after_failures`. */
  streak?: StreakFacts | undefined;
  job: RoutableJob;
  /** dli-watch tracking labels. */
  labels: Record<string, string>;
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

/** What routing reads of a destination. */
export type RoutingDestination = Pick<DestinationBase, 'name' | 'events' | 'route' | 'onlyAfterFailures'>;

/**
 * Whether a destination wants an event: its type is in `events`, the job passes the route, and a failure is at
 * least the `only_after_failures`-th in a row of its key. A failure of a job with no run key has no streak to
 * count and always passes: holding it back would hide every failure of a one-off job.
 */
export function wantsEvent(destination: Omit<RoutingDestination, 'name'>, event: RoutableEvent): boolean {
  if (!destination.events.includes(event.type)) return false;
  if (event.type === 'FAILED' && event.streak && event.streak.failures < destination.onlyAfterFailures) {
    return false;
  }
  return routeMatches(destination.route, event.job, event.labels);
}

/** The names of the destinations that want an event, in configuration order. */
export function routeEvent(destinations: readonly RoutingDestination[], event: RoutableEvent): string[] {
  return destinations.filter((destination) => wantsEvent(destination, event)).map(({ name }) => name);
}
