/**
 * Huawei Cloud AK/SK request signing, algorithm `SDK-HMAC-SHA256` (the API Request Signing Guide and the
 * official SDKs' `AKSKSigner`). Pure: no I/O and no clock — the signing date is always a parameter.
 *
 * Choices the published vectors leave open, settled so that what is signed is what the server receives:
 * - Path: each `/`-separated segment of `url.pathname` is percent-decoded (leniently, at byte level) and then
 *   re-encoded, so `/a%20b` and `/a b` both sign as `/a%20b/`. A `%2F` inside a segment stays `%2F`.
 * - Query: parsed with `URLSearchParams`, so `+` is a space (application/x-www-form-urlencoded, which is what
 *   `URLSearchParams`, ky's `searchParams` and `url.searchParams.set` produce). Send a literal plus as `%2B`.
 *   Malformed UTF-8 in the query decodes to U+FFFD, as `URLSearchParams` does.
 * - Parameters are sorted by decoded name, then decoded value, comparing UTF-16 code units (JavaScript's default
 *   order, which is what the official Node signer does); repeated names are all kept.
 * - `Host` is `url.host` (WHATWG), which carries `:port` only for a non-default port, like the `Host` header
 *   fetch sends.
 */
import { createHash, createHmac, createSecretKey, type KeyObject, timingSafeEqual } from 'node:crypto';

export const SDK_SIGNING_ALGORITHM = 'SDK-HMAC-SHA256';

export interface AkSkCredentials {
  accessKey: string;
  secretKey: string;
  securityToken?: string | null;
}

export interface SignableRequest {
  /** Any case; upper-cased for signing. */
  method: string;
  /**
   * Absolute URL; the query is taken from its `searchParams`, the path from its `pathname`. An origin-form
   * string (`/path?query`, as `node:http` reports it) is accepted when the headers carry `Host`.
   */
  url: string | URL;
  /** Header names in any case; each name may appear once. */
  headers: Record<string, string>;
  /** Exact body bytes (a string is taken as UTF-8); empty when absent. */
  body?: string | Uint8Array;
}

/** A request that cannot be signed as given. The message names headers, never their values or any key. */
export class AkSkSigningError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

