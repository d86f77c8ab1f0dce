import { pendingOfKind, type KindStatus } from '@tasklane/db';
import type { AppContext } from './app-context.ts';
import { ForbiddenError } from './auth/forbidden-error.ts';
import { checkKindFilter } from './graphql/kind-filter.ts';
import type { Caller } from './request-scope.ts';

/** A kind as pause and resume answer it (REST and GraphQL): its status and its pending tasks. */
export interface KindState extends KindStatus {
  /** PENDING tasks of this kind, every owner's (only admins pause and resume). */
  pending: number;
}

/**
 * Pauses or resumes `kind` for the whole cluster, on every transport. Admin keys only (with
 * `AUTH=off` every caller is one); a kind nothing serves or declares is refused as on submit.
 */
export async function setKindPaused(ctx: AppContext, caller: Caller, kind: string, paused: boolean): Promise<KindState> {
  if (!caller.admin) throw ForbiddenError.adminOnly(paused ? 'pause a kind' : 'resume a kind');
  checkKindFilter([kind], 'kind');
  const status = paused ? await ctx.kinds.pause(kind, caller.owner) : await ctx.kinds.resume(kind);
  return { ...status, pending: await pendingOfKind(ctx.pool, kind) };
}
