/**
 * A REST route's contract: its OpenAPI Operation Object (parameters, request body, responses,
 * with descriptions and examples), declared once beside the route and passed to Fastify as
 * `config.openapi`. The document's `paths` are generated from these (openapi-paths.ts), and the
 * route's parser reads its field lists and limits from the same schemas.
 *
 * Why not Fastify's `schema` option (AJV): the REST answers to a bad request are a legacy
 * contract, byte for byte: which field is named first, and the words of each rule (`kind: is
 * required, e.g. "video"`, the allowed submit fields listed, ...). AJV's messages and its
 * order of checks differ, and its defaults (coercing types, removing unknown properties) would
 * quietly accept what is refused now. So the parsers keep validating, driven by the schema.
 */
export type OpenApiOperation = Readonly<Record<string, unknown>>;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** This route's OpenAPI operation; every route under `/api` has one. */
    openapi?: OpenApiOperation;
  }
}

/** Route options that carry `operation`, merged with a route's other config. */
export function contract(operation: OpenApiOperation, config: { corsRequestHeaders?: readonly string[] } = {}) {
  return { config: { ...config, openapi: operation } };
}
