import { logFile, runningProcess, type ManagedProcess } from './processes';
import type { ServiceSettings } from './settings';
import { waitUntil } from './wait-until';

/**
 * `started`: by this call. `running`: by this clone earlier. `external`: something else answers
 * on the port, and is used and left alone.
 */
export type StartResult = 'started' | 'running' | 'external';

/**
 * Starts a native service unless it already answers: one this clone started is waited for,
 * anything else answering is used as it is. A launched service must answer before
 * `startTimeoutMs`, and a start fails at once if its process exits first.
 */
export async function startService(options: {
  settings: ServiceSettings;
  /** Its pid file's name. */
  name: string;
  /** How errors name it. */
  what: string;
  answers: () => Promise<unknown>;
  launch: () => ManagedProcess | Promise<ManagedProcess>;
  /** The ports it needs, for the error when it does not answer. */
  ports: readonly number[];
}): Promise<StartResult> {
  const { settings, name, what, answers } = options;
  if (runningProcess(settings.stateDir, name)) {
    await waitUntil(what, answers, { timeoutMs: settings.startTimeoutMs });
    return 'running';
  }
  if (await answers().then(() => true, () => false)) return 'external';

  const started = await options.launch();
  await waitUntil(what, answers, {
    timeoutMs: settings.startTimeoutMs,
    alive: () => runningProcess(settings.stateDir, name)?.pid === started.pid,
    hint: `See ${logFile(settings.stateDir, name)}; is port ${options.ports.join(' or ')} taken?`,
  });
  return 'started';
}
