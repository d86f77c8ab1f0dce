import type { FastifyInstance, FastifyReply } from 'fastify';
import { formatTimestamp } from '@tasklane/core';
import type { AppContext } from '../app-context.ts';
import { setKindPaused, type KindState } from '../kind-pause.ts';
import { pauseKindOperation, resumeKindOperation } from './kind-contract.ts';
import { contract } from './route-contract.ts';
import { JSON_CONTENT_TYPE } from './send-task.ts';

interface KindParams {
  kind: string;
}

/** A kind's state in the REST layer's snake case. */
export interface KindBody {
  kind: string;
  paused: boolean;
  paused_at: string | null;
  live_workers: number;
  registered: boolean;
  declared: boolean;
  pending: number;
}

export function kindBody(state: KindState): KindBody {
  return {
    kind: state.kind,
    paused: state.paused,
    paused_at: state.pausedAt ? formatTimestamp(state.pausedAt) : null,
    live_workers: state.liveWorkers,
    registered: state.registered,
    declared: state.declared,
    pending: state.pending,
  };
}

function sendKind(reply: FastifyReply, state: KindState): FastifyReply {
  return reply.code(200).header('content-type', JSON_CONTENT_TYPE).send(JSON.stringify(kindBody(state)));
}

/** Pausing and resuming a kind for the whole cluster (admin keys only). */
export function registerKindRoutes(api: FastifyInstance, ctx: AppContext): void {
  api.post<{ Params: KindParams }>('/v1/kinds/:kind/pause', contract(pauseKindOperation), async (request, reply) =>
    sendKind(reply, await setKindPaused(ctx, request.caller, request.params.kind, true)),
  );
  api.post<{ Params: KindParams }>('/v1/kinds/:kind/resume', contract(resumeKindOperation), async (request, reply) =>
    sendKind(reply, await setKindPaused(ctx, request.caller, request.params.kind, false)),
  );
}
