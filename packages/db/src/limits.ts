// Rate limits and API keys: what the API uses and a worker never does. The Redis limiter is loaded
// only when RATE_LIMIT_STORE=redis asks for it.
export * from './api-key-store.ts';
export * from './rate-limit.ts';
export * from './rate-limit-postgres.ts';
export * from './rate-limit-choice.ts';
