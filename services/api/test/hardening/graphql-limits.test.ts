import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '@tasklane/core';
import { getIntrospectionQuery } from 'graphql';
import { describe, expect, it } from 'vitest';
import type { AppContext } from '../../src/app-context.ts';
import { GRAPHIQL_DEFAULT_QUERY } from '../../src/graphql/graphiql-default-query.ts';
import { createTasklaneYoga } from '../../src/graphql/yoga.ts';

const operationsDir = fileURLToPath(new URL('../../../../packages/client/src/operations/', import.meta.url));

/** Every operation the typed client (and so the dashboard) sends, with the fragments it spreads. */
function clientDocuments(): [string, string][] {
  const texts = new Map(
    readdirSync(operationsDir)
      .filter((name) => name.endsWith('.graphql'))
      .map((name) => [name, readFileSync(operationsDir + name, 'utf8')] as const),
  );
  // Fragment files by the fragment they define; a document gets those it spreads, and theirs.
  const fragments = new Map<string, string>();
  for (const text of texts.values()) for (const [, name] of text.matchAll(/^fragment (\w+) on /gm)) fragments.set(name!, text);
  const withFragments = (text: string): string => {
    const needed = new Set<string>();
    const visit = (source: string) => {
      for (const [, name] of source.matchAll(/\.\.\.(\w+)/g)) {
        if (!needed.has(name!) && fragments.has(name!)) {
          needed.add(name!);
          visit(fragments.get(name!)!);
        }
      }
    };
    visit(text);
    return [text, ...[...needed].map((name) => fragments.get(name)!)].join('\n');
  };
  return [...texts]
    .filter(([, text]) => !/^fragment /m.test(text))
    .map(([name, text]) => [name, withFragments(text)]);
}

/** Parses and validates through the same envelop pipeline every transport uses; the errors' messages. */
function pipelineErrors(env: Record<string, string>, document: string): string[] {
  const config = loadConfig({ LOG_LEVEL: 'silent', ...env });
  const logger = { debug() {}, info() {}, warn() {}, error() {} } as never;
  const yoga = createTasklaneYoga({ config } as AppContext, { logger });
  const { parse, validate, schema } = yoga.getEnveloped({ req: {} as never });
  try {
    return validate(schema, parse(document)).map((error: { message: string }) => error.message);
  } catch (error) {
    return [(error as Error).message];
  }
}

describe('default limits', () => {
  it.each(clientDocuments())('accept the client operation %s', (_name, document) => {
    expect(pipelineErrors({}, document)).toEqual([]);
  });

  it('accept the GraphiQL default operation and its schema query', () => {
    expect(pipelineErrors({}, GRAPHIQL_DEFAULT_QUERY)).toEqual([]);
    const everything = { descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true, oneOf: true };
    expect(pipelineErrors({}, getIntrospectionQuery(everything))).toEqual([]);
  });
});

describe('default cost', () => {
  const fragment = readFileSync(operationsDir + 'task-fields.graphql', 'utf8');
  const page = (alias: string) => `${alias}: tasks(first: 1000) { edges { cursor node { ...TaskFields } } pageInfo { hasNextPage endCursor } }`;

  it('admits one full page of 1000 tasks with every field, written with a literal first', () => {
    expect(pipelineErrors({}, `{ ${page('all')} } ${fragment}`)).toEqual([]);
  });

  it('refuses two such pages in one document', () => {
    const [message] = pipelineErrors({}, `{ ${page('a')} ${page('b')} } ${fragment}`);
    expect(message).toMatch(/^Query Cost limit of 250000 exceeded, found \d+/);
  });
});

describe('each limit', () => {
  const repeated = (n: number, each: (i: number) => string) => Array.from({ length: n }, (_, i) => each(i)).join(' ');
  const aliases = (n: number) => `{ ${repeated(n, (i) => `a${i}: queueStats { oldestPendingAgeSeconds }`)} }`;
  const directives = (n: number) => `{ queueStats { ${repeated(n, () => 'oldestPendingAgeSeconds @include(if: true)')} } }`;
  const stats = (n: number) => `{ ${repeated(n, (i) => `q${i}: queueStats { oldestPendingAgeSeconds }`)} }`;

  it.each([
    ['GRAPHQL_MAX_ALIASES', '3', aliases(3), aliases(4), 'Aliases limit of 3 exceeded, found 4; simplify the operation or raise GRAPHQL_MAX_ALIASES'],
    ['GRAPHQL_MAX_DIRECTIVES', '2', directives(2), directives(3), 'Directives limit of 2 exceeded, found 3; simplify the operation or raise GRAPHQL_MAX_DIRECTIVES'],
    ['GRAPHQL_MAX_DEPTH', '4', '{ tasks { edges { node { id } } } }', '{ tasks { edges { node { error { type } } } } }', 'Query depth limit of 4 exceeded, found 5; simplify the operation or raise GRAPHQL_MAX_DEPTH'],
    // 10 tokens, then 11: every brace and name counts.
    ['GRAPHQL_MAX_TOKENS', '10', '{ queueStats { oldestPendingAgeSeconds byStatus { status } } }', '{ queueStats { oldestPendingAgeSeconds byStatus { status count } } }', 'Syntax Error: Token limit of 10 exceeded; simplify the operation or raise GRAPHQL_MAX_TOKENS'],
    // One `queueStats { oldestPendingAgeSeconds }` costs 3.5 (an object, 2, plus 1.5 × one scalar).
    ['GRAPHQL_MAX_COST', '14', stats(4), stats(5), 'Query Cost limit of 14 exceeded, found 17.5; simplify the operation or raise GRAPHQL_MAX_COST'],
  ])('%s=%s allows the limit and refuses one more, naming the limit', (name, value, within, over, message) => {
    // Aliases are lifted where a case needs many of them to reach its own limit.
    const env = { GRAPHQL_MAX_ALIASES: '100', [name]: value };
    expect(pipelineErrors(env, within)).toEqual([]);
    expect(pipelineErrors(env, over)).toEqual([message]);
  });
});
