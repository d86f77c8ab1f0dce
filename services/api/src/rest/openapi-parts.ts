import { TASK_STATUSES } from '@tasklane/core';

/**
 * Pieces the route contracts share: references to the shared components (openapi-components.ts)
 * and the small shapes several operations repeat. Plain JSON, so a contract is its OpenAPI text.
 */

export const problemRef = { $ref: '#/components/schemas/Problem' } as const;
export const problemContent = { 'application/problem+json': { schema: problemRef } } as const;

/** A problem+json answer, described. */
export function problemResponse(description: string) {
  return { description, content: problemContent };
}

/** An `application/json` body of `schema`, with an example when given. */
export function jsonContent(schema: object, example?: unknown) {
  return { 'application/json': example === undefined ? { schema } : { schema, example } };
}

export const schemaRef = (name: string) => ({ $ref: `#/components/schemas/${name}` });
export const parameterRef = (name: string) => ({ $ref: `#/components/parameters/${name}` });

/** Timestamps as the REST layer writes them: seconds, UTC. */
export const timestamp = { type: 'string', format: 'date-time', pattern: '^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$', examples: ['2026-01-11T10:30:00Z'] } as const;
export const taskStatus = { type: 'string', enum: [...TASK_STATUSES] } as const;

/** IETF httpapi-ratelimit-headers draft; only when a submission limit is set. */
export const rateLimitHeaders = {
  'RateLimit-Policy': { description: 'The quota: "submit";q=<submissions>;w=<seconds>', schema: { type: 'string' } },
  RateLimit: { description: 'What is left: "submit";r=<remaining>;t=<seconds until the window turns>', schema: { type: 'string' } },
} as const;

/** The polling headers `sendTask` sets. */
export const taskHeaders = {
  ETag: { $ref: '#/components/headers/ETag' },
  'Cache-Control': { $ref: '#/components/headers/CacheControl' },
  'Retry-After': { $ref: '#/components/headers/RetryAfter' },
} as const;
