import { readFileSync } from 'node:fs';

/**
 * The V8 heap flags `dli-watch` runs with, read from the shebang of `bin/dli-watch.js` — the one place they are
 * written — so that the benchmark measures what users run. Why these flags: V8 otherwise sizes its heap for the
 * machine (hundreds of MB on a big one) although a cycle's live heap stays near 30 MB whatever the number of
 * jobs; a 4 MB semi-space and a 128 MB old space keep peak RSS under 150 MB at no cost in speed (README,
 * "Performance").
 */
export function cliNodeFlags(): string[] {
  const shebang =
    readFileSync(new URL('../../bin/dli-watch.js', import.meta.url), 'utf8').split('\n', 1)[0] ?? '';
  return shebang.split(/\s+/).filter((part) => part.startsWith('--'));
}
