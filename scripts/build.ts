/**
 * `npm run build` (also run by `prepare` and `prepack`, so `npm ci`, `npm pack` and `npm publish` all leave a
 * fresh bundle)
 *
 * Bundles the CLI, `bin/dli-watch.js` and everything it imports, dependencies included, into one file,
 * `dist/dli-watch.js`: the package's `bin`. Node does not strip types under `node_modules`, so an installed
 * package cannot run the `.ts` sources; and with every dependency inside the bundle, the package installs
 * nothing else. Next to it, `dist/third-party-licenses.txt` carries the license of each bundled package, which
 * the MIT and Apache-2.0 licenses ask for when their code is redistributed.
 */
import { chmod, mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';

const ROOT = join(import.meta.dirname, '..');
const ENTRY = 'bin/dli-watch.js';
const OUTFILE = 'dist/dli-watch.js';
const LICENSES = 'dist/third-party-licenses.txt';

const result = await build({
  absWorkingDir: ROOT,
  entryPoints: [ENTRY],
  outfile: OUTFILE,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node24',
  // As for the Lambda bundles (serverless.yml): the AWS SDK's ES modules let esbuild drop what is not called.
  mainFields: ['module', 'main'],
  // Whitespace and syntax only: as fast to load as full minification (README, "Performance"), and a stack
  // trace still shows the functions' own names.
  minifyWhitespace: true,
  minifySyntax: true,
  banner: {
    // A CommonJS dependency bundled into ES modules still calls require() (none does today for the CLI).
    js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
  },
  metafile: true,
  write: false,
  logLevel: 'warning',
});
const bundle = result.outputFiles[0];
if (result.outputFiles.length !== 1 || bundle === undefined)
  throw new Error('esbuild wrote more than one file');

// esbuild copies the entry's shebang, and with it the heap flags (lib/cli/node-flags.ts): check it did.
const shebang = (await readFile(join(ROOT, ENTRY), 'utf8')).split('\n', 1)[0];
const bundledShebang = bundle.text.split('\n', 1)[0];
if (bundledShebang !== shebang)
  throw new Error(`${OUTFILE} would start with ${bundledShebang}, not the shebang of ${ENTRY}`);

/**
 * Replaces `file` in one step (a rename), so that whatever runs `dist/dli-watch.js` meanwhile — a test, `npx
 * dli-watch` — reads the old bundle or the new one, never half of one or none.
 */
async function writeAtomically(file: string, contents: string | Uint8Array, mode: number): Promise<void> {
  const partial = join(ROOT, `${file}.${process.pid}.partial`);
  await writeFile(partial, contents, { mode });
  // The mode again, past the umask: the bundle must stay executable.
  await chmod(partial, mode);
  await rename(partial, join(ROOT, file));
}

await mkdir(join(ROOT, 'dist'), { recursive: true });
await writeAtomically(OUTFILE, bundle.contents, 0o755);

/** The directory of each package a bundled file came from (nested `node_modules` included). */
function bundledPackages(inputs: string[]): string[] {
  const directories = new Set<string>();
  for (const input of inputs) {
    const match = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (match?.[1]) directories.add(match[1]);
  }
  return [...directories].sort();
}

async function licenseText(directory: string): Promise<string | undefined> {
  const file = (await readdir(directory)).find((name) => /^licen[cs]e(\.(md|txt))?$/i.test(name));
  return file === undefined ? undefined : (await readFile(join(directory, file), 'utf8')).trim();
}

// One section per distinct license text, naming every package under it: most of the AWS SDK's packages
// share one Apache-2.0 text.
const byText = new Map<string, string[]>();
const packages = bundledPackages(Object.keys(result.metafile.inputs));
for (const directory of packages) {
  const manifest = JSON.parse(await readFile(join(ROOT, directory, 'package.json'), 'utf8')) as {
    name: string;
    version: string;
    license?: string;
  };
  const text =
    (await licenseText(join(ROOT, directory))) ??
    `${manifest.license ?? 'No license given'} (the package ships no license file).`;
  byText.set(text, [...(byText.get(text) ?? []), `${manifest.name}@${manifest.version}`]);
}
const sections = [...byText].map(([text, names]) => `${names.join('\n')}\n\n${text}`);
await writeAtomically(
  LICENSES,
  `dist/dli-watch.js bundles these packages, under these licenses.\n\n${sections.join(`\n\n${'-'.repeat(78)}\n\n`)}\n`,
  0o644,
);

process.stderr.write(
  `dli-watch build: ${OUTFILE} (${Math.round(bundle.contents.byteLength / 1024)} KB, ${packages.length} bundled packages)\n`,
);
