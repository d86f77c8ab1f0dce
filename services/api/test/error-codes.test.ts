import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SERVER_ERROR_CODES } from '@tasklane/core/errors';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

describe('the error codes the API sends', () => {
  it('are all in the list the client shares', () => {
    const sent = new Set<string>();
    for (const file of sourceFiles(SRC)) {
      for (const match of readFileSync(file, 'utf8').matchAll(/\bcode(?::\s*| = )'([A-Z][A-Z_]+)'/g)) sent.add(match[1]!);
    }
    // The scan finds the codes written out in the API's own files (not the domain errors of core).
    expect(sent).toContain('UNAVAILABLE');
    expect(sent).toContain('PAYLOAD_TOO_LARGE');
    expect([...sent].filter((code) => !(SERVER_ERROR_CODES as readonly string[]).includes(code))).toEqual([]);
  });
});
