export { builtInHandlers, imageHandler, videoHandler } from './handlers/index.ts';
export { createJsonLogger, type JsonLoggerOptions } from './json-logger.ts';
