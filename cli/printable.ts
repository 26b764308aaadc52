/**
 * Text from stored data (product names, reasons, errors, ids) reaches the
 * operator's terminal: an escape sequence in it could retitle the window,
 * clear the screen, hide lines or rewrite what was printed, and a bidi
 * override can make text read differently than it is. Every human line is
 * passed through {@link printable} on its way out.
 */

/**
 * C0 and C1 controls (tab and newline excepted, the CLI's own layout), DEL,
 * the Unicode line separators and the bidirectional embedding, override and
 * isolate characters. Or an SGR sequence (colour), which may be kept.
 */
const UNPRINTABLE = /\x1b\[[0-9;]*m|[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * `text` with every non-printable character shown as an escape (`\x1b`,
 * `\u202e`). With `keepColour`, SGR colour sequences stay (the CLI colours
 * its own output on a terminal; one smuggled in with data can only colour text).
 */
export function printable(text: string, keepColour = false): string {
  return text.replace(UNPRINTABLE, (m) => {
    if (m.length > 1) return keepColour ? m : m.replace(/\x1b/g, '\\x1b');
    const code = m.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
