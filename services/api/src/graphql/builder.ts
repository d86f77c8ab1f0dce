import SchemaBuilder from '@pothos/core';
import RelayPlugin from '@pothos/plugin-relay';
import type { JsonValue } from '@tasklane/core';
import type { GraphqlContext } from './context.ts';

/**
 * The one Pothos builder of the API schema. Relay global ids are the task ids themselves: they
 * are already unique across the whole system and carry their kind as a prefix (`vid_…`), so a
 * client can use the same string with `task(id)`, `node(id)`, REST and the CLI. Task is the only
 * Node type; a second one would need ids that cannot be mistaken for task ids.
 */
export const builder = new SchemaBuilder<{
  Context: GraphqlContext;
  // Fields are non-null unless marked: a field that can fail on its own (a lookup, a mutation)
  // says `nullable: true`, so an error there does not null its parent.
  DefaultFieldNullability: false;
  DefaultEdgesNullability: false;
  DefaultNodeNullability: false;
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    JSON: { Input: JsonValue; Output: unknown };
  };
}>({
  defaultFieldNullability: false,
  plugins: [RelayPlugin],
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    nodesQueryOptions: false,
    edgesFieldOptions: { nullable: false },
    nodeFieldOptions: { nullable: false },
    encodeGlobalID: (_typename, id) => String(id),
    decodeGlobalID: (globalID) => ({ typename: 'Task', id: globalID }),
  },
});
