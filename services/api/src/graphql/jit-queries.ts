import { getOperationAST, type DocumentNode, type ExecutionArgs, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import type { Plugin } from 'graphql-yoga';

/** Compiled operations by document, then by operation name ('' for the only one). */
const compiledOperations = new WeakMap<DocumentNode, Map<string, CompiledQuery | null>>();

/**
 * The operation compiled by graphql-jit, once per document and operation name for as long as the
 * document lives (the parser cache keeps one object per query text); null if it cannot be.
 */
export function compiledOperation(schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined): CompiledQuery | null {
  let byName = compiledOperations.get(document);
  if (!byName) compiledOperations.set(document, (byName = new Map()));
  const name = operationName ?? '';
  let compiled = byName.get(name);
  if (compiled === undefined) {
    const result = compileQuery(schema, document, operationName ?? undefined);
    compiled = isCompiledQuery(result) ? result : null;
    byName.set(name, compiled);
  }
  return compiled;
}

type MaybePromise<T> = T | Promise<T>;
type Execute = (args: ExecutionArgs) => MaybePromise<unknown>;

/**
 * Runs queries through graphql-jit, which compiles a document once into plain JavaScript and then
 * skips graphql-js's per-request field collection and completion (about a tenth of a `task(id)`
 * request's CPU in `pnpm bench reads`).
 *
 * Only successful results come from the compiled query. graphql-jit words its own errors: no
 * `locations`, other variable-coercion messages (a custom scalar's message is lost), and variable
 * errors without the 400 Yoga gives graphql-js's. So a result with any error is thrown away and
 * the query executed again by Yoga's executor, which answers exactly as without JIT (so does an
 * exception out of the compiled code). That is safe
 * for queries only (they change nothing); mutations and subscriptions always take Yoga's executor.
 *
 * A document is compiled on its second execution, so one-off documents never pay for compilation;
 * what was seen and compiled lives as long as the parser cache holds the document (keyed by the
 * document object, then by operation name in `compiledOperation`).
 */
export function useJitQueries(): Plugin {
  const seen = new WeakSet<DocumentNode>();

  function compiledFor(args: ExecutionArgs): CompiledQuery | null {
    if (seen.has(args.document)) return compiledOperation(args.schema, args.document, args.operationName);
    seen.add(args.document);
    return null;
  }

  return {
    onExecute({ args, executeFn, setExecuteFn }) {
      if (getOperationAST(args.document, args.operationName)?.operation !== 'query') return;
      const compiled = compiledFor(args);
      if (!compiled) return;
      const standard = executeFn as Execute;
      setExecuteFn(((jitArgs: ExecutionArgs) => {
        const fallBack = (result: ExecutionResult): MaybePromise<unknown> => (result.errors?.length ? standard(jitArgs) : result);
        const again = (): MaybePromise<unknown> => standard(jitArgs);
        let result: MaybePromise<ExecutionResult>;
        try {
          result = compiled.query(jitArgs.rootValue, jitArgs.contextValue, jitArgs.variableValues);
        } catch {
          return again();
        }
        return result instanceof Promise ? result.then(fallBack, again) : fallBack(result);
      }) as typeof executeFn);
    },
  };
}
