import { describe, expect, it } from 'vitest';
import { DEFAULT_GRAPHQL_LIMITS, DEFAULT_MAX_INPUT_BYTES, loadConfig } from '../src/index.ts';

describe('hardening settings', () => {
  it('defaults to a 1 MiB body, 64 KiB input, Armor limits, no extra origins and introspection on with auth off', () => {
    expect(loadConfig({}).hardening).toEqual({
      maxBodyBytes: 1024 * 1024,
      maxInputBytes: 64 * 1024,
      maxInputDepth: 32,
      graphql: { ...DEFAULT_GRAPHQL_LIMITS, introspection: true },
      allowedOrigins: [],
    });
    expect(DEFAULT_MAX_INPUT_BYTES).toBe(65536);
  });

  it('turns introspection off by default when auth is on, unless GRAPHQL_INTROSPECTION says otherwise', () => {
    expect(loadConfig({ AUTH: 'on' }).hardening.graphql.introspection).toBe(false);
    expect(loadConfig({ AUTH: 'on', GRAPHQL_INTROSPECTION: 'on' }).hardening.graphql.introspection).toBe(true);
    expect(loadConfig({ AUTH: 'off', GRAPHQL_INTROSPECTION: 'OFF' }).hardening.graphql.introspection).toBe(false);
  });

  it('reads every limit', () => {
    const { hardening } = loadConfig({
      MAX_BODY_BYTES: '2048',
      MAX_INPUT_BYTES: '1000',
      MAX_INPUT_DEPTH: '8',
      GRAPHQL_MAX_DEPTH: '4',
      GRAPHQL_MAX_COST: '100',
      GRAPHQL_MAX_ALIASES: '0',
      GRAPHQL_MAX_TOKENS: '50',
      GRAPHQL_MAX_DIRECTIVES: '3',
    });
    expect(hardening).toMatchObject({
      maxBodyBytes: 2048,
      maxInputBytes: 1000,
      maxInputDepth: 8,
      graphql: { maxDepth: 4, maxCost: 100, maxAliases: 0, maxTokens: 50, maxDirectives: 3 },
    });
  });

  it('normalizes ALLOWED_ORIGINS to bare origins', () => {
    expect(loadConfig({ ALLOWED_ORIGINS: ' https://App.example.com/ , http://localhost:5173,' }).hardening.allowedOrigins).toEqual([
      'https://app.example.com',
      'http://localhost:5173',
    ]);
  });

  it.each([
    [{ MAX_BODY_BYTES: '1k' }, 'Invalid MAX_BODY_BYTES="1k": expected a whole number from 1024 to 1073741824'],
    [{ MAX_INPUT_BYTES: '-5' }, 'Invalid MAX_INPUT_BYTES="-5": expected a whole number from 2 to 1073741824'],
    [{ MAX_INPUT_DEPTH: '0' }, 'Invalid MAX_INPUT_DEPTH="0": expected a whole number from 1 to 1000'],
    [{ GRAPHQL_MAX_DEPTH: '0' }, 'Invalid GRAPHQL_MAX_DEPTH="0": expected a whole number from 1 to 1000'],
    [{ GRAPHQL_MAX_TOKENS: 'lots' }, 'Invalid GRAPHQL_MAX_TOKENS="lots": expected a whole number from 10 to 1000000'],
    [{ GRAPHQL_INTROSPECTION: 'yes' }, 'Invalid GRAPHQL_INTROSPECTION="yes": expected one of on, off'],
    [{ ALLOWED_ORIGINS: 'https://a.example/app' }, 'Invalid ALLOWED_ORIGINS="https://a.example/app": expected a comma-separated list of origins'],
    [{ ALLOWED_ORIGINS: 'a.example' }, 'Invalid ALLOWED_ORIGINS="a.example": expected a comma-separated list of origins'],
    [{ ALLOWED_ORIGINS: 'ftp://a.example' }, 'Invalid ALLOWED_ORIGINS="ftp://a.example": expected a comma-separated list of origins'],
  ])('refuses %o with one clear line', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });
});
