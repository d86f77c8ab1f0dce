import type { ValueNode } from 'graphql';
import { GraphQLError, Kind } from 'graphql';
import type { JsonValue } from '@tasklane/core';
import { builder } from './builder.ts';

function badInput(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });
}

// RFC 3339 with a zone, as clients send it; a bare date or local time would be read in the
// server's zone, which is never what the caller meant.
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i;

function parseDateTime(value: unknown): Date {
  if (typeof value !== 'string' || !DATE_TIME.test(value)) {
    throw badInput('DateTime must be an RFC 3339 string with a time zone, such as 2026-01-11T10:30:00Z');
  }
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw badInput(`DateTime ${value} is not a real date`);
  return date;
}

export const DateTimeScalar = builder.scalarType('DateTime', {
  description: 'A UTC instant as an RFC 3339 string with milliseconds, e.g. 2026-01-11T10:30:00.000Z.',
  serialize: (value) => value.toISOString(),
  parseValue: parseDateTime,
  parseLiteral: (ast) => parseDateTime(ast.kind === Kind.STRING ? ast.value : undefined),
});

function literalToJson(ast: ValueNode, variables: Record<string, unknown> | null | undefined): JsonValue {
  switch (ast.kind) {
    case Kind.STRING:
    case Kind.ENUM:
      return ast.value;
    case Kind.BOOLEAN:
      return ast.value;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(ast.value);
    case Kind.NULL:
      return null;
    case Kind.LIST:
      return ast.values.map((v) => literalToJson(v, variables));
    case Kind.OBJECT:
      return Object.fromEntries(ast.fields.map((f) => [f.name.value, literalToJson(f.value, variables)]));
    case Kind.VARIABLE:
      return (variables?.[ast.name.value] ?? null) as JsonValue;
  }
}

export const JsonScalar = builder.scalarType('JSON', {
  description: 'Any JSON value: task input and handler results are free-form JSON.',
  serialize: (value) => value,
  parseValue: (value) => value as JsonValue,
  parseLiteral: (ast, variables) => literalToJson(ast, variables),
});
