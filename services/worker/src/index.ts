export { builtInHandlers, imageHandler, videoHandler } from './handlers/index.ts';
