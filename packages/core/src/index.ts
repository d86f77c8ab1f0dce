export * from './status.ts';
export * from './task.ts';
export * from './errors.ts';
export * from './ids.ts';
export * from './config.ts';
export * from './validate.ts';
export * from './hardening-config.ts';
export * from './listen-problem.ts';
