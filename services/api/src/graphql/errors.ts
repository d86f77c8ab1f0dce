import { GraphQLError } from 'graphql';
import { maskError as yogaMaskError, type MaskError } from 'graphql-yoga';
import { TasklaneError, ValidationError, isPublicErrorCode, type ServerErrorCode } from '@tasklane/core';
import { DATABASE_RETRY_AFTER_SECONDS, DATABASE_UNAVAILABLE_MESSAGE, isDatabaseUnavailable } from '../database-unavailable.ts';
import { rateLimitExtensions } from '../rate-limit/graphql-rate-limit.ts';

/**
 * The GraphQL form of a client-facing `TasklaneError`, or undefined for anything else. A lost lease, an invalid transition and the like are the server's problem: Yoga masks them as
 * "Unexpected error." and logs them. Only the codes core lists as public reach clients.
 */
export function publicError(error: unknown, located?: GraphQLError): GraphQLError | undefined {
  if (!(error instanceof TasklaneError) || !isPublicErrorCode(error.code)) return undefined;
  const extensions: Record<string, unknown> = { code: error.code, ...rateLimitExtensions(error) };
  if (error instanceof ValidationError) extensions['field'] = error.field;
  return new GraphQLError(error.message, {
    nodes: located?.nodes,
    source: located?.source,
    positions: located?.positions,
    path: located?.path,
    originalError: error,
    extensions,
  });
}

/**
 * Yoga's `maskedErrors.maskError`: resolvers throw the domain errors of `@tasklane/core` and this
 * turns the public ones into errors with `extensions.code` (and `extensions.field` for bad input);
 * the rest are masked by Yoga's default.
 */
export const maskError: MaskError = (error, message, isDev) => {
  const original = error instanceof GraphQLError ? (error.originalError ?? error) : error;
  // A database outage is not a bug: say so (503 over HTTP, with Retry-After) so clients retry.
  if (isDatabaseUnavailable(original)) return unavailableError(error instanceof GraphQLError ? error : undefined);
  return publicError(original, error instanceof GraphQLError ? error : undefined) ?? yogaMaskError(error, message, isDev);
};

function unavailableError(located: GraphQLError | undefined): GraphQLError {
  return new GraphQLError(DATABASE_UNAVAILABLE_MESSAGE, {
    nodes: located?.nodes,
    source: located?.source,
    positions: located?.positions,
    path: located?.path,
    extensions: {
      code: 'UNAVAILABLE' satisfies ServerErrorCode,
      // Yoga turns these into the HTTP status and headers of the response.
      http: { status: 503, headers: { 'retry-after': String(DATABASE_RETRY_AFTER_SECONDS) } },
    },
  });
}
