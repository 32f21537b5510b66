import { cpus, totalmem } from 'node:os';

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
