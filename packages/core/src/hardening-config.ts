import { ConfigError } from './errors.ts';
import { DEFAULT_MAX_INPUT_DEPTH, MAX_INPUT_DEPTH_CEILING } from './input-shape.ts';
import { DEFAULT_MAX_INPUT_BYTES } from './validate.ts';

type Env = Record<string, string | undefined>;

/** Limits on what one GraphQL document may ask for (GraphQL Armor), checked before it runs. */
export interface GraphqlLimits {
  /** Deepest field nesting. @default 10 */
  maxDepth: number;
  /**
   * Armor's cost estimate: objects and scalars weighted by depth, times a literal `first`. The
   * default admits one full page (`first: 1000`) of every task field, and not several.
   * @default 250000
   */
  maxCost: number;
  /** Aliased fields per document. @default 15 */
  maxAliases: number;
  /** Lexical tokens per document, counted while parsing. @default 1000 */
  maxTokens: number;
  /** Directives per document. @default 50 */
  maxDirectives: number;
  /** Whether `__schema`/`__type` may be queried (and GraphiQL is served). */
  introspection: boolean;
}

/** Size limits, GraphQL limits and the browser origins allowed to call the API. */
export interface HardeningSettings {
  /** Largest request body (REST and GraphQL) and WebSocket message. @default 1 MiB */
  maxBodyBytes: number;
  /** Largest task `input`, as serialized JSON. @default 64 KiB */
  maxInputBytes: number;
  /** Deepest nesting of arrays and objects in a task `input` (`{}` is 1). @default 32 */
  maxInputDepth: number;
  graphql: GraphqlLimits;
  /**
   * Origins (`https://app.example.com`) besides the server's own that browsers may call from.
   * Requests without an `Origin` (curl, SDKs, workers) are not affected.
   */
  allowedOrigins: string[];
}

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

export const DEFAULT_GRAPHQL_LIMITS = {
  maxDepth: 10,
  maxCost: 250_000,
  maxAliases: 15,
  maxTokens: 1000,
  maxDirectives: 50,
} as const;

function read(env: Env, name: string): string | undefined {
  const trimmed = env[name]?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

function whole(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(name, raw, `a whole number from ${min} to ${max}`);
  }
  return value;
}

function onOff(env: Env, name: string, fallback: boolean): boolean {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  const value = raw.toLowerCase();
  if (value !== 'on' && value !== 'off') throw new ConfigError(name, raw, 'one of on, off');
  return value === 'on';
}

/** `https://a.example, http://localhost:5173`: each an origin alone (scheme, host, optional port). */
function origins(env: Env, name: string): string[] {
  const raw = read(env, name);
  if (raw === undefined) return [];
  return raw
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '')
    .map((item) => {
      let parsed: URL | undefined;
      try {
        parsed = new URL(item);
      } catch {
        parsed = undefined;
      }
      const bare = parsed && parsed.pathname === '/' && !parsed.search && !parsed.hash && !parsed.username;
      if (!parsed || !bare || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
        throw new ConfigError(name, raw, 'a comma-separated list of origins such as https://app.example.com,http://localhost:5173 (no paths)');
      }
      return parsed.origin;
    });
}

/** Reads the hardening settings; `auth` decides the introspection default. */
export function readHardening(env: Env, auth: 'on' | 'off'): HardeningSettings {
  const maxBodyBytes = whole(env, 'MAX_BODY_BYTES', DEFAULT_MAX_BODY_BYTES, 1024, 1024 * 1024 * 1024);
  return {
    maxBodyBytes,
    maxInputBytes: whole(env, 'MAX_INPUT_BYTES', DEFAULT_MAX_INPUT_BYTES, 2, 1024 * 1024 * 1024),
    maxInputDepth: whole(env, 'MAX_INPUT_DEPTH', DEFAULT_MAX_INPUT_DEPTH, 1, MAX_INPUT_DEPTH_CEILING),
    graphql: {
      maxDepth: whole(env, 'GRAPHQL_MAX_DEPTH', DEFAULT_GRAPHQL_LIMITS.maxDepth, 1, 1000),
      maxCost: whole(env, 'GRAPHQL_MAX_COST', DEFAULT_GRAPHQL_LIMITS.maxCost, 1, 100_000_000),
      maxAliases: whole(env, 'GRAPHQL_MAX_ALIASES', DEFAULT_GRAPHQL_LIMITS.maxAliases, 0, 100_000),
      maxTokens: whole(env, 'GRAPHQL_MAX_TOKENS', DEFAULT_GRAPHQL_LIMITS.maxTokens, 10, 1_000_000),
      maxDirectives: whole(env, 'GRAPHQL_MAX_DIRECTIVES', DEFAULT_GRAPHQL_LIMITS.maxDirectives, 0, 100_000),
      // With auth off the API is a local playground and the schema is public in the repository
      // anyway; with auth on, an anonymous caller should not get a map of the API for free.
      introspection: onOff(env, 'GRAPHQL_INTROSPECTION', auth === 'off'),
    },
    allowedOrigins: origins(env, 'ALLOWED_ORIGINS'),
  };
}
