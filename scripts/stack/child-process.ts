import { createInterface } from 'node:readline';
import { startProjectProcess } from '../harness/project-process';

/** A service of the stack, its output prefixed with its name so the two logs can be told apart. */
export interface StackChild {
  readonly name: string;
  readonly exited: Promise<number | null>;
  stop(graceMs?: number): Promise<void>;
}

const COLORS: Record<string, string> = { receiver: '\x1b[36m', processor: '\x1b[35m' };

export function startChild(name: string, script: string, options: { env: NodeJS.ProcessEnv; color: boolean }): StackChild {
  const started = startProjectProcess(script, options.env);
  const prefix = options.color && COLORS[name] ? `${COLORS[name]}[${name}]\x1b[0m ` : `[${name}] `;
  for (const stream of [started.child.stdout!, started.child.stderr!]) {
    createInterface({ input: stream }).on('line', (line) => process.stdout.write(`${prefix}${line}\n`));
  }
  return { name, exited: started.exited, stop: (graceMs = 15_000) => started.stop(graceMs) };
}
