import { describe, expect, it } from 'vitest';
import type { TerminalStatus } from '../../lib/job.ts';
import {
  ANY_ROUTE,
  createChatDestination,
  createWebhookDestination,
  type RouteFilter,
} from '../../lib/notify/destination.ts';
import { type RoutableJob, routeEvent, routeMatches, wantsEvent } from '../../lib/notify/routing.ts';

/** A route with only the given lists set; the rest match any job. */
function route(lists: Partial<RouteFilter>): RouteFilter {
  return { ...ANY_ROUTE, ...lists };
}

const etlJob: RoutableJob = {
  queue_name: 'etl-prod',
  owner: 'alice',
  job_type: 'INSERT',
  tags: [
    { key: 'team', value: 'data-platform' },
    { key: 'env', value: 'prod' },
  ],
};
const noLabels: Record<string, string> = {};

describe('routeMatches', () => {
  it('matches every job when no list is set', () => {
    expect(routeMatches(ANY_ROUTE, etlJob, noLabels)).toBe(true);
    expect(routeMatches(ANY_ROUTE, {}, noLabels)).toBe(true);
  });

  it('matches queues, owners and job types, any entry of a list being enough', () => {
    expect(routeMatches(route({ queues: ['adhoc', 'etl-*'] }), etlJob, noLabels)).toBe(true);
    expect(routeMatches(route({ queues: ['adhoc', 'default'] }), etlJob, noLabels)).toBe(false);
    expect(routeMatches(route({ owners: ['bob', 'alice'] }), etlJob, noLabels)).toBe(true);
    expect(routeMatches(route({ owners: ['Alice'] }), etlJob, noLabels)).toBe(false);
    expect(routeMatches(route({ jobTypes: ['INSERT'] }), etlJob, noLabels)).toBe(true);
    expect(routeMatches(route({ jobTypes: ['QUERY', 'DDL'] }), etlJob, noLabels)).toBe(false);
  });

  it('matches a job tag by key and value, each side with wildcards', () => {
    const tagsMatch = (tags: string[]) => routeMatches(route({ tags }), etlJob, noLabels);
    expect(tagsMatch(['team=data-platform'])).toBe(true);
    expect(tagsMatch(['team=data-*'])).toBe(true);
    expect(tagsMatch(['team=*'])).toBe(true);
    expect(tagsMatch(['*=prod'])).toBe(true);
    expect(tagsMatch(['te*=*platform'])).toBe(true);
    expect(tagsMatch(['team=prod'])).toBe(false);
    expect(tagsMatch(['owner=*'])).toBe(false);
    // Key and value are matched separately, so a star cannot reach across the "=".
    expect(tagsMatch(['*m=data-platform'])).toBe(true);
    expect(tagsMatch(['team*=prod'])).toBe(false);
    expect(tagsMatch(['owner=*', 'env=prod'])).toBe(true);
  });

  it('matches tracking labels the same way, and a value may itself hold "="', () => {
    const labels = { pipeline: 'nightly-sales', 'owner.team': 'bi', filter: 'a=b' };
    const labelsMatch = (patterns: string[]) => routeMatches(route({ labels: patterns }), etlJob, labels);
    expect(labelsMatch(['pipeline=nightly-*'])).toBe(true);
    expect(labelsMatch(['owner.team=bi'])).toBe(true);
    expect(labelsMatch(['ownerxteam=bi'])).toBe(false);
    expect(labelsMatch(['filter=a=b'])).toBe(true);
    expect(labelsMatch(['filter=a=*'])).toBe(true);
    expect(labelsMatch(['pipeline=weekly-*'])).toBe(false);
    // Labels are not tags: a DLI tag does not satisfy a labels entry.
    expect(labelsMatch(['team=data-platform'])).toBe(false);
  });

  it('does not match a list when the job lacks that field', () => {
    const bareJob: RoutableJob = {};
    expect(routeMatches(route({ queues: ['*'] }), bareJob, noLabels)).toBe(false);
    expect(routeMatches(route({ owners: ['*'] }), bareJob, noLabels)).toBe(false);
    expect(routeMatches(route({ jobTypes: ['*'] }), bareJob, noLabels)).toBe(false);
    expect(routeMatches(route({ tags: ['*=*'] }), bareJob, noLabels)).toBe(false);
    expect(routeMatches(route({ tags: ['*=*'] }), { tags: [] }, noLabels)).toBe(false);
    expect(routeMatches(route({ labels: ['*=*'] }), bareJob, noLabels)).toBe(false);
  });

  it('needs every set list to match when several are set', () => {
    const strict = route({
      queues: ['etl-*'],
      owners: ['alice', 'bob'],
      jobTypes: ['INSERT'],
      tags: ['env=prod'],
      labels: ['pipeline=*'],
    });
    const labels = { pipeline: 'sales' };
    expect(routeMatches(strict, etlJob, labels)).toBe(true);
    expect(routeMatches(strict, { ...etlJob, queue_name: 'adhoc' }, labels)).toBe(false);
    expect(routeMatches(strict, { ...etlJob, owner: 'carol' }, labels)).toBe(false);
    expect(routeMatches(strict, { ...etlJob, job_type: 'QUERY' }, labels)).toBe(false);
    expect(routeMatches(strict, { ...etlJob, tags: [{ key: 'env', value: 'dev' }] }, labels)).toBe(false);
    expect(routeMatches(strict, etlJob, noLabels)).toBe(false);
  });
});

describe('routeEvent', () => {
  const destinations = [
    createChatDestination({
      name: 'data-team',
      type: 'slack',
      url: 'https://hooks.slack.com/services/T/B/X',
      route: route({ tags: ['team=data-*'] }),
    }),
    createChatDestination({
      name: 'prod-failures',
      type: 'feishu',
      url: 'https://open.feishu.cn/open-apis/bot/v2/hook/x',
      events: ['FAILED'],
      route: route({ queues: ['*-prod'] }),
    }),
    createChatDestination({
      name: 'bob-only',
      type: 'discord',
      url: 'https://discord.com/api/webhooks/1/x',
      route: route({ owners: ['bob'] }),
    }),
    createWebhookDestination({ name: 'audit', url: 'https://audit.example.com/dli' }),
  ];
  const eventFor = (status: TerminalStatus, job: RoutableJob = etlJob) => ({
    type: status,
    job: { job_id: 'job-1', status, ...job },
    labels: noLabels,
  });

  it('sends one job to every destination that wants it, in configuration order', () => {
    expect(routeEvent(destinations, eventFor('FAILED'))).toEqual(['data-team', 'prod-failures', 'audit']);
  });

  it('applies both the events filter and the route', () => {
    expect(routeEvent(destinations, eventFor('FINISHED'))).toEqual(['data-team', 'audit']);
    expect(routeEvent(destinations, eventFor('FAILED', { queue_name: 'adhoc', owner: 'bob' }))).toEqual([
      'bob-only',
      'audit',
    ]);
    const muted = createWebhookDestination({ name: 'quiet', url: 'https://e.com', events: ['FINISHED'] });
    expect(wantsEvent(muted, eventFor('CANCELLED'))).toBe(false);
    expect(wantsEvent(muted, eventFor('FINISHED'))).toBe(true);
  });

  it('returns no names when no destination wants the event', () => {
    expect(routeEvent(destinations.slice(0, 3), eventFor('CANCELLED', { queue_name: 'adhoc' }))).toEqual([]);
    expect(routeEvent([], eventFor('FAILED'))).toEqual([]);
  });
});
