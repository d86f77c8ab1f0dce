import { ConfigError, DEFAULT_RATE_LIMITS, loadConfig } from '@tasklane/core';
import { describe, expect, it } from 'vitest';

describe('rate limit settings', () => {
  it('leaves the quick start (auth off) unlimited unless limits are set', () => {
    expect(loadConfig({}).rateLimits).toEqual({ submissionsPerMinute: 0, subscriptions: 0, store: 'postgres', slotTtlSeconds: 30 });
  });

  it('applies the default limits when auth is on', () => {
    expect(loadConfig({ AUTH: 'on' }).rateLimits).toEqual({ ...DEFAULT_RATE_LIMITS, store: 'postgres', slotTtlSeconds: 30 });
  });

  it('takes explicit limits with auth on or off, 0 meaning unlimited', () => {
    const env = { RATE_LIMIT_SUBMISSIONS_PER_MINUTE: '30', RATE_LIMIT_SUBSCRIPTIONS: '0' };
    expect(loadConfig(env).rateLimits).toMatchObject({ submissionsPerMinute: 30, subscriptions: 0 });
    expect(loadConfig({ ...env, AUTH: 'on' }).rateLimits).toMatchObject({ submissionsPerMinute: 30, subscriptions: 0 });
  });

  it.each([
    ['RATE_LIMIT_SUBMISSIONS_PER_MINUTE', '-1'],
    ['RATE_LIMIT_SUBMISSIONS_PER_MINUTE', '1.5'],
    ['RATE_LIMIT_SUBSCRIPTIONS', 'lots'],
    ['RATE_LIMIT_STORE', 'memcached'],
    ['RATE_LIMIT_SLOT_TTL_SECONDS', '1'],
  ])('refuses %s=%s with an error naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(`Invalid ${name}=`);
  });

  it('takes how long a dead replica\'s subscription slots keep counting', () => {
    expect(loadConfig({ RATE_LIMIT_SLOT_TTL_SECONDS: '8' }).rateLimits.slotTtlSeconds).toBe(8);
  });

  it('needs REDIS_URL for the Redis store', () => {
    expect(() => loadConfig({ RATE_LIMIT_STORE: 'redis' })).toThrow('Invalid REDIS_URL="": expected a redis:// URL when RATE_LIMIT_STORE=redis');
    expect(loadConfig({ RATE_LIMIT_STORE: 'redis', REDIS_URL: 'redis://127.0.0.1:6379' }).rateLimits.store).toBe('redis');
  });
});
