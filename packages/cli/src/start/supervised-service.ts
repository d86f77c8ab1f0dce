import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from '@tasklane/log';

const MAX_RESTART_DELAY_MS = 10_000;

/** What a service tells the launcher over IPC (the API's `ApiStatusMessage`). */
export interface ServiceMessage {
  type: string;
  port?: number;
  reason?: string;
}

/**
 * One service process (API or worker), restarted when it crashes. It runs in the launcher's
 * process group, so that a kill -9 of the group ends it too, but it leaves SIGINT and SIGTERM to
 * the launcher, which stops the services in order over IPC: `stop`, then `stop-now` to hurry.
 */
export class SupervisedService {
  private child: ChildProcess | undefined;
  private restartDelayMs = 500;
  private stopping = false;

  constructor(
    readonly name: string,
    private readonly script: string,
    /** The tsx loader to run the TypeScript sources with. */
    private readonly tsx: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly log: Logger,
    /** How long a graceful stop may take before the process is killed: longer than its grace. */
    private readonly stopTimeoutMs: number,
    private readonly onMessage: (message: ServiceMessage) => void = () => {},
  ) {}

  start(): void {
    const child = spawn(process.execPath, ['--import', this.tsx, this.script], { env: this.env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child = child;
    const startedAt = Date.now();
    child.on('message', (message: ServiceMessage) => this.onMessage(message));
    child.on('exit', (code, signal) => {
      this.child = undefined;
      if (this.stopping) return;
      // A service that ran a while before failing gets a quick restart; one that keeps failing backs off.
      this.restartDelayMs = Date.now() - startedAt > 30_000 ? 500 : Math.min(this.restartDelayMs * 2, MAX_RESTART_DELAY_MS);
      this.log.warn({ name: this.name, code, signal, inMs: this.restartDelayMs }, 'service exited; restarting');
      setTimeout(() => !this.stopping && this.start(), this.restartDelayMs);
    });
  }

  /** Asks the service to stop gracefully and resolves once it has exited (killed after `stopTimeoutMs`). */
  stop(): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const killer = setTimeout(() => child.kill('SIGKILL'), this.stopTimeoutMs);
      child.once('exit', () => {
        clearTimeout(killer);
        resolve();
      });
      this.send({ type: 'stop' });
    });
  }

  /** The second Ctrl-C: no more grace (a worker releases its running tasks at once). */
  hurry(): void {
    this.stopping = true;
    this.send({ type: 'stop-now' });
  }

  kill(): void {
    this.stopping = true;
    this.child?.kill('SIGKILL');
  }

  private send(message: { type: 'stop' | 'stop-now' }): void {
    const child = this.child;
    if (!child?.connected) {
      child?.kill('SIGTERM');
      return;
    }
    child.send(message, (error) => error && child.kill('SIGTERM'));
  }
}
