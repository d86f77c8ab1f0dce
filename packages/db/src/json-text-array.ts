/**
 * A Postgres array literal (`{"a","b"}`) of strings in which JSON.stringify escapes nothing but
 * `"` and `\`: JSON text that JSON.stringify wrote (it never holds a raw control character or a
 * lone surrogate) and task ids. An array literal escapes those two the same way, a backslash
 * before each, so the JSON array of such strings is their array literal in other brackets, made
 * by one native call. pg's own encoder runs a regular expression per element, about a
 * millisecond for a batch of 1,000 inputs, on the path of every bulk submit. Any other string
 * (one with a newline, say, which JSON writes as `\n` and Postgres would read as `n`) must go
 * through pg's encoder.
 */
export function jsonTextArray(texts: readonly string[]): string {
  return `{${JSON.stringify(texts).slice(1, -1)}}`;
}
