import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { environmentReader, type EnvironmentReader } from '../../platform/environment';
import { onCleanup } from './cleanup';

/** A file holding `content`, named `name`, in a folder removed after the file's tests: what a `<NAME>_FILE` variable points at. */
export function fileHolding(content: string | Buffer, name = 'value'): string {
  const dir = mkdtempSync(join(tmpdir(), 'environment-file-'));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** What `read` makes of `env`, and every problem the reader collected on the way. */
export function readingWith<T>(env: NodeJS.ProcessEnv, read: (reader: EnvironmentReader) => T): { connection: T; problems: string[] } {
  const reader = environmentReader(env);
  const connection = read(reader);
  return { connection, problems: reader.problems };
}
