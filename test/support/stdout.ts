/**
 * Powertools writes its JSON log lines and EMF metrics to stdout, as Lambda expects. Tests that read them
 * capture stdout with {@link captureStdout} and parse it with {@link jsonLines}.
 */

/** What was written to stdout since {@link captureStdout}, chunk by chunk. */
export interface StdoutCapture {
  readonly chunks: string[];
  /** Puts the real `process.stdout.write` back. */
  restore(): void;
}

/**
 * Replaces `process.stdout.write` with a recorder. With `echo` the text still reaches the real stdout (to read
 * while debugging); without it the test output stays clean.
 */
export function captureStdout(options: { echo?: boolean } = {}): StdoutCapture {
  const chunks: string[] = [];
  const realWrite = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    chunks.push(String(chunk));
    return options.echo ? realWrite(chunk, ...(rest as [])) : true;
  }) as typeof process.stdout.write;
  return {
    chunks,
    restore: () => {
      process.stdout.write = realWrite;
    },
  };
}

/** Every line of `output` that is a JSON object (log lines, EMF), parsed; other lines are skipped. */
export function jsonLines<T = Record<string, unknown>>(output: string | readonly string[]): T[] {
  return (typeof output === 'string' ? output : output.join(''))
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as T);
}
