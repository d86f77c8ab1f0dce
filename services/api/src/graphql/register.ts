import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../app-context.ts';

/** Mounts GraphQL (HTTP, graphql-ws, SSE) on `/graphql`. */
export async function registerGraphql(_app: FastifyInstance, _ctx: AppContext): Promise<void> {}
