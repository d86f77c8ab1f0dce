import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
import { TasklaneConnectionError, TasklaneRequestError, type GraphqlErrorInfo } from './errors.ts';

export interface HttpTransportOptions {
  url: string;
  fetch: typeof fetch;
  headers: Record<string, string>;
}

/** Runs one typed query or mutation over HTTP POST and returns its data, or throws a typed error. */
export type Request = <TResult, TVariables>(
  document: DocumentTypeDecoration<TResult, TVariables> & { toString(): string },
  variables: TVariables,
  signal?: AbortSignal,
) => Promise<TResult>;

interface GraphqlBody {
  data?: unknown;
  errors?: GraphqlErrorInfo[];
}

export function createHttpTransport({ url, fetch: fetchImpl, headers }: HttpTransportOptions): Request {
  return async (document, variables, signal) => {
    let response: Response;
    try {
      response = await fetchImpl(url, {
        method: 'POST',
        headers: {
          ...headers,
          'content-type': 'application/json',
          // The GraphQL-over-HTTP media type makes the server answer errors with meaningful statuses.
          accept: 'application/graphql-response+json, application/json;q=0.9',
        },
        body: JSON.stringify({ query: document.toString(), variables }),
        signal: signal ?? null,
      });
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw new TasklaneConnectionError(`Cannot reach ${url}: ${describe(error)}`, url, { cause: error });
    }
    let body: GraphqlBody;
    try {
      body = (await response.json()) as GraphqlBody;
    } catch {
      if (signal?.aborted) throw signal.reason;
      throw new TasklaneRequestError(`${url} answered HTTP ${response.status} without a GraphQL body`, 'BAD_RESPONSE', [], response.status);
    }
    if (body.errors && body.errors.length > 0) throw TasklaneRequestError.fromGraphqlErrors(body.errors, response.status);
    if (body.data === undefined || body.data === null) {
      throw new TasklaneRequestError(`${url} answered HTTP ${response.status} without data`, 'BAD_RESPONSE', [], response.status);
    }
    return body.data as never;
  };
}

/** Node's fetch hides the useful part ("ECONNREFUSED") in `cause`. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause as { code?: string; message?: string } | undefined;
  return cause?.code ?? cause?.message ?? error.message;
}
