/** Link markup shared by the platforms whose messages take markdown links. Pure. */

/**
 * `[text](url)`, with the characters that would end the link early (parentheses, angle brackets, whitespace)
 * percent-encoded: the same URL, read whole. `text` must already be escaped for the platform.
 */
export function markdownLink(text: string, url: string): string {
  const safeUrl = url.replace(
    /[()<>\s]/g,
    (char) => `%${char.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`,
  );
  return `[${text}](${safeUrl})`;
}
