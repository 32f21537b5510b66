/**
 * Fitting text into a platform's limits: measures in the unit each limit counts (code points, UTF-16 units, UTF-8
 * bytes, JSON-escaped bytes), and cuts that never split a character, an escape or a mention.
 */

// Built on first use: building it loads ICU data, and most cycles render no message at all.
let graphemeSegmenter: Intl.Segmenter | undefined;

/** The grapheme clusters of `text`, each with its index: the only places text may be cut. */
function graphemes(text: string): Intl.Segments {
  graphemeSegmenter ??= new Intl.Segmenter('en', { granularity: 'grapheme' });
  return graphemeSegmenter.segment(text);
}

/** Measures a piece of text in the unit a limit is expressed in. Must be additive over concatenation. */
export type TextMeasure = (text: string) => number;

/** Counts Unicode code points (a surrogate pair is one). */
export const countCodePoints: TextMeasure = (text) => {
  let count = 0;
  for (const _ of text) count++;
  return count;
};

/** Counts UTF-16 code units (JavaScript's `length`): the stricter count when a platform says "characters". */
export const countUtf16Units: TextMeasure = (text) => text.length;

/** Counts UTF-8 bytes. */
export const countUtf8Bytes: TextMeasure = (text) => Buffer.byteLength(text, 'utf8');

/**
 * Counts the UTF-8 bytes `text` takes inside a JSON string, quotes excluded: what a body-size limit counts, since
 * quotes, backslashes and control characters grow when serialized. Additive over concatenation (JSON escapes one
 * character at a time), so it can measure where to cut.
 */
export const countJsonStringBytes: TextMeasure = (text) =>
  Buffer.byteLength(JSON.stringify(text), 'utf8') - 2;

/**
 * Cuts `text` so that it plus `marker` measures at most `max`, appending the marker only when something was
 * cut. Cuts only between grapheme clusters, so it never splits a surrogate pair, a flag or a ZWJ emoji
 * sequence. If even the marker does not fit, returns as much of the marker as fits.
 */
export function truncateToFit(text: string, max: number, measure: TextMeasure, marker = '…'): string {
  const limit = Math.max(0, Math.floor(max));
  if (measure(text) <= limit) return text;
  const markerSize = measure(marker);
  if (markerSize > limit) return markerSize === 0 ? '' : truncateToFit(marker, limit, measure, '');
  const budget = limit - markerSize;
  let used = 0;
  let end = 0;
  for (const { segment, index } of graphemes(text)) {
    const size = measure(segment);
    if (used + size > budget) break;
    used += size;
    end = index + segment.length;
  }
  return text.slice(0, end) + marker;
}

/**
 * Cuts `text` to at most `maxChars` code points including the marker, which is appended only when something
 * was cut. Never splits a surrogate pair (nor any grapheme cluster).
 */
export function truncateText(text: string, maxChars: number, marker = '…'): string {
  return truncateToFit(text, maxChars, countCodePoints, marker);
}

/**
 * Cuts `text` so its UTF-8 encoding, marker included, is at most `maxBytes` bytes (WeCom counts bytes).
 * Never splits a character.
 */
export function truncateUtf8(text: string, maxBytes: number, marker = '…'): string {
  return truncateToFit(text, maxBytes, countUtf8Bytes, marker);
}

/**
 * Cuts raw user text so that, once escaped by `escapeText`, it measures at most `max` (counting `marker`, which is
 * appended only when something was cut), and returns it escaped; an empty string when not even the marker fits.
 * Measuring the escaped text means a cut never lands inside an escape. The cut is found by bisection over whole
 * grapheme clusters on the escaped size, so escapes that depend on context (a `-` only at the start of a line) are
 * measured exactly; `escapeText` must never get shorter when text is appended.
 */
export function fitEscaped(
  raw: string,
  max: number,
  measure: TextMeasure,
  escapeText: (text: string) => string,
  marker = '…',
): string {
  const limit = Math.floor(max);
  const size = (text: string) => measure(escapeText(text));
  if (size(raw) <= limit) return escapeText(raw);
  const ends = [0];
  for (const { index, segment } of graphemes(raw)) ends.push(index + segment.length);
  // Largest number of graphemes whose escaped text plus the marker fits; none may fit at all.
  let low = -1;
  let high = ends.length - 1;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (size(raw.slice(0, ends[middle]) + marker) <= limit) low = middle;
    else high = middle - 1;
  }
  return low < 0 ? '' : escapeText(raw.slice(0, ends[low]) + marker);
}

/** Collapses every run of whitespace (line breaks included) to one space and trims: for text shown on one line. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * Joins `tokens` with spaces, keeping only those that fit whole within `max`: half a mention token notifies
 * nobody, so one that does not fit is left out, and later, shorter ones may still fit.
 */
export function joinWhole(tokens: readonly string[], max: number, measure: TextMeasure): string {
  const kept: string[] = [];
  let used = 0;
  for (const token of tokens) {
    const size = measure(token) + (kept.length > 0 ? measure(' ') : 0);
    if (used + size > max) continue;
    kept.push(token);
    used += size;
  }
  return kept.join(' ');
}

/**
 * Inserted where user text would otherwise form markup (a ``` fence, `<@userid>`, `<users/all>`): invisible to
 * readers, but the platform's parser no longer sees the token. Platforms that document no escape character leave
 * no other reliable way to show user text literally.
 */
export const ZERO_WIDTH_SPACE = '\u200b';

/** A ``` inside a Markdown code block would close it early; zero-width spaces between the backticks defuse it. */
export function defuseCodeFences(text: string): string {
  return text.replace(/```/g, `\`${ZERO_WIDTH_SPACE}\`${ZERO_WIDTH_SPACE}\``);
}
