import { UsageError } from './cli-io.ts';

/** Options every command takes, each standing in for the environment variable it names. */
export const GLOBAL_OPTIONS = { '--store': 'DLI_WATCH_STORE', '--config': 'DLI_WATCH_CONFIG' } as const;

export interface LiftedOptions {
  /** The arguments without the global options. */
  argv: string[];
  /** Variables to lay over the environment: a flag wins over the variable it stands for. */
  env: Record<string, string>;
}

/**
 * Takes `--store <spec>` and `--config <path>` (or `--store=<spec>`) out of `argv`, wherever they stand before a
 * `--`, so that every command accepts them without declaring them, and turns them into the variables they stand
 * for. Given twice, the last one counts, as with any option.
 *
 * @throws UsageError when one has no value.
 */
export function liftGlobalOptions(argv: readonly string[]): LiftedOptions {
  const rest: string[] = [];
  const env: Record<string, string> = {};
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index] ?? '';
    if (arg === '--') {
      rest.push(...argv.slice(index));
      break;
    }
    const separator = arg.indexOf('=');
    const name = separator < 0 ? arg : arg.slice(0, separator);
    if (!Object.hasOwn(GLOBAL_OPTIONS, name)) {
      rest.push(arg);
      continue;
    }
    let value: string | undefined;
    if (separator >= 0) {
      value = arg.slice(separator + 1);
    } else {
      value = argv[index + 1];
      // Another option in the value's place is a missing value, not a store called `--json`.
      if (value?.startsWith('-')) value = undefined;
      else index++;
    }
    if (value === undefined || value === '') {
      throw new UsageError(
        name === '--store'
          ? '--store needs a store: --store sqlite:<path> or --store dynamodb:<table>'
          : '--config needs the path of a configuration file',
      );
    }
    env[GLOBAL_OPTIONS[name as keyof typeof GLOBAL_OPTIONS]] = value;
  }
  return { argv: rest, env };
}