const LINE_BREAK = /[\r\n]/;
/** RFC 3986 unreserved characters, which percent-encoding leaves as they are. */
const UNRESERVED_ONLY = /^[A-Za-z0-9\-_.~]*$/;
const HEX_BYTE = Array.from(
  { length: 256 },
  (_, byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`,
);
const utf8 = new TextEncoder();

/**
 * The secret key as a key object, made once per key rather than once per request: turning the string into HMAC
 * key material is a good part of what signing costs. One entry: a process signs with one key at a time.
 */
let lastKey: { secretKey: string; keyObject: KeyObject } | undefined;

function hmacKey(secretKey: string): KeyObject {
  if (lastKey?.secretKey !== secretKey)
    lastKey = { secretKey, keyObject: createSecretKey(utf8.encode(secretKey)) };
  return lastKey.keyObject;
}

/** The hash of an empty body: every GET signs it. */
let emptyBodyHash: string | undefined;

/** `YYYYMMDDTHHMMSSZ` in UTC */
export function formatSdkDate(date: Date): string {
  if (Number.isNaN(date.getTime())) throw new AkSkSigningError('X-Sdk-Date needs a valid date');
  const pad = (value: number, width = 2): string => String(value).padStart(width, '0');
  return (
    `${pad(date.getUTCFullYear(), 4)}${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}` +
    `T${pad(date.getUTCHours())}${pad(date.getUTCMinutes())}${pad(date.getUTCSeconds())}Z`
  );
}

/** The six-part canonical request (exactly as in docs/dli-api.md §4a), given the lower-case signed header names. */
export function canonicalRequest(request: SignableRequest, signedHeaders: string[]): string {
  const headers = headerMap(request.headers);
  const url = requestUrl(request.url, headers);
  const names = normaliseSignedHeaders(signedHeaders);
  let canonicalHeaders = '';
  for (const name of names) {
    const value = headers.get(name)?.value;
    if (value === undefined) throw new AkSkSigningError(`Signed header "${name}" is not in the request`);
    canonicalHeaders += `${name}:${value.trim()}\n`;
  }
  return [
    request.method.toUpperCase(),
    canonicalUri(url.pathname),
    canonicalQuery(url.searchParams),
    canonicalHeaders,
    names.join(';'),
    bodyHash(request.body),
  ].join('\n');
}

/** Lower-case hex signature over the string to sign, for the given X-Sdk-Date value (read from request.headers, case-insensitive). */
export function computeSignature(
  request: SignableRequest,
  signedHeaders: string[],
  secretKey: string,
): string {
  const sdkDate = headerMap(request.headers).get('x-sdk-date')?.value.trim();
  if (!sdkDate) throw new AkSkSigningError('The request has no X-Sdk-Date header to sign');
  const stringToSign = [
    SDK_SIGNING_ALGORITHM,
    sdkDate,
    sha256Hex(canonicalRequest(request, signedHeaders)),
  ].join('\n');
  return createHmac('sha256', hmacKey(secretKey)).update(stringToSign, 'utf8').digest('hex');
}

/**
 * Returns a NEW headers object: the input headers plus X-Sdk-Date, Host (with :port only when non-default),
 * X-Security-Token when present, and Authorization `SDK-HMAC-SHA256 Access=..., SignedHeaders=..., Signature=...`.
 * Signs every header it returns except Authorization (so for a DLI GET with Content-Type and X-Project-Id:
 * content-type;host;x-project-id;x-sdk-date[;x-security-token]).
 *
 * A Host header the caller passed is kept and signed as is; Authorization, X-Sdk-Date and (when the credentials
 * carry one) X-Security-Token from the input are replaced, whatever their case.
 */
export function signRequest(
  request: SignableRequest,
  credentials: AkSkCredentials,
  date: Date,
): Record<string, string> {
  const securityToken = credentials.securityToken ? credentials.securityToken : undefined;
  const replaced = new Set(['authorization', 'x-sdk-date']);
  if (securityToken !== undefined) replaced.add('x-security-token');

  const input = headerMap(request.headers);
  const headers: Record<string, string> = {};
  for (const [lowerName, { name, value }] of input) {
    if (!replaced.has(lowerName)) headers[name] = value;
  }
  if (!input.has('host')) headers.Host = requestUrl(request.url, input).host;
  headers['X-Sdk-Date'] = formatSdkDate(date);
  if (securityToken !== undefined) headers['X-Security-Token'] = securityToken;

  const signedHeaders = normaliseSignedHeaders(Object.keys(headers));
  const signature = computeSignature({ ...request, headers }, signedHeaders, credentials.secretKey);
  headers.Authorization =
    `${SDK_SIGNING_ALGORITHM} Access=${credentials.accessKey}, ` +
    `SignedHeaders=${signedHeaders.join(';')}, Signature=${signature}`;
  return headers;
}

const AUTHORIZATION_PATTERN =
  /^SDK-HMAC-SHA256\s+Access=([^,\s]+)\s*,\s*SignedHeaders=([^,\s]+)\s*,\s*Signature=([0-9A-Fa-f]+)\s*$/;

/** Parses an Authorization header; null if it is not SDK-HMAC-SHA256. Used by the DLI simulator to verify requests. */
export function parseAuthorization(
  header: string,
): { accessKey: string; signedHeaders: string[]; signature: string } | null {
  const match = AUTHORIZATION_PATTERN.exec(header.trim());
  if (!match) return null;
  const [, accessKey = '', signedHeaderList = '', signature = ''] = match;
  const signedHeaders = signedHeaderList.split(';');
  if (signedHeaders.some((name) => name === '')) return null;
  return { accessKey, signedHeaders, signature: signature.toLowerCase() };
}

/**
 * Whether the request's Authorization header is a valid `SDK-HMAC-SHA256` signature made with `secretKey`.
 * Checks only the signature (the caller maps the access key to `secretKey` and judges the X-Sdk-Date skew).
 * False, never an exception, for a missing or malformed Authorization, a signature that leaves `host` or
 * `x-sdk-date` unsigned, or a signed header absent from the request.
 */
export function verifySignature(request: SignableRequest, secretKey: string): boolean {
  let headers: Map<string, HeaderEntry>;
  try {
    headers = headerMap(request.headers);
  } catch {
    return false;
  }
  const authorization = headers.get('authorization');
  const parsed = authorization ? parseAuthorization(authorization.value) : null;
  if (!parsed) return false;
  const signedHeaders = parsed.signedHeaders.map((name) => name.toLowerCase());
  if (!signedHeaders.includes('host') || !signedHeaders.includes('x-sdk-date')) return false;
  if (!signedHeaders.every((name) => headers.has(name))) return false;

  let expected: string;
  try {
    expected = computeSignature(request, signedHeaders, secretKey);
  } catch {
    return false;
  }
  const given = Buffer.from(parsed.signature, 'utf8');
  const wanted = Buffer.from(expected, 'utf8');
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

interface HeaderEntry {
  name: string;
  value: string;
}

/** Lower-case name → original name and value; two names differing only in case would sign ambiguously. */
function headerMap(headers: Record<string, string>): Map<string, HeaderEntry> {
  const map = new Map<string, HeaderEntry>();
  for (const [name, value] of Object.entries(headers)) {
    const lowerName = name.toLowerCase();
    if (lowerName === '' || LINE_BREAK.test(name)) throw new AkSkSigningError('A header name is invalid');
    // A line break in a value would forge extra canonical header lines.
    if (LINE_BREAK.test(value)) throw new AkSkSigningError(`Header "${lowerName}" contains a line break`);
    if (map.has(lowerName)) throw new AkSkSigningError(`Header "${lowerName}" is given more than once`);
    map.set(lowerName, { name, value });
  }
  return map;
}

function normaliseSignedHeaders(names: string[]): string[] {
  return [...new Set(names.map((name) => name.toLowerCase()))].sort(compareCodeUnits);
}

function requestUrl(url: string | URL, headers: Map<string, HeaderEntry>): URL {
  if (url instanceof URL) return url;
  const host = headers.get('host')?.value.trim();
  try {
    // Origin form (`/path?query`): resolving against a base would read `//x/y` as host `x`, so prefix instead.
    if (url.startsWith('/') && host) return new URL(`http://${host}${url}`);
    return new URL(url);
  } catch (error) {
    throw new AkSkSigningError('The request URL cannot be parsed', { cause: error });
  }
}

