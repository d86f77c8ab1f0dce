import { DEFAULT_OWNER } from '@tasklane/core';
import type { Scope } from '@tasklane/db';
import type { AppContext } from './app-context.ts';
import type { VerifiedKey } from './auth/key-verifier.ts';
import { ForbiddenError } from './auth/forbidden-error.ts';
import { UnauthenticatedError } from './auth/unauthenticated-error.ts';

/** What the worker protocol lets a caller do. */
export interface WorkerGrant {
  /** The worker key's id, which prefixes its workers' lease owners; null with auth off. */
  keyId: string | null;
  /** Kinds it may claim; null for any. */
  kinds: readonly string[] | null;
}

/** Who is calling, resolved once per request (or per WebSocket connection) on every transport. */
export interface Caller {
  /** The key's owner, or DEFAULT_OWNER (core) when auth is off. Rate limits count per owner. */
  owner: string;
  admin: boolean;
  /** What to pass to every TaskStore/TaskFeed call: {} for an admin or auth off, { owner } otherwise. */
  scope: Scope;
  /** The API key's id (stream tokens are minted with it); undefined when auth is off. */
  keyId?: string;
  /** Set for worker keys, and for everyone with auth off (the protocol is open then). */
  worker: WorkerGrant | null;
}

/** Every request when `AUTH=off`: the default owner, seeing every task. */
export const AUTH_OFF_CALLER: Caller = Object.freeze({
  owner: DEFAULT_OWNER,
  admin: true,
  scope: Object.freeze({}),
  worker: Object.freeze({ keyId: null, kinds: null }),
});

export interface AuthenticateOptions {
  /** The request is part of the worker protocol: only worker keys may make it. @default false */
  asWorker?: boolean;
}

/** The key in `Bearer <key>`; undefined when there is no header at all. Throws for any other scheme. */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (authorization === undefined || authorization.trim() === '') return undefined;
  const match = /^\s*Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!match) throw UnauthenticatedError.rejected();
  return match[1];
}

/**
 * Resolves an `Authorization` header to its caller. Throws `UnauthenticatedError` (code
 * UNAUTHENTICATED) for a missing, malformed, unknown or revoked key when `AUTH=on`, and
 * `ForbiddenError` for a key of the wrong role (a worker key anywhere but the worker protocol, an
 * owner's or admin key in it); with auth off every request is {@link AUTH_OFF_CALLER} and the
 * database is not asked.
 */
export async function authenticate(ctx: AppContext, authorization: string | undefined, { asWorker = false }: AuthenticateOptions = {}): Promise<Caller> {
  if (ctx.config.auth === 'off') return AUTH_OFF_CALLER;
  const token = bearerToken(authorization);
  if (token === undefined) throw UnauthenticatedError.missing();
  const key = await ctx.keys.verify(token);
  if (key.worker !== asWorker) throw key.worker ? ForbiddenError.workerKeyOutsideProtocol() : ForbiddenError.notAWorkerKey();
  return callerFor(key);
}

/** The caller a verified key (or a stream token minted with it) speaks for. */
export function callerFor(key: VerifiedKey): Caller {
  if (key.worker) return { owner: key.owner, admin: false, scope: { owner: key.owner }, keyId: key.id, worker: { keyId: key.id, kinds: key.kinds } };
  return { owner: key.owner, admin: key.admin, scope: key.admin ? {} : { owner: key.owner }, keyId: key.id, worker: null };
}
