import { TasklaneError } from '@tasklane/core';

/**
 * A valid key used for what its role does not allow: a worker key outside the worker protocol, an
 * owner's key inside it, or a worker key asking for kinds it was not given. HTTP 403; sockets 4403.
 */
export class ForbiddenError extends TasklaneError {
  constructor(message: string) {
    super('FORBIDDEN', message);
  }

  static workerKeyOutsideProtocol(): ForbiddenError {
    return new ForbiddenError('A worker key may only use the worker protocol (/api/v1/workers/…); use an owner key (`tasklane keys create --owner <name>`) for this');
  }

  static notAWorkerKey(): ForbiddenError {
    return new ForbiddenError("An owner's key cannot act as a worker: create a worker key with `tasklane keys create --worker [--kinds video,image]`");
  }

  /** An owner's key asking for what only an admin key (`tasklane keys create --admin`) may do. */
  static adminOnly(action: string): ForbiddenError {
    return new ForbiddenError(`Only an admin key may ${action}; create one with \`tasklane keys create --owner <name> --admin\``);
  }

  static kindsNotAllowed(kinds: readonly string[], allowed: readonly string[]): ForbiddenError {
    return new ForbiddenError(`This worker key may not claim ${kinds.join(', ')}: it serves only ${allowed.join(', ')}`);
  }
}
