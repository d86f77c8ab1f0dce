// Writes schema.graphql from the Pothos builder: `pnpm codegen`. The file is committed so that
// clients generate their types from it, and a test fails when it drifts from the code.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { printSchemaSdl } from '../src/graphql/schema.ts';

const target = fileURLToPath(new URL('../schema.graphql', import.meta.url));
writeFileSync(target, printSchemaSdl());
console.log(`wrote ${target}`);
