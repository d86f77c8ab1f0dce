import type { Scenario } from '../types.ts';
export const longRunning: Scenario = async () => {};
