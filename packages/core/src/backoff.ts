/**
 * Delay before retry `attempt` (1-based): exponential from `baseMs`, capped at `maxMs`, with
 * "full jitter" between half and all of it so that many failed tasks do not return in lockstep.
 */
export function retryDelayMs(attempt: number, baseMs = 1000, maxMs = 5 * 60_000, random: () => number = Math.random): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp / 2 + random() * (exp / 2));
}