function canonicalUri(pathname: string): string {
  const path = pathname
    .split('/')
    // A segment of unreserved characters only (every DLI path segment: versions, project and job ids) is its own
    // encoding: no need to decode and re-encode it byte by byte on every request.
    .map((segment) => (UNRESERVED_ONLY.test(segment) ? segment : percentEncode(percentDecode(segment))))
    .join('/');
  return path.endsWith('/') ? path : `${path}/`;
}

function canonicalQuery(searchParams: URLSearchParams): string {
  return [...searchParams]
    .sort(
      ([nameA, valueA], [nameB, valueB]) =>
        compareCodeUnits(nameA, nameB) || compareCodeUnits(valueA, valueB),
    )
    .map(([name, value]) => `${percentEncode(utf8.encode(name))}=${percentEncode(utf8.encode(value))}`)
    .join('&');
}

/** RFC 3986 encoding of bytes: only `A-Z a-z 0-9 - _ . ~` stay literal. */
function percentEncode(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) {
    out += isUnreserved(byte) ? String.fromCharCode(byte) : HEX_BYTE[byte];
  }
  return out;
}

/** `%XY` → byte; anything else (including a stray `%`) is kept literally, as the URL parser keeps it. */
function percentDecode(text: string): Uint8Array {
  const bytes = utf8.encode(text);
  const out = new Uint8Array(bytes.length);
  let length = 0;
  for (let index = 0; index < bytes.length; index++) {
    const byte = bytes[index] ?? 0;
    const high = hexValue(bytes[index + 1]);
    const low = hexValue(bytes[index + 2]);
    if (byte === 0x25 && high !== undefined && low !== undefined) {
      out[length++] = high * 16 + low;
      index += 2;
    } else {
      out[length++] = byte;
    }
  }
  return out.subarray(0, length);
}

function hexValue(byte: number | undefined): number | undefined {
  if (byte === undefined) return undefined;
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  if (byte >= 0x41 && byte <= 0x46) return byte - 0x41 + 10;
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x61 + 10;
  return undefined;
}

function isUnreserved(byte: number): boolean {
  return (
    (byte >= 0x41 && byte <= 0x5a) ||
    (byte >= 0x61 && byte <= 0x7a) ||
    (byte >= 0x30 && byte <= 0x39) ||
    byte === 0x2d ||
    byte === 0x5f ||
    byte === 0x2e ||
    byte === 0x7e
  );
}

function compareCodeUnits(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

function bodyHash(body: string | Uint8Array | undefined): string {
  if (body !== undefined && body.length > 0) return sha256Hex(body);
  emptyBodyHash ??= sha256Hex('');
  return emptyBodyHash;
}

function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256')
    .update(typeof data === 'string' ? utf8.encode(data) : data)
    .digest('hex');
}
