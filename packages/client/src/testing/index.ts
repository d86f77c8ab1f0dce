// Helpers for tests that run against a live API (this package's and the CLI's). Node only, and
// never part of the main entry.
export { startApiProcess, type ApiProcess, type ApiProcessOptions } from './api-process.ts';
