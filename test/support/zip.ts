import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { inflateRawSync } from 'node:zlib';

const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const CENTRAL_DIRECTORY_ENTRY = 0x02014b50;
const LOCAL_FILE_HEADER = 0x04034b50;
const STORED = 0;
const DEFLATED = 8;

/**
 * Extracts a deployment zip into `directory` and returns the paths it wrote, relative to it. Reads only what
 * `serverless package` writes (stored or deflated entries, no ZIP64), which is all a test needs: there is no
 * `unzip` to rely on in CI.
 */
export function extractZip(zipPath: string, directory: string): string[] {
  const zip = readFileSync(zipPath);
  let end = zip.length - 22;
  while (end >= 0 && zip.readUInt32LE(end) !== END_OF_CENTRAL_DIRECTORY) end -= 1;
  if (end < 0) throw new Error(`${zipPath} is not a zip file`);
  const entries = zip.readUInt16LE(end + 10);
  let entry = zip.readUInt32LE(end + 16);
  const written: string[] = [];
  for (let index = 0; index < entries; index += 1) {
    if (zip.readUInt32LE(entry) !== CENTRAL_DIRECTORY_ENTRY)
      throw new Error(`${zipPath}: bad central directory`);
    const method = zip.readUInt16LE(entry + 10);
    const compressedSize = zip.readUInt32LE(entry + 20);
    const nameLength = zip.readUInt16LE(entry + 28);
    const entryLength = 46 + nameLength + zip.readUInt16LE(entry + 30) + zip.readUInt16LE(entry + 32);
    const header = zip.readUInt32LE(entry + 42);
    const name = zip.toString('utf8', entry + 46, entry + 46 + nameLength);
    entry += entryLength;
    if (name.endsWith('/')) continue;
    if (zip.readUInt32LE(header) !== LOCAL_FILE_HEADER)
      throw new Error(`${zipPath}: bad local header for ${name}`);
    const start = header + 30 + zip.readUInt16LE(header + 26) + zip.readUInt16LE(header + 28);
    const data = zip.subarray(start, start + compressedSize);
    if (method !== STORED && method !== DEFLATED)
      throw new Error(`${zipPath}: ${name} uses method ${method}`);
    const target = resolve(directory, name);
    if (!target.startsWith(resolve(directory) + sep))
      throw new Error(`${zipPath}: ${name} escapes the directory`);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, method === DEFLATED ? inflateRawSync(data) : data);
    written.push(join(name));
  }
  return written;
}
