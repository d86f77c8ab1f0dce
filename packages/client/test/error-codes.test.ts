import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { SERVER_ERROR_CODES } from '@tasklane/core/errors';
import { TasklaneRequestError } from '../src/index.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

describe('error codes', () => {
  it.each(SERVER_ERROR_CODES)('keeps the server code %s as the error code instead of UNKNOWN', (code) => {
    const error = TasklaneRequestError.fromGraphqlErrors([{ message: 'x', extensions: { code } }], 400);
    expect(error.code).toBe(code);
  });

  it('reports a code it does not know as UNKNOWN and keeps the server code in errors', () => {
    const error = TasklaneRequestError.fromGraphqlErrors([{ message: 'x', extensions: { code: 'SOMETHING_NEW' } }]);
    expect(error.code).toBe('UNKNOWN');
    expect(error.errors[0]?.extensions?.['code']).toBe('SOMETHING_NEW');
  });
});

/** The workspace file a `@tasklane/…` specifier resolves to, from the package's `exports`. */
function workspaceFile(specifier: string): string {
  const [, name, sub] = /^@tasklane\/([^/]+)(\/.*)?$/.exec(specifier)!;
  const dir = ['packages', 'services'].map((top) => resolve(ROOT, top, name!)).find((d) => {
    try {
      readFileSync(resolve(d, 'package.json'));
      return true;
    } catch {
      return false;
    }
  })!;
  const pkg = JSON.parse(readFileSync(resolve(dir, 'package.json'), 'utf8')) as { exports: Record<string, string | { default: string }> };
  const target = pkg.exports[sub ? `.${sub}` : '.']!;
  // The source (`default`), which the built files mirror one to one.
  return resolve(dir, typeof target === 'string' ? target : target.default);
}

/** Every module the file imports at run time, followed through relative and workspace imports. */
function runtimeImports(entry: string): { file: string; specifier: string }[] {
  const seen = new Set<string>();
  const found: { file: string; specifier: string }[] = [];
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest);
    for (const statement of source.statements) {
      if (!(ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement)) || !statement.moduleSpecifier) continue;
      const typeOnly = ts.isImportDeclaration(statement) ? statement.importClause?.isTypeOnly : statement.isTypeOnly;
      if (typeOnly) continue;
      const specifier = (statement.moduleSpecifier as ts.StringLiteral).text;
      found.push({ file, specifier });
      if (specifier.startsWith('.')) queue.push(resolve(dirname(file), specifier));
      else if (specifier.startsWith('@tasklane/')) queue.push(workspaceFile(specifier));
    }
  }
  return found;
}

describe('the client entry', () => {
  it('imports no Node.js built-in module, so it bundles for browsers', () => {
    const imports = runtimeImports(fileURLToPath(new URL('../src/index.ts', import.meta.url)));
    // The walk reaches the shared list of codes, so it does follow workspace imports.
    expect(imports.some((i) => i.specifier === '@tasklane/core/errors')).toBe(true);
    const builtins = new Set(builtinModules);
    const nodeOnly = imports.filter((i) => i.specifier.startsWith('node:') || builtins.has(i.specifier.split('/')[0]!));
    expect(nodeOnly).toEqual([]);
  });
});
