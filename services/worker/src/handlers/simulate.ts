import type { Task } from '@tasklane/core';
import { TaskError, type TaskContext } from '@tasklane/worker';

/** How one simulated generation service behaves. */
export interface Simulation {
  /** `video`, `image`: names the errors (`VideoGenerationError`) and the service messages. */
  label: string;
  defaultSeconds: number;
  /** Stage names by progress: each applies from its percent up to the next one's. */
  stages: readonly (readonly [fromPercent: number, name: string])[];
  result(task: Task): Record<string, string>;
}

/** Progress steps of 5%: content_policy fails right after reporting 35, as the seed's example shows. */
const STEPS = 20;
const CONTENT_POLICY_AT = 35;
const TRANSIENT_AT = 50;

interface SimulationInput {
  durationSeconds: number;
  fail: 'content_policy' | 'transient' | undefined;
}

function validationError(message: string): TaskError {
  return new TaskError({ type: 'ValidationError', message, retryable: false });
}

function readInput(task: Task, defaultSeconds: number): SimulationInput {
  const input = task.input;
  const fields = input !== null && typeof input === 'object' && !Array.isArray(input) ? input : {};
  const duration = 'duration_seconds' in fields ? fields.duration_seconds : defaultSeconds;
  if (typeof duration !== 'number' || !Number.isFinite(duration) || duration < 0) {
    throw validationError(`input.duration_seconds must be a number of seconds, 0 or more (got ${JSON.stringify(duration)})`);
  }
  const fail = 'fail' in fields ? fields.fail : undefined;
  if (fail !== undefined && fail !== 'content_policy' && fail !== 'transient') {
    throw validationError(`input.fail must be "content_policy" or "transient" (got ${JSON.stringify(fail)})`);
  }
  return { durationSeconds: duration, fail };
}

/** Waits, but gives up as soon as the task is cancelled, loses its lease or the worker stops. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function stageAt(simulation: Simulation, percent: number): string {
  let name = simulation.stages[0]?.[1] ?? 'Working';
  for (const [from, stage] of simulation.stages) if (percent >= from) name = stage;
  return name;
}

/**
 * Pretends to generate media: spends `input.duration_seconds` in steps, reporting progress with
 * a message per step, and fails on request (`input.fail`) so that clients can see every outcome.
 */
export async function simulate(simulation: Simulation, task: Task, ctx: TaskContext): Promise<Record<string, string>> {
  const { durationSeconds, fail } = readInput(task, simulation.defaultSeconds);
  const label = simulation.label[0]!.toUpperCase() + simulation.label.slice(1);
  const stepMs = (durationSeconds * 1000) / STEPS;
  for (let step = 1; step <= STEPS; step++) {
    await pause(stepMs, ctx.signal);
    const percent = (step * 100) / STEPS;
    if (percent === 100) break; // completing writes 100 itself
    ctx.progress(percent, `${stageAt(simulation, percent)} ${percent}%`);
    if (fail === 'content_policy' && percent >= CONTENT_POLICY_AT) {
      throw new TaskError({ type: `${label}GenerationError`, message: 'Content policy violation', retryable: false });
    }
    if (fail === 'transient' && percent >= TRANSIENT_AT) {
      throw new TaskError({
        type: 'ServiceUnavailable',
        message: `The ${simulation.label} service is temporarily unavailable`,
        retryable: true,
      });
    }
  }
  return simulation.result(task);
}
