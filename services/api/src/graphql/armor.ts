import { blockFieldSuggestionsPlugin } from '@escape.tech/graphql-armor-block-field-suggestions';
import { costLimitPlugin } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesPlugin } from '@escape.tech/graphql-armor-max-directives';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import type { GraphqlLimits } from '@tasklane/core';
import type { ValidationContext } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { GraphQLError } from 'graphql';

type Rejection = (context: ValidationContext | null, error: GraphQLError) => void;

/**
 * Armor words its errors "Syntax Error: Query depth limit of 10 exceeded, found 12." even for
 * validation rules. This states the limit, the found value and the setting that raises it; Yoga
 * then marks it GRAPHQL_VALIDATION_FAILED (400) like any other invalid document. Parsing has no
 * validation context to report to, so the token limit throws (a 400 GRAPHQL_PARSE_FAILED).
 */
function rejectWith(setting: string): { onReject: Rejection[]; propagateOnRejection: false } {
  return {
    propagateOnRejection: false,
    onReject: [
      (context, error) => {
        const reason = error.message.replace(/^Syntax Error: /, '').replace(/\.$/, '');
        const rewritten = new GraphQLError(`${reason}; simplify the operation or raise ${setting}`, {
          extensions: { limit: setting },
        });
        if (context) context.reportError(rewritten);
        else throw new GraphQLError(`Syntax Error: ${rewritten.message}`, { extensions: { limit: setting } });
      },
    ],
  };
}

/**
 * The document limits of GraphQL Armor as Yoga plugins. They hook parse and validate, which every
 * transport runs through Yoga's envelop (HTTP, SSE and graphql-ws alike), so no operation skips
 * them. Introspection is exempt from depth and cost: GraphiQL's schema query is deep by nature and
 * is governed by `GRAPHQL_INTROSPECTION` instead.
 */
export function useArmor(limits: GraphqlLimits): Plugin[] {
  const plugins: Plugin[] = [
    maxTokensPlugin({ n: limits.maxTokens, ...rejectWith('GRAPHQL_MAX_TOKENS') }),
    maxDepthPlugin({ n: limits.maxDepth, ignoreIntrospection: true, ...rejectWith('GRAPHQL_MAX_DEPTH') }),
    costLimitPlugin({ maxCost: limits.maxCost, ignoreIntrospection: true, ...rejectWith('GRAPHQL_MAX_COST') }),
    maxAliasesPlugin({ n: limits.maxAliases, ...rejectWith('GRAPHQL_MAX_ALIASES') }),
    maxDirectivesPlugin({ n: limits.maxDirectives, ...rejectWith('GRAPHQL_MAX_DIRECTIVES') }),
  ] as Plugin[];
  // "Did you mean …?" would let a caller rebuild the schema that introspection is hiding.
  if (!limits.introspection) plugins.push(blockFieldSuggestionsPlugin() as Plugin);
  return plugins;
}
