/**
 * A writer for the process's standard output that ends quietly when the reader goes away: `dli-watch list | head`
 * closes the pipe after a few lines, and every write after that fails with EPIPE, an error event that would crash
 * the process with a stack trace. On the first EPIPE the writer stops writing and calls `onClosed` once (the bin
 * script stops the command as it would on SIGTERM: nobody reads what it prints). Any other stream error is thrown,
 * as before.
 */
export function closedPipeSafeWriter(
  stream: NodeJS.WriteStream,
  onClosed: () => void,
): (text: string) => void {
  let closed = false;
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    if (closed) return;
    closed = true;
    onClosed();
  });
  return (text) => {
    if (!closed) stream.write(text);
  };
}
