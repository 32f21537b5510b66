/**
 * `npm run chaos [-- --seeds 50] [--first 1] [--backend sqlite|dynamodb|both] [--json]`
 *
 * The randomized fault run of `test/support/chaos.ts`, long: one scenario per seed and backend, one after another,
 * then the figures summed. Exits 1 when anything was lost, doubled under distinct ids, doubled for no reason, or
 * did not settle.
 */
import { parseArgs } from 'node:util';
import { type ChaosBackend, type ChaosFigures, runChaos } from '../test/support/chaos.ts';
import { commandLine, machineDescription } from './bench-common.ts';

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    seeds: { type: 'string', default: '10' },
    first: { type: 'string', default: '1' },
    backend: { type: 'string', default: 'both' },
    json: { type: 'boolean', default: false },
  },
});
const seeds = Number(values.seeds);
const first = Number(values.first);
const backends: ChaosBackend[] =
  values.backend === 'both' ? ['sqlite', 'dynamodb'] : [values.backend as ChaosBackend];
if (
  !Number.isSafeInteger(seeds) ||
  seeds < 1 ||
  !Number.isSafeInteger(first) ||
  !backends.every((backend) => backend === 'sqlite' || backend === 'dynamodb')
) {
  process.stderr.write(
    'usage: npm run chaos -- [--seeds N] [--first S] [--backend sqlite|dynamodb|both] [--json]\n',
  );
  process.exit(2);
}

const SUMMED = [
  'kills',
  'requests',
  'accepted',
  'deliveries',
  'lost',
  'dead_lettered',
  'doubled_distinct_ids',
  'doubled_after_kill',
  'in_flight_at_kills',
  'doubled_after_timeout',
  'doubled_unexplained',
] as const;

const totals = new Map<ChaosBackend, Record<string, number>>();
const failures: ChaosFigures[] = [];
for (const backend of backends) {
  const total: Record<string, number> = Object.fromEntries(
    ['seeds', 'cycles', 'dli_faults', 'receiver_failures', 'late_answers', ...SUMMED].map((key) => [key, 0]),
  );
  const add = (key: string, value: number) => {
    total[key] = (total[key] ?? 0) + value;
  };
  for (let seed = first; seed < first + seeds; seed += 1) {
    const figures = await runChaos({ seed, backend });
    add('seeds', 1);
    add('cycles', figures.cycles);
    add('dli_faults', figures.faults.dli);
    add('receiver_failures', figures.faults.receiver_failures);
    add('late_answers', figures.faults.late_answers);
    for (const key of SUMMED) add(key, figures[key]);
    const bad =
      figures.lost + figures.doubled_distinct_ids + figures.doubled_unexplained > 0 ||
      figures.doubled_after_kill > figures.in_flight_at_kills ||
      !figures.settled;
    if (bad) failures.push(figures);
    if (values.json) process.stdout.write(`${JSON.stringify(figures)}\n`);
    else
      process.stdout.write(
        `${backend} seed ${seed}: ${figures.workers} workers, ${figures.cycles} cycles, ${figures.kills} kills, ${figures.deliveries} deliveries, lost ${figures.lost}, doubled: distinct ids ${figures.doubled_distinct_ids}, after kill ${figures.doubled_after_kill}/${figures.in_flight_at_kills} in flight, after timeout ${figures.doubled_after_timeout}, unexplained ${figures.doubled_unexplained}${figures.settled ? '' : ', NOT SETTLED'} (${Math.round(figures.duration_ms / 1000)} s)${bad ? '  <- FAILED' : ''}\n`,
      );
  }
  totals.set(backend, total);
}

if (!values.json) {
  process.stdout.write('\n');
  for (const [backend, total] of totals) {
    process.stdout.write(
      `${backend}: ${Object.entries(total)
        .map(([key, value]) => `${key} ${value}`)
        .join(', ')}\n`,
    );
  }
  const machine = machineDescription();
  process.stdout.write(
    `\nmachine: ${machine.cpu}, ${machine.cores} cores, ${machine.totalMemoryGb} GB, Node ${machine.node} (${machine.platform})\n` +
      `command: ${commandLine('chaos', 'scripts/chaos.ts', process.argv.slice(2))}\n`,
  );
}
if (failures.length > 0) {
  process.stderr.write(
    `failed seeds: ${failures.map((figures) => `${figures.backend}:${figures.seed}`).join(', ')}\n`,
  );
  process.exit(1);
}
