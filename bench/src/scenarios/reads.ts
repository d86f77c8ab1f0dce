import type { Scenario } from '../types.ts';
export const reads: Scenario = async () => {};
