/** `*` wildcard matching, the one pattern syntax of routes and watches. */

/**
 * Whether `text` matches `pattern`, where `*` stands for any run of characters (including none) and every other
 * character is literal, case-sensitive. A hand-written matcher rather than a regex: nothing in a pattern can be
 * mistaken for regex syntax, and worst-case time stays proportional to the lengths multiplied, whatever the
 * number of stars (a regex with many `.*` can backtrack exponentially).
 */
export function wildcardMatches(pattern: string, text: string): boolean {
  let patternAt = 0;
  let textAt = 0;
  // Where to resume after the last star: the star's position, and the text position it has consumed up to.
  let starAt = -1;
  let starTextAt = 0;
  while (textAt < text.length) {
    if (patternAt < pattern.length && pattern[patternAt] === '*') {
      starAt = patternAt++;
      starTextAt = textAt;
    } else if (patternAt < pattern.length && pattern[patternAt] === text[textAt]) {
      patternAt++;
      textAt++;
    } else if (starAt >= 0) {
      // Let the last star swallow one more character and try the rest again.
      patternAt = starAt + 1;
      textAt = ++starTextAt;
    } else {
      return false;
    }
  }
  while (pattern[patternAt] === '*') patternAt++;
  return patternAt === pattern.length;
}

/** A `key=value` route entry, split at the first `=` (keys never hold one; values may). */
function splitPair(entry: string): { key: string; value: string } {
  const separator = entry.indexOf('=');
  return separator < 0
    ? { key: entry, value: '' }
    : { key: entry.slice(0, separator), value: entry.slice(separator + 1) };
}

/** Whether any of `patterns` matches `value`; a missing value matches none. */
export function anyValueMatches(patterns: readonly string[], value: string | undefined): boolean {
  if (value === undefined) return false;
  return patterns.some((pattern) => wildcardMatches(pattern, value));
}

/** Whether any `key=value` pattern matches any of `pairs`, key and value each against their side. */
export function anyPairMatches(
  patterns: readonly string[],
  pairs: readonly { key: string; value: string }[],
): boolean {
  return patterns.some((entry) => {
    const pattern = splitPair(entry);
    return pairs.some(
      (pair) => wildcardMatches(pattern.key, pair.key) && wildcardMatches(pattern.value, pair.value),
    );
  });
}
