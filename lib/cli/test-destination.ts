import { loadDeliveryConfig } from '../config/config.ts';
import { projectIdVariableOf } from '../config/dli-settings.ts';
import { sendTestMessage } from '../notify/delivery/test-message.ts';
import { platforms } from '../notify/platforms/registry.ts';
import { envValue } from '../util/env.ts';
import { type CliIo, EXIT_FAILURE, EXIT_OK, parse, usage } from './cli-io.ts';

export async function testDestination(args: string[], io: CliIo): Promise<number> {
  const { positionals } = parse(args, {});
  if (positionals.length > 1) usage('give at most one destination name');
  // Never calls DLI, so needs no DLI settings: the region and project, when set, only label the message.
  const config = loadDeliveryConfig(io.env, { cwd: io.cwd });
  const [name] = positionals;
  const chosen =
    name === undefined ? config.destinations : config.destinations.filter((d) => d.name === name);
  if (chosen.length === 0) {
    const known = config.destinations.map((destination) => destination.name).join(', ') || 'none';
    usage(
      name === undefined
        ? 'no destination is configured'
        : `no destination is called ${name} (configured: ${known})`,
    );
  }
  const render = {
    region: envValue(io.env, 'DLI_REGION') ?? 'region not set',
    consoleUrlTemplate: config.consoleUrlTemplate,
  };
  const projectIdVariable = projectIdVariableOf(io.env);
  const projectId = projectIdVariable === undefined ? undefined : envValue(io.env, projectIdVariable);
  const results = await Promise.all(
    chosen.map((destination) =>
      sendTestMessage(destination, {
        platforms,
        render,
        projectId: projectId ?? 'project not set',
        now: Date.now(),
        timeoutMs: config.sendTimeoutMs,
      }),
    ),
  );
  for (const { destination, type, host, outcome } of results) {
    const verdict =
      outcome.kind === 'delivered'
        ? 'accepted'
        : `${outcome.kind === 'reject' ? 'rejected' : 'not delivered (would be retried)'}: ${outcome.reason}`;
    io.stdout(`${destination} (${type}, ${host}): ${verdict}\n`);
  }
  return results.every((result) => result.outcome.kind === 'delivered') ? EXIT_OK : EXIT_FAILURE;
}
