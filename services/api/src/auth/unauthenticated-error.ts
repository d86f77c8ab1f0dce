import { TasklaneError } from '@tasklane/core';
import { STREAM_TOKEN_SECONDS } from './stream-token.ts';

/**
 * No usable API key. `missing`: none was presented (graphql-ws closes 4401); `rejected`: one was
 * presented but is malformed, unknown or revoked (4403). Over HTTP both are 401.
 */
export class UnauthenticatedError extends TasklaneError {
  constructor(
    readonly reason: 'missing' | 'rejected',
    message: string,
  ) {
    super('UNAUTHENTICATED', message);
  }

  static missing(): UnauthenticatedError {
    return new UnauthenticatedError('missing', 'Authentication required: send "Authorization: Bearer <API key>"; create a key with `tasklane keys create`');
  }

  static rejected(): UnauthenticatedError {
    // One message for malformed, unknown and revoked keys: which of them it was helps only an attacker.
    return new UnauthenticatedError('rejected', 'The API key is not valid: it is malformed, unknown or revoked');
  }

  static streamTokenRejected(): UnauthenticatedError {
    return new UnauthenticatedError(
      'rejected',
      `The stream token is not valid for this task: it is malformed, expired (tokens last ${STREAM_TOKEN_SECONDS} s) or its key was revoked; get a new one with POST /api/v1/tasks/{task_id}/stream-token`,
    );
  }
}

/** RFC 6750's challenge: `invalid_token` only when a token was presented. */
export function bearerChallenge(error: UnauthenticatedError): string {
  return error.reason === 'missing' ? 'Bearer realm="tasklane"' : 'Bearer realm="tasklane", error="invalid_token"';
}
