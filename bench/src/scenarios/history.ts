import type { Scenario } from '../types.ts';
export const history: Scenario = async () => {};
