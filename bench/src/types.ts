/** What one scenario reports: its own figures, the peers' figures measured in the same run, and ratios. */
export interface ScenarioResult {
  name: string;
  status: 'ok' | 'skipped' | 'error';
  /** Why it was skipped, or what broke. */
  reason?: string;
  /** Tasklane's figures (units in the key: `_per_s`, `_ms`, `_kb`). */
  figures: Record<string, number>;
  /** Peer or baseline name → its figures, same keys where comparable. */
  peers: Record<string, Record<string, number>>;
  ratios: Ratio[];
  /** Parameters the scenario ran with (N, slots, durations). */
  params: Record<string, number | string | boolean>;
  notes: string[];
  seconds: number;
}

export interface Ratio {
  name: string;
  value: number;
  /** The target in words, e.g. ">= 1.25". */
  target: string;
  met: boolean;
}

export interface BenchContext {
  quick: boolean;
  /** Creates a fresh, migrated database for one scenario; returns its URL. */
  freshDatabase(label: string): Promise<string>;
  /** The admin URL of the server (database `postgres`). */
  adminUrl: string;
  log(message: string): void;
}

export type Scenario = (ctx: BenchContext, result: ScenarioResult) => Promise<void>;

export class SkipScenario extends Error {}

export function ratio(name: string, value: number, op: '>=' | '<=', bound: number): Ratio {
  const ok = Number.isFinite(value) && (op === '>=' ? value >= bound : value <= bound);
  return { name, value, target: `${op} ${bound}`, met: ok };
}
