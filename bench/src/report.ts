import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ScenarioResult } from './types.ts';

export interface Machine {
  cores: number;
  memory_gb: number;
  cpu: string;
  node: string;
  postgres: string;
  postgres_source: 'embedded' | 'DATABASE_URL';
  platform: string;
}

export function describeMachine(postgres: string, embedded: boolean): Machine {
  return {
    cores: os.cpus().length,
    memory_gb: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    node: process.version,
    postgres,
    postgres_source: embedded ? 'embedded' : 'DATABASE_URL',
    platform: `${os.platform()}-${os.arch()}`,
  };
}

function fmt(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  return Math.abs(value) >= 1000 ? Math.round(value).toLocaleString('en-US') : String(value);
}

/** One plain-text table: a block per scenario with its figures, the peers' figures and the ratios. */
export function renderTable(results: readonly ScenarioResult[]): string {
  const lines: string[] = [];
  const row = (a: string, b: string, c = '') => lines.push(`  ${a.padEnd(46)} ${b.padStart(14)}  ${c}`);
  for (const r of results) {
    lines.push(`${r.name} — ${r.status}${r.reason ? `: ${r.reason}` : ''} (${r.seconds.toFixed(1)} s)`);
    for (const [k, v] of Object.entries(r.figures)) row(`tasklane ${k}`, fmt(v));
    for (const [peer, figures] of Object.entries(r.peers)) for (const [k, v] of Object.entries(figures)) row(`${peer} ${k}`, fmt(v));
    for (const q of r.ratios) row(`ratio ${q.name}`, fmt(q.value), `target ${q.target} ${q.met ? 'met' : 'NOT met'}`);
    for (const note of r.notes) lines.push(`  note: ${note}`);
    lines.push('');
  }
  return lines.join('\n');
}

export function writeResults(dir: string, payload: unknown): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'latest.json');
  writeFileSync(file, `${JSON.stringify(payload, null, 2)}\n`);
  return file;
}
