// Everything that talks to Redis. ioredis is an optional peer dependency: install it to use this entry.
export * from './redis-event-bus.ts';
export * from './create-event-bus.ts';
export * from './rate-limit-redis.ts';
