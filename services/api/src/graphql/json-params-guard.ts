import { createGraphQLError, type Plugin } from 'graphql-yoga';

/**
 * Yoga reads the `variables` and `extensions` of a GET request (and a multipart request's
 * `operations`) with a bare `JSON.parse`, so `?variables={` escapes as a SyntaxError and is
 * answered as a masked 500. This wraps whichever parser Yoga chose and answers such a request
 * with the 400 the GraphQL-over-HTTP spec asks for, naming the problem.
 */
export function useJsonParamsGuard(): Plugin {
  return {
    onRequestParse({ requestParser, setRequestParser }) {
      if (!requestParser) return;
      setRequestParser(async (request) => {
        try {
          return await requestParser(request);
        } catch (error) {
          if (!(error instanceof SyntaxError)) throw error;
          throw createGraphQLError(`A request parameter (variables, extensions or operations) is not valid JSON: ${error.message}`, {
            extensions: { code: 'BAD_REQUEST', http: { status: 400 } },
          });
        }
      });
    },
  };
}
