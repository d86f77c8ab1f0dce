export * from './app-context.ts';
export * from './create-app-context.ts';
export * from './server.ts';
