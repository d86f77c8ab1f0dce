import type { GraphQLSchema } from 'graphql';
import { lexicographicSortSchema, printSchema } from './graphql-js.ts';
import { builder } from './builder.ts';
// Each module adds its types and fields to the builder when imported.
import './scalars.ts';
import './task-type.ts';
import './queue-stats-type.ts';
import './queries.ts';
import './mutations.ts';
import './subscriptions.ts';

export const schema: GraphQLSchema = builder.toSchema();

/** The SDL committed as `schema.graphql`: sorted, so it only changes when the API does. */
export function printSchemaSdl(): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
