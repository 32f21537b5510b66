import { type Config, loadConfig } from '../config/config.ts';
import { type CycleOptions, type CycleSummary, runCycle } from '../cycle/run-cycle.ts';
import { createDliClient, type DliClient } from '../dli/client.ts';
import { createDestinationThrottle } from '../notify/delivery/destination-throttle.ts';
import { platforms } from '../notify/platforms/registry.ts';
import type { JobStore } from '../store/job-store.ts';
import { openStore, type StoreConfig } from '../store/open-store.ts';
import { type Clock, systemClock } from '../util/clock.ts';
import type { Env } from '../util/env.ts';
import type { Log, LogLevel } from '../util/log.ts';
import { createRateLimiter } from '../util/rate-limiter.ts';

export interface Watcher {
  readonly store: JobStore;
  readonly dli: DliClient;
  /** One cycle with this watcher's store, DLI client, destinations and rate limit. */
  tick(options: CycleOptions): Promise<CycleSummary>;
}

/**
 * Wires a validated configuration into one watcher: the composition root shared by the CLI, the Lambda
 * handler and the demo. Build it once and call `tick` per cycle, so the rate limiter spans cycles.
 */
export function createWatcher(
  config: Pick<Config, 'dli' | 'destinations' | 'consoleUrlTemplate'> &
    Partial<Pick<Config, 'sendTimeoutMs' | 'watches' | 'warnAfterMs'>>,
  dependencies: {
    store: JobStore;
    log: Log;
    clock?: Clock;
    /**
     * What DLI requests are signed with (default: the system clock). DLI checks `X-Sdk-Date` against its own clock,
     * so this stays the real time when the cycle runs on an injected `clock`, unless DLI shares that clock too.
     */
    dliClock?: Clock;
    random?: () => number;
  },
): Watcher {
  const { dli, destinations } = config;
  const { store, log } = dependencies;
  const rateLimiter = createRateLimiter({
    ratePerSecond: dli.maxRequestsPerSecond,
    ...(dependencies.clock ? { clock: dependencies.clock } : {}),
  });
  const client = createDliClient({
    endpoint: dli.endpoint,
    projectId: dli.projectId,
    auth: dli.auth,
    timeoutMs: dli.timeoutMs,
    rateLimiter,
    log,
    ...(dependencies.dliClock && { now: () => new Date((dependencies.dliClock as Clock).now()) }),
  });
  // Shared by every cycle of this watcher: a platform's limits and pauses outlast one cycle.
  const throttle = createDestinationThrottle(dependencies.clock ?? systemClock);
  return {
    store,
    dli: client,
    tick: (options) =>
      runCycle(
        {
          store,
          dli: client,
          projectId: dli.projectId,
          destinations,
          watches: config.watches ?? [],
          warnAfterMs: config.warnAfterMs ?? null,
          platforms,
          throttle,
          render: { region: dli.region, consoleUrlTemplate: config.consoleUrlTemplate },
          log,
          concurrency: dli.concurrency,
          statusPlan: dli.statusPlan,
          ...(config.sendTimeoutMs === undefined ? {} : { sendTimeoutMs: config.sendTimeoutMs }),
          ...(dependencies.clock ? { clock: dependencies.clock } : {}),
          ...(dependencies.random ? { random: dependencies.random } : {}),
        },
        options,
      ),
  };
}

/** Secrets fetched at run time (the Lambda's Parameter Store values), shaped for `loadConfig`. */
export interface RuntimeSecrets {
  /**
   * `HUAWEICLOUD_SDK_AK`, `HUAWEICLOUD_SDK_SK`, `HUAWEICLOUD_SDK_SECURITY_TOKEN` and `DLI_AUTH_TOKEN`, laid over
   * the process environment. The method not in use is set empty (which counts as unset), so a stray variable
   * cannot mix with the parameter's credentials.
   */
  env: Record<string, string>;
  /** The destinations parameter's text: the config file's JSON. */
  configText: string;
  /** The destinations parameter's name, for problems found in `configText`. */
  configLabel: string;
  /** sha256 of everything above: tells a rotation apart without keeping a second copy of the secrets. */
  fingerprint: string;
}

/** The watcher for the current configuration, with the configuration it was built from and the log it writes. */
export interface CurrentWatcher {
  watcher: Watcher;
  config: Config;
  log: Log;
}

export interface WatcherProvider {
  /**
   * The watcher for the configuration as it is now: the same one as last time unless the runtime secrets changed
   * (cached up to their max age), in which case a new one is built on the same store.
   */
  current(): Promise<CurrentWatcher>;
  /** Closes the store, if one was opened. */
  close(): Promise<void>;
}

export interface WatcherProviderOptions {
  env: Env;
  cwd: string;
  /** The log every watcher writes to, or how to make it from the configured level (the CLI's stderr log). */
  log: Log | ((level: LogLevel) => Log);
  /** Defaults to {@link openStore}. */
  openStore?: (config: StoreConfig) => Promise<JobStore>;
  /** Where runtime secrets come from (the Lambda's SSM parameters); without it, the environment and the file. */
  loadSecrets?: (env: Env) => Promise<RuntimeSecrets | undefined>;
}

/**
 * The one way a watcher is built from configuration, for the CLI's `tick` and `run` and for the Lambda: loads the
 * configuration (every problem at once, as a `ConfigError`), opens the store it names once, and builds the
 * watcher. In a long-lived process (a Lambda container) it keeps the watcher across invocations and rebuilds it
 * when the runtime secrets rotate, on the same store.
 */
export function createWatcherProvider(options: WatcherProviderOptions): WatcherProvider {
  const { env, cwd } = options;
  let store: Promise<JobStore> | undefined;
  let built: (CurrentWatcher & { fingerprint: string }) | undefined;

  return {
    async current() {
      const secrets = await options.loadSecrets?.(env);
      const fingerprint = secrets?.fingerprint ?? '';
      if (built !== undefined && built.fingerprint === fingerprint) return built;

      const config = loadConfig(
        { ...env, ...secrets?.env },
        secrets === undefined
          ? { cwd }
          : { cwd, configText: secrets.configText, configLabel: secrets.configLabel },
      );
      const log = typeof options.log === 'function' ? options.log(config.logLevel) : options.log;
      if (store === undefined) {
        const opening = (options.openStore ?? openStore)(config.store);
        // A store that failed to open is retried on the next invocation rather than kept broken.
        opening.catch(() => {
          if (store === opening) store = undefined;
        });
        store = opening;
      }
      const watcher = createWatcher(config, { store: await store, log });
      if (config.destinations.length === 0) {
        // It would run, poll and tell nobody: worth saying each time a watcher is built.
        log.warn(
          'no destination is configured: jobs are polled but nobody is told when they end ' +
            '(set DLI_WATCH_WEBHOOKS or list destinations in the configuration file)',
        );
      }
      if (built !== undefined) log.info('secrets changed: watcher rebuilt');
      built = { watcher, config, log, fingerprint };
      return built;
    },
    async close() {
      const opened = await store?.catch(() => undefined);
      store = undefined;
      await opened?.close();
    },
  };
}
