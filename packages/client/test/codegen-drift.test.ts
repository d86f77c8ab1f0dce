import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { generate } from '@graphql-codegen/cli';
import { expect, it } from 'vitest';
import { codegenConfig, GENERATED_FILE } from '../codegen-config.ts';

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));

it('matches what codegen makes from the committed schema.graphql and the operations', async () => {
  // The same configuration as `pnpm codegen`, generated in memory instead of written.
  const outputs = (await generate(codegenConfig(PACKAGE_DIR), false)) as { filename: string; content: string }[];
  expect(outputs.map((o) => o.filename)).toEqual([GENERATED_FILE]);
  const committed = readFileSync(new URL(`../${GENERATED_FILE}`, import.meta.url), 'utf8');
  expect(
    outputs[0]!.content === committed,
    `packages/client/${GENERATED_FILE} is out of date with services/api/schema.graphql or src/operations: run \`pnpm codegen\` and commit it`,
  ).toBe(true);
});
