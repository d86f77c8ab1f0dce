import { fileURLToPath } from 'node:url';
import { codegenConfig } from './codegen-config.ts';

export default codegenConfig(fileURLToPath(new URL('.', import.meta.url)));
