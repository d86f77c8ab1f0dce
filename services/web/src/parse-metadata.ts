export type ParsedMetadata = { ok: true; value: Record<string, string> } | { ok: false; message: string };

/**
 * `key=value` pairs separated by commas, as typed into the filter and submit fields; empty means
 * none. Only the shape is checked here: the API owns the limits and explains them when exceeded.
 */
export function parseMetadata(text: string): ParsedMetadata {
  const value: Record<string, string> = {};
  for (const part of text.split(',')) {
    const pair = part.trim();
    if (pair === '') continue;
    const at = pair.indexOf('=');
    const key = at < 0 ? '' : pair.slice(0, at).trim();
    if (!key) return { ok: false, message: `Metadata "${pair}" is not key=value (e.g. customer=acme).` };
    value[key] = pair.slice(at + 1).trim();
  }
  return { ok: true, value };
}

/** The pairs as the page shows them, in the same key=value form the fields accept, by key (the API keeps no order). */
export function formatMetadata(metadata: unknown): string {
  if (!metadata || typeof metadata !== 'object') return '';
  return Object.entries(metadata as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)).map(([key, value]) => `${key}=${String(value)}`).join(', ');
}
