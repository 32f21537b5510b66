// Runs in its own Node process: `node test/support/invoke-bundle.ts <handler.mjs> <invocations.json> <out.json>`.
// Imports a packaged handler the way Lambda does (a fresh process, the bundle's own directory, no project
// node_modules in reach) and calls it once per invocation, in order, writing each outcome to <out.json>. Stdout
// is left to the handler: Powertools writes its log lines there.
import { readFileSync, writeFileSync } from 'node:fs';
import { pollLambdaContext } from './lambda.ts';

/** One call of the handler. */
export interface BundleInvocation {
  event: unknown;
  requestId: string;
}

/** What one call returned or threw. */
export type BundleOutcome = { result: unknown } | { error: { name: string; message: string } };

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

const [bundlePath, invocationsPath, outPath] = process.argv.slice(2);
if (bundlePath === undefined || invocationsPath === undefined || outPath === undefined)
  throw new Error('usage: invoke-bundle.ts <handler.mjs> <invocations.json> <out.json>');
const { handler } = (await import(bundlePath)) as { handler: Handler };
const outcomes: BundleOutcome[] = [];
for (const { event, requestId } of JSON.parse(readFileSync(invocationsPath, 'utf8')) as BundleInvocation[]) {
  try {
    outcomes.push({ result: await handler(event, pollLambdaContext(150_000, requestId)) });
  } catch (error) {
    const { name, message } = error instanceof Error ? error : new Error(String(error));
    outcomes.push({ error: { name, message } });
  }
}
writeFileSync(outPath, JSON.stringify(outcomes));
