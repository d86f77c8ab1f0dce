import type { Scenario } from '../types.ts';
export const fanout: Scenario = async () => {};
