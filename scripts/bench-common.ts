import { cpus, totalmem } from 'node:os';
import type { JobStore } from '../lib/store/job-store.ts';

/** Median of `values`; NaN for none. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const upper = sorted[middle] ?? Number.NaN;
  return sorted.length % 2 === 1 ? upper : ((sorted[middle - 1] ?? Number.NaN) + upper) / 2;
}

/** The machine a benchmark ran on, to print with its numbers. */
export function machineDescription() {
  const processors = cpus();
  return {
    cpu: processors[0]?.model ?? 'unknown',
    cores: processors.length,
    totalMemoryGb: Number((totalmem() / 1024 ** 3).toFixed(1)),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

/** The command that reproduces this run, as `npm run <script> -- …` when npm started it. */
export function commandLine(script: string, file: string, argv: readonly string[]): string {
  const quoted = argv.map((arg) => (/^[\w./,=:-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`));
  if (process.env.npm_lifecycle_event === script) {
    return quoted.length > 0 ? `npm run ${script} -- ${quoted.join(' ')}` : `npm run ${script}`;
  }
  return ['node', file, ...quoted].join(' ');
}

/** Every JobStore method but `close`: what a benchmark times or counts. */
export const STORE_METHODS = [
  'track',
  'untrack',
  'create',
  'get',
  'getMany',
  'list',
  'listDue',
  'update',
  'getState',
  'listStates',
  'putState',
] as const satisfies readonly (keyof JobStore)[];

export type StoreMethod = (typeof STORE_METHODS)[number];

/** `store` with each method but `close` passed through `wrap(name, call)`: how benchmarks time or count calls. */
export function wrapStoreCalls(
  store: JobStore,
  wrap: (
    name: StoreMethod,
    call: (...args: unknown[]) => Promise<unknown>,
  ) => (...args: unknown[]) => Promise<unknown>,
): JobStore {
  const wrapped = Object.fromEntries(
    STORE_METHODS.map((name) => {
      const call = (store[name] as (...args: unknown[]) => Promise<unknown>).bind(store);
      return [name, wrap(name, call)];
    }),
  );
  return { ...wrapped, close: () => store.close() } as unknown as JobStore;
}
