import type { Plugin } from 'graphql-yoga';
import { NoSchemaIntrospectionCustomRule } from 'graphql';

/**
 * Refuses `__schema` and `__type` (GRAPHQL_INTROSPECTION=off) as a validation error naming the
 * field, on every transport. `__typename` stays allowed: clients need it to tell types apart.
 */
export function useDisableIntrospection(): Plugin {
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(NoSchemaIntrospectionCustomRule);
    },
  };
}
