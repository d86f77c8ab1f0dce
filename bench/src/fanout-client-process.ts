import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FromClients, ToClients } from './fanout-clients.ts';

const CLIENTS_MAIN = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fanout-clients.ts');

/** One subscriber child process and a way to ask it something and wait for the answer. */
export class ClientProcess {
  private readonly child: ChildProcess;
  private readonly waiting: ((message: FromClients) => void)[] = [];
  private exited: string | undefined;

  constructor() {
    this.child = fork(CLIENTS_MAIN, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    this.child.on('message', (message: FromClients) => this.waiting.shift()?.(message));
    this.child.on('exit', (code) => {
      this.exited = `subscriber process exited with ${code}`;
      for (const resolve of this.waiting.splice(0)) resolve({ type: 'closed' });
    });
  }

  ask<T extends FromClients['type']>(message: ToClients, answer: T): Promise<Extract<FromClients, { type: T }>> {
    if (this.exited) return Promise.reject(new Error(this.exited));
    return new Promise((resolve, reject) => {
      this.waiting.push((reply) => (reply.type === answer ? resolve(reply as Extract<FromClients, { type: T }>) : reject(new Error(this.exited ?? `expected ${answer}, got ${reply.type}`))));
      this.child.send(message);
    });
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}
