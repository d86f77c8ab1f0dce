import { createGraphQLError, type Plugin } from 'graphql-yoga';
import type { ServerErrorCode } from '@tasklane/core';

/**
 * Yoga reads the `variables` and `extensions` of a GET request (and a multipart request's
 * `operations`) with a bare `JSON.parse`, so `?variables={` escapes as a SyntaxError and is
 * answered as a masked 500. This wraps whichever parser Yoga chose and answers such a request
 * with the 400 the GraphQL-over-HTTP spec asks for, naming the problem.
 */
export function useJsonParamsGuard(): Plugin {
  return {
    onRequestParse({ request, requestParser, setRequestParser }) {
      // A JSON POST body that does not parse is already a 400 from Yoga; only the parameters
      // parsed out of a query string or a multipart part escape as SyntaxErrors. Not wrapping
      // the JSON POST parser spares the common request an extra promise.
      if (!requestParser || !carriesJsonParameters(request)) return;
      setRequestParser(async (request) => {
        try {
          return await requestParser(request);
        } catch (error) {
          if (!(error instanceof SyntaxError)) throw error;
          throw createGraphQLError(`A request parameter (variables, extensions or operations) is not valid JSON: ${error.message}`, {
            extensions: { code: 'BAD_REQUEST' satisfies ServerErrorCode, http: { status: 400 } },
          });
        }
      });
    },
  };
}

function carriesJsonParameters(request: Request): boolean {
  return request.method === 'GET' || (request.headers.get('content-type') ?? '').toLowerCase().includes('multipart/');
}
