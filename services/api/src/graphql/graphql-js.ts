/**
 * The graphql-js values this package uses, imported from the CommonJS entry on purpose. graphql 16
 * ships a CommonJS (`index.js`) and an ES module (`index.mjs`) build of itself; Node loads the
 * former for Pothos, Yoga and graphql-ws, but Vite (vitest) would pick the latter for our own
 * sources, and graphql-js refuses to mix types and errors from two copies ("Cannot use
 * GraphQLScalarType from another module or realm"). Naming the file makes every loader agree.
 * Types may still come from 'graphql': they are the same declarations.
 */
export { execute, getOperationAST, GraphQLError, GraphQLObjectType, Kind, lexicographicSortSchema, NoSchemaIntrospectionCustomRule, printSchema } from 'graphql/index.js';
