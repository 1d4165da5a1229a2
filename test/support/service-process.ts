import { setTimeout as sleep } from 'node:timers/promises';
import { startProjectProcess, type ProjectProcess } from '../../scripts/harness/project-process';
import { onCleanup } from './cleanup';

/** The receiver or the processor as a real process of its own, that a test can kill -9. */
export interface ServiceProcess {
  readonly name: string;
  start(): Promise<void>;
  /** kill -9: no shutdown hook runs, as in a crash or an OOM kill. */
  kill(): Promise<void>;
  stop(): Promise<void>;
  rssMiB(): number;
  output(): string;
}

export function serviceProcess(name: 'receiver' | 'processor', env: NodeJS.ProcessEnv, readyUrl: string): ServiceProcess {
  let running: ProjectProcess | undefined;
  let output = '';
  const handle: ServiceProcess = {
    name,
    async start() {
      const started = startProjectProcess(`${name}/main.ts`, { PATH: process.env.PATH, ...env });
      running = started;
      started.child.stdout!.on('data', (chunk) => (output = (output + chunk).slice(-20_000)));
      started.child.stderr!.on('data', (chunk) => (output = (output + chunk).slice(-20_000)));
      const deadline = Date.now() + 60_000;
      for (;;) {
        if (started.hasExited()) throw new Error(`${name} exited (${started.child.signalCode ?? `code ${started.child.exitCode}`}): ${output.slice(-2000)}`);
        const ready = await fetch(readyUrl).then((response) => response.status === 200, () => false);
        if (ready) return;
        if (Date.now() > deadline) throw new Error(`${name} not ready in 60 s: ${output.slice(-2000)}`);
        await sleep(100);
      }
    },
    kill: async () => running?.kill(),
    stop: async () => running?.stop(20_000),
    rssMiB: () => running?.memoryMiB('now') ?? 0,
    output: () => output,
  };
  onCleanup(() => handle.kill());
  return handle;
}
