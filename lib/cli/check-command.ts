import { type DeliveryConfig, loadConfig, loadDeliveryConfig } from '../config/config.ts';
import { isNoCredentialsProblem } from '../config/dli-settings.ts';
import { ConfigError } from '../config/problems.ts';
import { type CliIo, EXIT_OK, EXIT_USAGE, parse, usage } from './cli-io.ts';

/**
 * `dli-watch check`: validates the environment and the configuration file as `tick` and `run` would, with no DLI
 * credentials needed and no network, and prints every problem (exit 2) or what the configuration amounts to (exit
 * 0), like `amtool check-config`. Credentials that are set are checked; absent ones are only noted.
 */
export async function check(args: string[], io: CliIo): Promise<number> {
  const { positionals, values } = parse(args, { json: { type: 'boolean' } });
  if (positionals.length) usage('check takes no arguments');
  let problems: string[] = [];
  let config: DeliveryConfig | undefined;
  try {
    config = loadConfig(io.env, { cwd: io.cwd });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems = error.problems.filter((problem) => !isNoCredentialsProblem(problem));
  }
  // Without credentials the rest is loaded on its own: the only problem was theirs.
  const credentials = config !== undefined;
  if (problems.length > 0) {
    if (values.json) io.stdout(`${JSON.stringify({ ok: false, problems })}\n`);
    io.stderr(`dli-watch: the configuration has ${problems.length} problem(s):\n`);
    for (const problem of problems) io.stderr(`  - ${problem}\n`);
    return EXIT_USAGE;
  }
  config ??= loadDeliveryConfig(io.env, { cwd: io.cwd });
  const store =
    config.store.kind === 'sqlite' ? `sqlite:${config.store.path}` : `dynamodb:${config.store.table}`;
  const destinations = config.destinations.map((destination) => ({
    name: destination.name,
    type: destination.type,
  }));
  const notes = [
    ...(credentials ? [] : ['no DLI credentials are set: tick and run need them']),
    ...(destinations.length === 0 ? ['no destination is configured: nobody would be told'] : []),
  ];
  const watches = config.watches.map((watch) => watch.name);
  if (values.json) {
    io.stdout(`${JSON.stringify({ ok: true, store, destinations, watches, notes })}\n`);
    return EXIT_OK;
  }
  io.stdout(`configuration OK\n  store: ${store}\n  destinations: ${destinations.length}\n`);
  for (const destination of destinations) io.stdout(`    ${destination.name} (${destination.type})\n`);
  io.stdout(`  watches: ${watches.length}\n`);
  for (const watch of watches) io.stdout(`    ${watch}\n`);
  for (const note of notes) io.stdout(`  note: ${note}\n`);
  return EXIT_OK;
}
