import type { JobStore } from '../../lib/store/job-store.ts';

/**
 * `store` with some of its methods replaced: every other call goes through to it unchanged. For tests and
 * benchmarks that watch or disturb one kind of call (count writes, race a read) on a real store.
 */
export function forwardingStore(store: JobStore, overrides: Partial<JobStore>): JobStore {
  return {
    track: (jobs, now) => store.track(jobs, now),
    untrack: (jobIds) => store.untrack(jobIds),
    get: (jobId) => store.get(jobId),
    getMany: (jobIds) => store.getMany(jobIds),
    create: (record) => store.create(record),
    getState: (key) => store.getState(key),
    listStates: (prefix) => store.listStates(prefix),
    putState: (key, value, expectedVersion) => store.putState(key, value, expectedVersion),
    list: (options) => store.list(options),
    listDue: (query) => store.listDue(query),
    update: (next, expectedVersion) => store.update(next, expectedVersion),
    close: () => store.close(),
    ...overrides,
  };
}
