import type { GraphQLSchema } from 'graphql';
import type { Task } from '@tasklane/core';
import { GraphQLObjectType, lexicographicSortSchema, printSchema } from 'graphql';
import { builder } from './builder.ts';
// Each module adds its types and fields to the builder when imported.
import './scalars.ts';
import './task-type.ts';
import './queue-stats-type.ts';
import './queries.ts';
import './mutations.ts';
import './webhook-types.ts';
import './task-attempt-type.ts';
import './operations.ts';
import './kind-mutations.ts';
import './subscriptions.ts';

export const schema: GraphQLSchema = builder.toSchema();

/**
 * Pothos's relay plugin resolves every node's `id` through an async function, which makes the
 * execution of any selection holding a task asynchronous: a promise per task in every list, every
 * read and every subscription event. Our global ids are the task ids themselves (see
 * `encodeGlobalID` in builder.ts), so the field is resolved synchronously instead; the result is
 * the same, and `test/graphql/task-type.test.ts` checks that it stays so.
 */
function resolveTaskIdSynchronously(built: GraphQLSchema): void {
  const taskType = built.getType('Task');
  if (!(taskType instanceof GraphQLObjectType)) throw new Error('schema has no Task object type');
  const id = taskType.getFields().id;
  if (!id) throw new Error('Task has no id field');
  id.resolve = (task: Task) => task.id;
}
resolveTaskIdSynchronously(schema);

/** The SDL committed as `schema.graphql`: sorted, so it only changes when the API does. */
export function printSchemaSdl(): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
