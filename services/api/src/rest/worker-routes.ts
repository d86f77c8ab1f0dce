import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { formatTimestamp, LeaseLostError, type Task } from '@tasklane/core';
import type { WorkerStore } from '@tasklane/db';
import type { AppContext } from '../app-context.ts';
import { ForbiddenError } from '../auth/forbidden-error.ts';
import { HttpWorkers } from '../workers/http-workers.ts';
import { problemFromError, sendProblem } from './problem.ts';
import { contract } from './route-contract.ts';
import { JSON_CONTENT_TYPE } from './send-task.ts';
import { claimOperation, completeOperation, failOperation, heartbeatOperation, progressOperation, releaseOperation } from './worker-contract.ts';
import { parseClaim, parseComplete, parseFail, parseHeartbeat, parseProgress, parseRelease, parseWorkerId } from './worker-bodies.ts';

interface WorkerParams {
  worker_id: string;
}

interface TaskParams extends WorkerParams {
  task_id: string;
}

/** What a worker gets of a claimed task: what it needs to run it and to fence its writes. */
export function claimedTaskBody(task: Task) {
  return {
    task_id: task.id,
    kind: task.kind,
    attempt: task.attempts,
    max_attempts: task.maxAttempts,
    service: task.service,
    input: task.input,
    priority: task.priority,
    owner: task.owner,
    created_at: formatTimestamp(task.createdAt),
  };
}

function send(reply: FastifyReply, body: unknown): FastifyReply {
  return reply.code(200).header('content-type', JSON_CONTENT_TYPE).send(JSON.stringify(body));
}

/** An AbortSignal that fires when the client goes away before it has its answer. */
function clientGone(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  // The response closes when it was sent too; by then nobody is waiting on the signal.
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return controller.signal;
}

/**
 * The HTTP worker protocol under `/api/v1/workers/{worker_id}/`: the TypeScript SDK's claim,
 * heartbeat, progress, complete, fail and release through the same WorkerStore statements, so
 * caps, leases, retries and fencing are the same. The lease owner is the worker id under the
 * caller's key; a worker key claims only its kinds, and since every write is fenced on the lease
 * owner it can write only what it claimed.
 */
export function registerWorkerRoutes(api: FastifyInstance, ctx: AppContext): void {
  const storeFor = (request: FastifyRequest<{ Params: WorkerParams }>): WorkerStore => {
    const grant = request.caller.worker;
    if (!grant) throw ForbiddenError.notAWorkerKey();
    return ctx.workers.store(HttpWorkers.leaseOwner(grant.keyId, parseWorkerId(request.params.worker_id)));
  };

  /** 409 with the task's status now, so the worker can tell a cancel from a lost lease. */
  const leaseLost = async (reply: FastifyReply, id: string, attempt: number) => {
    const task = await ctx.store.get(id);
    const body = problemFromError(new LeaseLostError(id));
    body.detail = `This worker no longer holds attempt ${attempt} of task ${id}: it was ${task?.status === 'cancelled' ? 'cancelled' : 'taken back (lease expired, or already finished)'}; stop working on it. Nothing was changed.`;
    return sendProblem(reply, { ...body, task_id: id, task_status: task?.status ?? null });
  };

  api.post<{ Params: WorkerParams }>('/v1/workers/:worker_id/claim', contract(claimOperation), async (request, reply) => {
    const store = storeFor(request);
    const claim = parseClaim(request.body);
    const allowed = request.caller.worker!.kinds;
    if (allowed) {
      const refused = claim.kinds.filter((k) => !allowed.includes(k));
      if (refused.length > 0) throw ForbiddenError.kindsNotAllowed(refused, allowed);
    }
    const gone = clientGone(reply);
    const tasks = await ctx.workers.claim(store, claim.max, claim.kinds, claim.wait, gone);
    if (gone.aborted && tasks.length > 0) {
      // Nobody will run them: give them back without spending their attempt.
      await store.release(tasks.map((t) => ({ id: t.id, attempt: t.attempts })));
      return reply;
    }
    return send(reply, { lease_seconds: ctx.workers.leaseSeconds, tasks: tasks.map(claimedTaskBody) });
  });

  api.post<{ Params: WorkerParams }>('/v1/workers/:worker_id/heartbeat', contract(heartbeatOperation), async (request, reply) => {
    const store = storeFor(request);
    const { held, wait } = parseHeartbeat(request.body);
    const report = await ctx.workers.heartbeat(store, held, wait, clientGone(reply));
    return send(reply, { lease_seconds: ctx.workers.leaseSeconds, ...report });
  });

  api.post<{ Params: WorkerParams }>('/v1/workers/:worker_id/release', contract(releaseOperation), async (request, reply) => {
    const store = storeFor(request);
    const held = parseRelease(request.body);
    return send(reply, { released: await store.release(held) });
  });

  api.post<{ Params: TaskParams }>('/v1/workers/:worker_id/tasks/:task_id/progress', contract(progressOperation), async (request, reply) => {
    const store = storeFor(request);
    const { attempt, progress, message } = parseProgress(request.body);
    const id = request.params.task_id;
    if (!(await store.progress({ id, attempt }, progress, message))) return leaseLost(reply, id, attempt);
    return send(reply, { task_id: id, status: 'processing' });
  });

  api.post<{ Params: TaskParams }>('/v1/workers/:worker_id/tasks/:task_id/complete', contract(completeOperation), async (request, reply) => {
    const store = storeFor(request);
    const { attempt, result, service } = parseComplete(request.body);
    const id = request.params.task_id;
    if (!(await ctx.workers.complete(store, { id, attempt, result, service }))) return leaseLost(reply, id, attempt);
    return send(reply, { task_id: id, status: 'completed' });
  });

  api.post<{ Params: TaskParams }>('/v1/workers/:worker_id/tasks/:task_id/fail', contract(failOperation), async (request, reply) => {
    const store = storeFor(request);
    const { attempt, error, progress } = parseFail(request.body);
    const id = request.params.task_id;
    const status = await store.fail({ id, attempt, error, ...(progress === undefined ? {} : { progress }) });
    if (status === undefined) return leaseLost(reply, id, attempt);
    return send(reply, { task_id: id, status, will_retry: status === 'pending' });
  });
}

