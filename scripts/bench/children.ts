import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { startProjectProcess } from '../harness/project-process';

export interface BenchChild {
  /** The node process itself (no wrapper), for its CPU time in /proc. */
  readonly pid: number | undefined;
  readonly firstLine: Promise<string>;
  /** Peak resident memory so far (VmHWM), in MiB. */
  peakRssMiB(): number;
  stop(): Promise<void>;
}

/** A TypeScript entry point of the project in its own process, so its CPU and memory are its own. */
export function startScript(script: string, env: NodeJS.ProcessEnv): BenchChild {
  // BENCH_CPU_PROFILE=<dir>: each child writes a V8 CPU profile there when it exits.
  const profileDir = process.env.BENCH_CPU_PROFILE;
  const started = startProjectProcess(script, env, profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []);
  const { child } = started;
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr = (stderr + chunk).slice(-4000)));
  const firstLine = new Promise<string>((resolveLine, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolveLine);
    void started.exited.then((code) => reject(new Error(`${script} exited with ${code}: ${stderr}`)));
  });
  firstLine.catch(() => undefined);
  // Keep reading so a chatty child never blocks on a full pipe.
  child.stdout!.resume();
  return {
    pid: child.pid,
    firstLine,
    peakRssMiB: () => started.memoryMiB('peak'),
    stop: () => started.stop(15_000),
  };
}

export async function waitReady(url: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(url);
      await response.arrayBuffer();
      if (response.status === 200) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${url} not ready within ${timeoutMs} ms`);
    await sleep(200);
  }
}
